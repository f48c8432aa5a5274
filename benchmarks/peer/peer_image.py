"""What the peer sees: castsight's prepared attenuation as a 3-channel 8-bit image.

Both the training-set conversion (``yolo_data``) and the ONNX detector
(``onnx_detector``) call :func:`prepared_channels`, so the peer is trained and
run on exactly the same pixels, made from what castsight's own detectors get
(``castsight.preprocess.prepare``: dark/flat, bad pixels, log domain, part
mask, per-pixel noise). The 16-to-8-bit conversion is explicit and lives only
here. The channels, in the network's order:

0. the attenuation windowed over the part (:func:`window_u8`);
1. fine local contrast: attenuation minus a Gaussian background (sigma 3 px)
   in noise sigmas, +-8 sigma over 0..255;
2. coarse local contrast: the same with sigma 10 px, +-16 sigma.

A global window alone leaves a few grey levels to a 4 % defect on a casting
whose ribs and bosses span the whole range (a first run on it learned
nothing); the contrast channels are the generic remedy (unsharp masking), not
castsight's detector.

>>> import numpy as np
>>> att = np.linspace(0.0, 2.0, 100, dtype=np.float32).reshape(10, 10)
>>> mask = np.zeros((10, 10), bool); mask[2:8] = True
>>> u8 = window_u8(att, mask)
>>> u8.dtype, int(u8[2, 0] <= 2), int(u8[7, 9] >= 253), int(u8[0, 0]), int(u8[9, 9])
(dtype('uint8'), 1, 1, 0, 255)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

WINDOW_PERCENTILES = (0.5, 99.5)
"""Part attenuation percentiles mapped to 0 and 255."""


def window_u8(attenuation: NDArray[np.floating], mask: NDArray[np.bool_]) -> NDArray[np.uint8]:
    """Window ``attenuation`` over the part's pixels (``mask``) to 0..255 uint8."""
    a = np.asarray(attenuation, np.float32)
    sample = a[::2, ::2][mask[::2, ::2]]
    if sample.size < 16:
        sample = a.ravel()
    lo, hi = np.percentile(sample, WINDOW_PERCENTILES)
    if not hi > lo:
        hi = lo + 1e-3
    scaled = (a - np.float32(lo)) * np.float32(255.0 / (hi - lo))
    return np.clip(scaled + 0.5, 0, 255).astype(np.uint8)


CONTRAST_CHANNELS = ((3.0, 8.0), (10.0, 16.0))
"""(Gaussian sigma px, sigmas of noise mapped to +-127) for channels 1 and 2."""


def contrast_u8(
    attenuation: NDArray[np.floating], noise_std: NDArray[np.floating], sigma: float, span: float
) -> NDArray[np.uint8]:
    """Attenuation minus its Gaussian background, in noise sigmas, +-``span`` over 0..255."""
    import cv2

    a = np.asarray(attenuation, np.float32)
    d = (a - cv2.GaussianBlur(a, (0, 0), sigma)) / np.maximum(noise_std, 1e-6).astype(np.float32)
    return np.clip(d * np.float32(127.5 / span) + 128.0, 0, 255).astype(np.uint8)


def channels_u8(
    attenuation: NDArray[np.floating], mask: NDArray[np.bool_], noise_std: NDArray[np.floating]
) -> NDArray[np.uint8]:
    """``rows x cols x 3`` uint8 in the network's channel order (see the module docstring)."""
    planes = [window_u8(attenuation, mask)]
    planes += [contrast_u8(attenuation, noise_std, s, k) for s, k in CONTRAST_CHANNELS]
    return np.stack(planes, axis=-1)


def prepared_channels(prep: object) -> NDArray[np.uint8]:
    """:func:`channels_u8` of a ``castsight.preprocess.prepare.PreparedImage``."""
    return channels_u8(prep.attenuation, prep.mask, prep.noise_std)  # type: ignore[attr-defined]
