"""Helpers for the measure tests: deviations cut into indications the detector's way."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from castsight.detect.base import Indication, Profile

PSF = 0.6
SMOOTH = 1.0
FRACTION = 0.25


def indication_of(raw: NDArray[np.float32]) -> Indication:
    """The indication a detector cuts from the deviation ``raw`` (less material positive,
    its peak well inside): smoothed, footprint at :data:`FRACTION` of the peak, and the
    unsmoothed deviation around it as its profile."""
    smooth = cv2.GaussianBlur(raw, (5, 5), SMOOTH)
    peak = float(smooth.max())
    mask = smooth >= FRACTION * peak
    _, labels = cv2.connectedComponents(mask.astype(np.uint8))
    centre_label = labels[np.unravel_index(int(np.argmax(smooth)), smooth.shape)]
    mask = labels == centre_label
    ys, xs = np.nonzero(mask)
    x, y = int(xs.min()), int(ys.min())
    w, h = int(xs.max()) - x + 1, int(ys.max()) - y + 1
    m = 3
    patch = raw[y - m : y + h + m, x - m : x + w + m]
    profile = Profile(patch, (x - m, y - m), SMOOTH, FRACTION)
    return Indication((x, y, w, h), mask[y : y + h, x : x + w], 1, peak, 20.0, "reference",
                      profile=profile)  # fmt: skip
