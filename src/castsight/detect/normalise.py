"""The learned detector's input: attenuation minus its local background, in noise sigmas.

Two channels: the residual against a fine background (Gaussian sigma
``FINE_SIGMA_PX``: small defects stand out, structure edges are thin lines)
and against a coarse one (``BACKGROUND_SIGMA_PX``: defects up to a few tens
of pixels stay whole).

One function, shared by training (:mod:`castsight.learn`) and inference
(:mod:`castsight.detect.learned`), so both see exactly the same numbers. It is
chosen to carry over to radiographs the model never saw:

* **intensity scale** (gain, exposure) is an additive constant in attenuation
  and goes with the background;
* **contrast scale** (gamma, spectra, wall thickness) multiplies residual and
  noise alike and cancels in their ratio;
* **noise level and bit depth** are measured on the image itself: the local
  robust spread of the fine residual (the first channel), so an 8-bit image,
  a 16-bit image, a noisier one and one whose noise the detector blurs all
  come out in units of their own noise (a pixel-to-neighbour estimate missed
  blurred noise by 3x on the simulator's images, and the network then saw
  "noise" at 3 sigma everywhere and learned nothing);
* large values (structure edges, strong defects) are compressed with
  ``asinh``: linear within a few sigma, logarithmic beyond.

The coarse background is computed on a 4x smaller image (speed).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> a = rng.normal(1.0, 0.01, (128, 128)).astype(np.float32)
>>> x = normalise(a)
>>> x.dtype.name, x.shape, round(float(x[1].std()), 1)
('float32', (2, 128, 128), 1.0)
>>> y = normalise(3.0 * a + 7.0)              # scale and offset do not matter
>>> float(np.abs(x - y).max()) < 1e-3
True
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

NORMALISATION = "residual-over-local-noise/3"
"""Name and version of this normalisation, recorded in every learned model."""
BACKGROUND_SIGMA_PX = 12.0
"""Gaussian sigma of the coarse local background (full-resolution pixels)."""
FINE_SIGMA_PX = 3.0
"""Gaussian sigma of the fine local background."""
CHANNELS = 2
NOISE_BLOCK_PX = 32
"""Side of the blocks the local noise is measured in."""
COMPRESS = 4.0
"""Values are ``COMPRESS * asinh(z / COMPRESS)``: linear for |z| up to a few sigma."""
_MEAN_ABS = float(np.sqrt(np.pi / 2.0))
"""Std over mean absolute deviation, for Gaussian noise."""


def background(
    a: NDArray[np.float32], sigma_px: float = BACKGROUND_SIGMA_PX
) -> NDArray[np.float32]:
    """Smooth local background of ``a`` (Gaussian, computed at quarter resolution)."""
    rows, cols = a.shape
    f = 4 if min(rows, cols) >= 64 else 1
    small = cv2.resize(a, (max(cols // f, 1), max(rows // f, 1)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma_px / f, borderType=cv2.BORDER_REFLECT)
    return np.asarray(cv2.resize(small, (cols, rows), interpolation=cv2.INTER_LINEAR), np.float32)


def local_noise(a: NDArray[np.float32], block_px: int = NOISE_BLOCK_PX) -> NDArray[np.float32]:
    """Per-pixel noise std of ``a``, measured on the image: robust, edges barely count.

    The spread of the fine residual ``a - gaussian(a, FINE_SIGMA_PX)``, which
    holds the noise (white or correlated by the detector's blur alike) and only
    a thin line at edges: its mean absolute value per block, recomputed with
    values beyond 3 estimated sigmas clipped, then a 3 x 3 block median.
    """
    rows, cols = a.shape
    fine = np.abs(a - cv2.GaussianBlur(a, (0, 0), FINE_SIGMA_PX, borderType=cv2.BORDER_REFLECT))
    size = (max(cols // block_px, 1), max(rows // block_px, 1))
    est = cv2.resize(fine, size, interpolation=cv2.INTER_AREA)
    for _ in range(2):  # clip what edges and impulses add, then measure again
        big = cv2.resize(est, (cols, rows), interpolation=cv2.INTER_LINEAR)
        est = cv2.resize(np.minimum(fine, 3.0 * big), size, interpolation=cv2.INTER_AREA)
    est = cv2.medianBlur(est, 3) if min(size) >= 3 else est
    floor = max(float(np.median(est)) * 0.1, 1e-7)
    sigma = np.maximum(est, floor) * _MEAN_ABS
    return np.asarray(cv2.resize(sigma, (cols, rows), interpolation=cv2.INTER_LINEAR), np.float32)


def residual(a: NDArray[Any]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """``(a - background, local noise)`` of an attenuation image (float32)."""
    a32 = np.ascontiguousarray(a, dtype=np.float32)
    return a32 - background(a32), local_noise(a32)


def normalise(a: NDArray[Any]) -> NDArray[np.float32]:
    """The learned detector's input (``CHANNELS`` x H x W) for attenuation ``a``."""
    a32 = np.ascontiguousarray(a, dtype=np.float32)
    noise = local_noise(a32)
    fine = cv2.GaussianBlur(a32, (0, 0), FINE_SIGMA_PX, borderType=cv2.BORDER_REFLECT)
    z = np.stack([(a32 - fine) / noise, (a32 - background(a32)) / noise])
    return np.asarray(COMPRESS * np.arcsinh(z / COMPRESS), np.float32)
