"""What the peer sees: castsight's prepared attenuation, windowed over the part to 8 bits.

Both the training-set conversion (``yolo_data``) and the ONNX detector
(``onnx_detector``) call :func:`window_u8`, so the peer is trained and run on
exactly the same pixels, and those are the pixels castsight's own detectors
get (``castsight.preprocess.prepare``: dark/flat, bad pixels, log domain,
part mask). The 16-to-8-bit conversion is explicit and lives only here.

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


def prepared_u8(prep: object) -> NDArray[np.uint8]:
    """:func:`window_u8` of a ``castsight.preprocess.prepare.PreparedImage``."""
    return window_u8(prep.attenuation, prep.mask)  # type: ignore[attr-defined]
