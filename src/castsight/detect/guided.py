"""The ``guided`` detector: a small CNN reads the ``reference`` comparison, not the raw image.

The ``reference`` detector tests each pixel on its own: ``z = deviation / scale``.
Where good parts vary (ribs, bosses and nodes seen at a slightly different
tilt: the fixturing error rigid registration cannot undo), ``scale`` is 10-40
times the noise, and a pore sitting there has a small ``z`` although its
deviation is an obvious round dip. The variation there has a shape (thin
lines along the structure's edges, of either sign) that a defect does not (a
compact blob). A network that sees the deviation, its ``z`` and the image's
own fine structure around each pixel can tell the two apart, which a
per-pixel test cannot.

:func:`guided_input` makes its input (``CHANNELS`` x H x W), the same in
training (:mod:`castsight.learn.comparisons`) and here:

1. the image's fine residual over its local noise (as the ``learned``
   detector sees it: where the edges are);
2. the smoothed deviation from the registered reference over the local noise
   (how large the change is, in units a new image brings with it);
3. ``z``, the deviation over the learned spread (how unusual it is here);
4. +1 where the reference judges the pixel, -1 where it does not.

Channels 1-3 are compressed like the ``learned`` input (``COMPRESS * asinh(v /
COMPRESS)``); where nothing is judged, 2-3 hold the mean of the judged values
within a few pixels (so an unjudged bad pixel is no hole), or zero.

:class:`GuidedDetector` reports the ``reference`` detector's own indications
(its calibrated test stays in force) and adds the network's indications that
none of them touches: the network can only add what the per-pixel test missed.
Each added indication is sized like the reference's own: its footprint is
grown to where the deviation reaches a quarter of its peak.

>>> import numpy as np
>>> a = np.random.default_rng(0).normal(1.0, 0.01, (64, 64)).astype(np.float32)
>>> dev, scale = np.zeros_like(a), np.full_like(a, 0.005)
>>> valid = np.ones(a.shape, bool)
>>> x = guided_input(a, dev, scale, valid)
>>> x.shape, float(x[3].min())
((4, 64, 64), 1.0)
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from castsight.detect.base import Indication, Judged
from castsight.detect.learned import LearnedDetector
from castsight.detect.normalise import COMPRESS, FINE_SIGMA_PX, local_noise
from castsight.detect.reference import (
    FOOTPRINT_FRACTION,
    GROW_PX,
    ReferenceDetector,
    ReferenceScore,
    Registration,
)
from castsight.errors import InputError
from castsight.preprocess.prepare import PreparedImage

F32 = NDArray[np.float32]
CHANNELS = 4
GUIDED_NORMALISATION = "guided-reference-deviation/1"
"""Name and version of :func:`guided_input`, recorded in every guided model."""


def guided_input(
    attenuation: NDArray[Any], deviation: F32, scale: F32, valid: NDArray[np.bool_]
) -> F32:
    """The guided network's input for one image and its reference comparison."""
    a = np.ascontiguousarray(attenuation, np.float32)
    noise = local_noise(a)
    fine = a - cv2.GaussianBlur(a, (0, 0), FINE_SIGMA_PX, borderType=cv2.BORDER_REFLECT)
    z = np.asarray(deviation / np.maximum(scale, np.float32(1e-12)), np.float32)
    x = np.stack([fine / noise, _filled(deviation, valid) / noise, _filled(z, valid)])
    out = np.empty((CHANNELS, *a.shape), np.float32)
    out[:3] = COMPRESS * np.arcsinh(x / COMPRESS)
    out[3] = np.where(valid, np.float32(1.0), np.float32(-1.0))
    return out


def _filled(v: F32, valid: NDArray[np.bool_]) -> F32:
    """``v`` where valid; elsewhere the mean of the valid values nearby (Gaussian, 1 px), or 0.

    Single pixels the reference does not judge (the detector's bad pixels) would
    otherwise be holes in the deviation: a pore-like dot inside every strong
    deviation they fall on."""
    w = valid.astype(np.float32)
    num = cv2.GaussianBlur(np.where(valid, v, np.float32(0.0)), (0, 0), 1.0)
    den = cv2.GaussianBlur(w, (0, 0), 1.0)
    fill = np.where(den > 0.05, num / np.maximum(den, np.float32(0.05)), np.float32(0.0))
    return np.asarray(np.where(valid, v, fill), np.float32)


