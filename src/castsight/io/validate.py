"""Checks every decoded pixel array passes before it becomes a Radiograph.

One place decides what castsight accepts, so every reader refuses the same
things with the same words: empty or tiny images, colour or 3-D arrays
(unless conversion to grey is asked for), unsupported pixel types,
non-finite floats, and images over the pixel limit (decompression bombs).

>>> import numpy as np
>>> check_pixels(np.zeros((16, 16), np.uint16), "a.tif").dtype.name
'uint16'
>>> check_pixels(np.zeros((1, 1), np.uint8), "b.png")
Traceback (most recent call last):
...
castsight.errors.ImageContentError: b.png: image is 1 x 1 pixels; a radiograph needs at least 8 x 8
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from castsight.errors import ImageContentError
from castsight.radiograph import SUPPORTED_DTYPES

DEFAULT_MAX_PIXELS = 1 << 27
"""Largest image read by default (134 Mpx, 256 MiB as uint16): a decompression-bomb guard."""

MIN_SIDE = 8
"""Smallest accepted side in pixels: anything smaller cannot be a radiograph."""


def check_size(rows: int, cols: int, source: str | Path, max_pixels: int) -> None:
    """Refuse a declared image size before decoding it (cheap bomb guard)."""
    if rows <= 0 or cols <= 0:
        raise ImageContentError(source, f"image is empty ({rows} x {cols} pixels)")
    if rows * cols > max_pixels:
        raise ImageContentError(
            source,
            f"image is {rows} x {cols} = {rows * cols} pixels, over the limit of {max_pixels} "
            "(raise it with --max-pixels if the file is trusted)",
        )


def check_pixels(
    pixels: NDArray[Any],
    source: str | Path,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    to_gray: bool = False,
) -> NDArray[Any]:
    """Return ``pixels`` as a valid 2-D radiograph array or raise ImageContentError.

    Grey stored as RGB(A) (three equal channels, any alpha opaque) is read as
    its one channel: nothing is lost. With ``to_gray`` a colour image is
    converted to grey by ITU-R BT.601 luma in its own dtype; without it, colour
    is refused with an explanation.
    """
    arr = np.asarray(pixels)
    if arr.ndim == 3 and arr.shape[-1] in (3, 4) and _grey_as_colour(arr):
        arr = arr[..., 0]
    elif arr.ndim == 3 and arr.shape[-1] in (3, 4):
        if not to_gray:
            raise ImageContentError(
                source,
                f"colour image ({arr.shape[-1]} channels, shape {arr.shape}); radiographs are "
                "single-channel: convert it with --gray (luma) if that is what you want",
            )
        arr = _luma(arr)
    elif arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim != 2:
        raise ImageContentError(
            source,
            f"array of shape {arr.shape} is not a 2-D image (a stack or volume?); "
            "castsight reads single radiographs: split it into one file per view",
        )
    rows, cols = arr.shape
    check_size(rows, cols, source, max_pixels)
    if min(rows, cols) < MIN_SIDE:
        raise ImageContentError(
            source,
            f"image is {rows} x {cols} pixels; a radiograph needs at least {MIN_SIDE} x {MIN_SIDE}",
        )
    if arr.dtype not in SUPPORTED_DTYPES:
        raise ImageContentError(
            source,
            f"unsupported pixel type {arr.dtype} ({arr.dtype.itemsize * 8}-bit); "
            "castsight reads uint8, uint16 and float32 radiographs",
        )
    if arr.dtype.kind == "f":
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        if bad:
            raise ImageContentError(source, f"{bad} pixel(s) are NaN or infinite")
    return arr


def _grey_as_colour(arr: NDArray[Any]) -> bool:
    """Three equal colour channels and, if there is one, an alpha that is all opaque."""
    same = bool(
        np.array_equal(arr[..., 0], arr[..., 1]) and np.array_equal(arr[..., 0], arr[..., 2])
    )
    if not same or arr.shape[-1] == 3:
        return same
    opaque = np.iinfo(arr.dtype).max if arr.dtype.kind in "ui" else 1.0
    return bool((arr[..., 3] == opaque).all())


def _luma(rgb: NDArray[Any]) -> NDArray[Any]:
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float64)
    grey = rgb[..., :3].astype(np.float64) @ weights
    if rgb.dtype.kind == "f":
        return grey.astype(rgb.dtype)
    return np.clip(np.rint(grey), 0, np.iinfo(rgb.dtype).max).astype(rgb.dtype)
