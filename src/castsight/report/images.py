"""PNG assets for the HTML report: 16-bit views packed into RGB, and 8-bit crops.

A browser decodes PNGs to 8 bits per channel, so a 16-bit view is stored with
its high byte in R and its low byte in G (B is 0); the report's script
rebuilds ``value = R * 256 + G`` and applies window/level itself.

>>> import numpy as np, cv2
>>> pixels = np.array([[0, 1000], [40000, 65535]], np.uint16)
>>> view, sx, sy = display_image(pixels, max_side=8)
>>> bgr = cv2.imdecode(np.frombuffer(encode_packed16(view), np.uint8), cv2.IMREAD_COLOR)
>>> decode_packed16(bgr).tolist()
[[0, 1000], [40000, 65535]]
>>> crop_window((100, 100), [10, 20, 5, 5], side=64)
(0, 0, 64, 64)
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

CROP_SIDE = 64
"""Side of the full-resolution crop around an indication, in pixels."""


def to_16bit_scale(pixels: NDArray[Any]) -> NDArray[np.float32]:
    """Pixels as float32 on the 0..65535 scale of a 16-bit image.

    uint16 is kept as is, uint8 is scaled by 257 (255 -> 65535), anything else
    (float32) has its finite min..max mapped to 0..65535; non-finite values -> 0.
    """
    if pixels.dtype == np.uint16:
        return pixels.astype(np.float32)
    if pixels.dtype == np.uint8:
        return pixels.astype(np.float32) * np.float32(257.0)
    values = pixels.astype(np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros(pixels.shape, np.float32)
    lo, hi = float(values[finite].min()), float(values[finite].max())
    span = hi - lo if hi > lo else 1.0
    scaled = np.where(finite, (values - lo) * (65535.0 / span), 0.0)
    return np.clip(scaled, 0.0, 65535.0).astype(np.float32)


def display_image(pixels: NDArray[Any], max_side: int) -> tuple[NDArray[np.uint16], float, float]:
    """16-bit display image whose longer side is at most ``max_side``.

    Downscaling averages areas (``cv2.INTER_AREA``). Returns the image and the
    x and y scale factors from original to display pixels.
    """
    if max_side < 1:
        raise ValueError(f"max_side must be at least 1, got {max_side}")
    rows, cols = pixels.shape
    scaled = to_16bit_scale(pixels)
    factor = min(1.0, max_side / max(rows, cols))
    new_cols, new_rows = max(1, round(cols * factor)), max(1, round(rows * factor))
    if (new_rows, new_cols) != (rows, cols):
        resized = cv2.resize(scaled, (new_cols, new_rows), interpolation=cv2.INTER_AREA)
        scaled = np.asarray(resized, np.float32)
    view = np.clip(np.rint(scaled), 0, 65535).astype(np.uint16)
    return view, new_cols / cols, new_rows / rows


def encode_packed16(view: NDArray[np.uint16]) -> bytes:
    """PNG bytes of a 16-bit image packed as R = high byte, G = low byte, B = 0."""
    bgr = np.zeros((*view.shape, 3), np.uint8)
    bgr[..., 2] = (view >> 8).astype(np.uint8)
    bgr[..., 1] = (view & 0xFF).astype(np.uint8)
    return _encode_png(bgr)


def decode_packed16(bgr: NDArray[np.uint8]) -> NDArray[np.uint16]:
    """Inverse of :func:`encode_packed16` for an image decoded by OpenCV (BGR order)."""
    return (bgr[..., 2].astype(np.uint16) * 256 + bgr[..., 1]).astype(np.uint16)


def percentile_window(values: NDArray[Any], low: float, high: float) -> tuple[float, float]:
    """The ``low``-th and ``high``-th percentiles of the finite values, with hi > lo."""
    finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = (float(v) for v in np.percentile(finite, [low, high]))
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def crop_window(
    shape: tuple[int, int], bbox: Sequence[float], side: int = CROP_SIDE
) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)`` of a ``side`` x ``side`` crop centred on a COCO bbox.

    The crop is shifted (not shrunk) to stay inside the image; it is smaller
    only when the image itself is smaller than ``side``.
    """
    rows, cols = shape
    x, y, w, h = (float(v) for v in bbox[:4])
    cx, cy = x + w / 2.0, y + h / 2.0
    width, height = min(side, cols), min(side, rows)
    x0 = int(np.clip(round(cx - width / 2.0), 0, cols - width))
    y0 = int(np.clip(round(cy - height / 2.0), 0, rows - height))
    return x0, y0, x0 + width, y0 + height


def encode_crop(
    pixels: NDArray[Any], bbox: Sequence[float], side: int = CROP_SIDE
) -> tuple[bytes, tuple[int, int, int, int]]:
    """8-bit grey PNG of the full-resolution crop around ``bbox`` and its window.

    The crop is windowed by its own 1st..99.9th percentiles.
    """
    x0, y0, x1, y1 = crop_window((int(pixels.shape[0]), int(pixels.shape[1])), bbox, side)
    crop = pixels[y0:y1, x0:x1].astype(np.float64)
    lo, hi = percentile_window(crop, 1.0, 99.9)
    grey = np.clip((np.nan_to_num(crop, nan=lo) - lo) * (255.0 / (hi - lo)), 0.0, 255.0)
    return _encode_png(np.rint(grey).astype(np.uint8)), (x0, y0, x1, y1)


def data_url_script(key: str, png: bytes) -> bytes:
    """A ``.js`` sidecar that hands ``png`` as a data URL to ``castsightView(key, url)``.

    Browsers refuse to read back the pixels of a ``file://`` image drawn in a
    canvas, so a report opened from disk loads this script instead of the PNG.
    """
    url = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return f"castsightView({json.dumps(key)}, {json.dumps(url)});\n".encode("ascii")


def _encode_png(image: NDArray[np.uint8]) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    if not ok:  # pragma: no cover - OpenCV only fails on impossible shapes
        raise ValueError(f"cannot encode a PNG of shape {image.shape}")
    return bytes(buf.tobytes())
