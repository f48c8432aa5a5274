"""Where the part is: pixels that carry an image of metal, not air, saturation or nothing.

Conservative by design: a pixel is only called air when the evidence is
clear (a known open-beam level, saturation, or a bright, flat histogram
mode well separated from the rest). Calling metal "air" would hide defects,
so when in doubt a pixel stays in the part.

>>> import numpy as np
>>> img = np.full((32, 32), 60000, np.uint16)     # air, near full scale
>>> img[8:24, 8:24] = 20000                        # the part
>>> m = part_mask(img)
>>> int(m.sum()), bool(m[16, 16]), bool(m[0, 0])
(256, True, False)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

SATURATION_FRACTION = 0.995
"""A pixel at or above this fraction of full scale is saturated."""
OPAQUE_FRACTION = 0.002
"""A pixel at or below this fraction of full scale has no usable signal."""
AIR_TRANSMISSION = 0.97
"""With a known open-beam level, transmission above this is air."""


def full_scale(pixels: NDArray[Any], bit_depth: int | None = None) -> float:
    """The largest value the detector can record for this image."""
    if bit_depth:
        return float(2**bit_depth - 1)
    if pixels.dtype.kind == "u":
        return float(np.iinfo(pixels.dtype).max)
    return float(np.max(pixels)) if pixels.size else 1.0


def part_mask(
    pixels: NDArray[Any],
    *,
    bit_depth: int | None = None,
    open_beam: float | None = None,
    min_region_px: int = 64,
) -> NDArray[np.bool_]:
    """Boolean mask of the part in a raw (transmission-like) radiograph.

    ``open_beam`` is the unattenuated signal level when known (from a flat
    field or metadata); without it air is found from a clearly separated bright
    histogram mode, if there is one.
    """
    img = np.asarray(pixels, dtype=np.float64)
    top = full_scale(pixels, bit_depth)
    mask = (img < SATURATION_FRACTION * top) & (img > OPAQUE_FRACTION * top)
    if open_beam is not None and open_beam > 0:
        mask &= img < AIR_TRANSMISSION * open_beam
    else:
        level = _air_level(img[mask], top) if mask.any() else None
        if level is not None:
            mask &= img < level
    if min_region_px > 0 and mask.any():
        mask = _drop_specks(mask, min_region_px)
    return mask


AIR_MIN_FRACTION = 0.9
"""Without an open-beam level, only a mode above this fraction of full scale can be air."""


def _air_level(values: NDArray[Any], top: float) -> float | None:
    """Threshold below the brightest mode when it is air: flat, and apart from the part.

    Air is the brightest, flattest level in the image. It is only accepted as
    air when few pixels lie in the band just below it (a gap of at least ~25 %
    in intensity); a thin wall (2-3 mm of aluminium transmits 85-90 %) fills
    that band, and then nothing is called air. A single flat level over
    (almost) the whole image is a part that fills the view, not air. And a
    flat bright mode below 90 % of full scale may be a thin plate filling the
    view just as well as air: it stays part (give ``open_beam`` to do better).
    """
    sample = np.log(np.maximum(values[:: max(1, values.size // 400_000)], 1e-6))
    brightest = float(np.quantile(sample, 0.995))
    near = sample[sample > brightest - 0.1]
    spread = float(1.4826 * np.median(np.abs(near - np.median(near))))
    delta = max(4.0 * spread, 0.02)
    level = float(np.median(sample[sample > brightest - delta]))
    air = sample > level - delta
    band = (sample > level - 0.3) & ~air
    if level < np.log(AIR_MIN_FRACTION * top):
        return None
    if not 0.01 <= air.mean() <= 0.95 or band.sum() > 0.3 * air.sum():
        return None
    return float(np.exp(level - delta))


def _drop_specks(mask: NDArray[np.bool_], min_region_px: int) -> NDArray[np.bool_]:
    labels, n = ndi.label(mask)
    if n == 0:
        return mask
    sizes = np.bincount(labels.ravel())
    keep = sizes >= min_region_px
    keep[0] = False
    return np.asarray(keep[labels], dtype=bool)
