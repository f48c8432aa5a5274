"""Explicit pixel-type conversion: lossless when it can be, refused when it would lose.

Widening (uint8 -> uint16 -> float32) keeps every value. Narrowing keeps the
values when all of them fit exactly; otherwise it is lossy and needs both
``allow_lossy=True`` and an explicit intensity ``window`` (lo, hi) mapped
linearly onto the target's full range. Nothing is ever rescaled silently.

>>> import numpy as np
>>> from castsight.radiograph import Radiograph
>>> r = Radiograph(np.array([[0, 1000], [30000, 65535]] * 4, np.uint16).reshape(8, 2).repeat(4, 1))
>>> try:
...     convert_dtype(r, "uint8")
... except ConversionError as err:
...     print(err.reason[:37])
uint16 -> uint8 loses information (va
>>> small = convert_dtype(r, "uint8", allow_lossy=True, window=(0.0, 65535.0))
>>> small.pixels.max(), small.acquisition.bit_depth
(np.uint8(255), 8)
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import NDArray

from castsight.errors import ConversionError
from castsight.radiograph import SUPPORTED_DTYPES, Radiograph

DTYPE_NAMES = tuple(d.name for d in SUPPORTED_DTYPES)


def convert_dtype(
    radiograph: Radiograph,
    dtype: str,
    *,
    allow_lossy: bool = False,
    window: tuple[float, float] | None = None,
) -> Radiograph:
    """Return ``radiograph`` with pixels of ``dtype`` ('uint8', 'uint16', 'float32')."""
    if dtype not in DTYPE_NAMES:
        raise ConversionError(None, f"unknown pixel type '{dtype}' (use {', '.join(DTYPE_NAMES)})")
    target = np.dtype(dtype)
    source = radiograph.pixels
    name = radiograph.provenance.path if radiograph.provenance else None
    if window is not None and not allow_lossy:
        raise ConversionError(
            name, "a window rescales pixels: pass --allow-lossy (allow_lossy=True) as well"
        )
    if window is None and target == source.dtype:
        return radiograph
    if window is None:
        exact = _exact(source, target)
        if exact is None:
            top = source.max() if source.size else 0
            raise ConversionError(
                name,
                f"{source.dtype} -> {target} loses information (values up to {_fmt(top)} do "
                "not fit); pass --allow-lossy with a --window LO HI",
            )
        return _rebuilt(radiograph, exact, keep_depth=True)
    lo, hi = (float(v) for v in window)
    if not np.isfinite(lo) or not np.isfinite(hi) or hi <= lo:
        raise ConversionError(name, f"window ({lo}, {hi}) must be finite with hi > lo")
    return _rebuilt(radiograph, apply_window(source, lo, hi, target), keep_depth=False)


def invert(radiograph: Radiograph) -> Radiograph:
    """``full scale - value``: a film-convention image (more material brighter, air dark)
    turned into the transmission convention castsight reads (air brightest). Lossless;
    unsigned pixels only, full scale from the bit depth when the metadata has one.

    >>> from castsight.radiograph import Acquisition
    >>> r = invert(Radiograph(np.array([[0, 1000], [4095, 7]], np.uint16),
    ...                       Acquisition(bit_depth=12)))
    >>> r.pixels.tolist(), r.acquisition.bit_depth
    ([[4095, 3095], [0, 4088]], 12)
    """
    pixels = radiograph.pixels
    if pixels.dtype.kind != "u":
        raise ConversionError(None, f"only unsigned pixels can be inverted (not {pixels.dtype})")
    depth = radiograph.acquisition.bit_depth
    top = (1 << depth) - 1 if depth else int(np.iinfo(pixels.dtype).max)
    if int(pixels.max(initial=0)) > top:
        top = int(np.iinfo(pixels.dtype).max)  # the metadata's depth is too small: the dtype's
    flipped = (np.int64(top) - pixels.astype(np.int64)).astype(pixels.dtype)
    return _rebuilt(radiograph, flipped, keep_depth=True)


def apply_window(pixels: NDArray[Any], lo: float, hi: float, target: np.dtype[Any]) -> NDArray[Any]:
    """Map [lo, hi] linearly onto ``target``'s range (float32: onto [0, 1]); clip outside."""
    scaled = (pixels.astype(np.float64) - lo) / (hi - lo)
    if target.kind == "f":
        return np.clip(scaled, 0.0, 1.0).astype(target)
    top = np.iinfo(target).max
    return np.clip(np.rint(scaled * top), 0, top).astype(target)


def _exact(pixels: NDArray[Any], target: np.dtype[Any]) -> NDArray[Any] | None:
    """``pixels`` as ``target`` when every value survives the round trip, else None."""
    if target.kind == "f":
        out = pixels.astype(target)
        return out if np.array_equal(out.astype(pixels.dtype), pixels) else None
    info = np.iinfo(target)
    if pixels.dtype.kind == "f" and not np.array_equal(np.rint(pixels), pixels):
        return None
    if pixels.size and (pixels.min() < info.min or pixels.max() > info.max):
        return None
    return pixels.astype(target)


def _rebuilt(radiograph: Radiograph, pixels: NDArray[Any], *, keep_depth: bool) -> Radiograph:
    acq = radiograph.acquisition
    if not keep_depth:
        depth = pixels.dtype.itemsize * 8 if pixels.dtype.kind == "u" else None
        acq = dataclasses.replace(acq, bit_depth=depth)
    return dataclasses.replace(radiograph, pixels=pixels, acquisition=acq, provenance=None)


def _fmt(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:g}"