def _footprint(ind: Indication, deviation: F32, valid: NDArray[np.bool_]) -> Indication:
    """The network's region grown to where the deviation reaches a quarter of its peak
    (``FOOTPRINT_FRACTION``, within ``GROW_PX``), as the reference sizes its own: the
    network is surest of a defect's core, and a defect measured by its core alone could
    pass a size limit it fails."""
    if ind.depth <= 0:
        return ind
    x, y, w, h = ind.bbox
    rows, cols = deviation.shape
    y0, x0 = max(y - GROW_PX, 0), max(x - GROW_PX, 0)
    y1, x1 = min(y + h + GROW_PX, rows), min(x + w + GROW_PX, cols)
    side = -ind.polarity * deviation[y0:y1, x0:x1]
    level = np.float32(FOOTPRINT_FRACTION * ind.depth)
    support = ((side >= level) & valid[y0:y1, x0:x1]).astype(np.uint8)
    seed = np.zeros(support.shape, bool)
    seed[y - y0 : y - y0 + h, x - x0 : x - x0 + w] = ind.mask
    _, labels = cv2.connectedComponents(support, connectivity=8)
    grown = np.isin(labels, np.unique(labels[seed & (support > 0)])) & (labels > 0)
    grown |= seed
    ys, xs = np.nonzero(grown)
    top, left = int(ys.min()), int(xs.min())
    mask = grown[top : int(ys.max()) + 1, left : int(xs.max()) + 1]
    return replace(ind, bbox=(x0 + left, y0 + top, mask.shape[1], mask.shape[0]), mask=mask)


def boxes_touch(a: Indication, b: Indication) -> bool:
    """Do the bounding boxes of two indications touch or overlap?"""
    ax, ay, aw, ah = a.bbox
    bx, by, bw, bh = b.bbox
    return ax <= bx + bw and bx <= ax + aw and ay <= by + bh and by <= ay + ah


class GuidedDetector:
    """The ``reference`` detector plus a network reading its comparison; see the module."""

    name = "guided"

    def __init__(self, reference: ReferenceDetector, network: LearnedDetector) -> None:
        if network.settings.normalisation != GUIDED_NORMALISATION:
            made = network.settings.normalisation
            raise InputError(None, f"network reads {made!r} input, not {GUIDED_NORMALISATION!r}")
        self.reference, self.network = reference, network

    @property
    def views(self) -> tuple[str, ...]:
        """View names the reference knows."""
        return self.reference.views

    def detect(self, image: PreparedImage) -> list[Indication]:
        """Indications of one view whose name the reference knows."""
        return self.detect_judged(image)[0]

    def match_registered(
        self, image: PreparedImage
    ) -> tuple[str | None, float, Registration | None]:
        """:meth:`ReferenceDetector.match_registered` (images of views not named alike)."""
        return self.reference.match_registered(image)

    def detect_judged(
        self,
        image: PreparedImage,
        view: str | None = None,
        registration: Registration | None = None,
    ) -> Judged:
        """:meth:`ReferenceDetector.detect_judged`, with the network's additions."""
        score = self.reference.zscore(image, view, registration)
        return self.reference.judged(image, score, self.judge(image, score))

    def judge(self, image: PreparedImage, score: ReferenceScore) -> list[Indication]:
        """The reference's indications of ``score`` and the network's that touch none."""
        found = self.reference.indications(image, score)
        prob = self.network.probability(
            guided_input(image.attenuation, score.deviation, score.scale, score.valid)
        )
        extra = [
            _footprint(replace(ind, detector=self.name), score.deviation, score.valid)
            for ind in self.network.indications(prob, score.deviation, score.valid)
            if not any(boxes_touch(ind, f) for f in found)
        ]
        return sorted(found + extra, key=lambda ind: -ind.significance)
