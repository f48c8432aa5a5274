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

from castsight.preprocess.levels import counted_median, counted_quantile, level_counts

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
    histogram mode, if there is one. Images of 8 or 16-bit grey levels are judged on
    their histogram (:func:`_level_mask`), with the same result.
    """
    top = full_scale(pixels, bit_depth)
    if pixels.dtype in (np.uint8, np.uint16):
        mask = _level_mask(pixels, top, open_beam)
    else:
        img = np.asarray(pixels, dtype=np.float64)
        mask = (img < SATURATION_FRACTION * top) & (img > OPAQUE_FRACTION * top)
        if open_beam is not None and open_beam > 0:
            mask &= img < AIR_TRANSMISSION * open_beam
        else:
            sample = _log_sample(img[mask]) if mask.any() else None
            level = _air_level(sample, top) if sample is not None else None
            if level is not None:
                mask &= img < level
    if min_region_px > 0 and mask.any():
        mask = _drop_specks(mask, min_region_px)
    return mask


def _log_sample(values: NDArray[Any]) -> NDArray[np.float64]:
    """The log of (a regular subset of at most about 400 000 of) the part's values."""
    sample = np.log(np.maximum(values[:: max(1, values.size // 400_000)], 1e-6))
    return np.asarray(sample, np.float64)


def _level_mask(pixels: NDArray[Any], top: float, open_beam: float | None) -> NDArray[np.bool_]:
    """:func:`part_mask` (before specks are dropped) of integer ``pixels``, judged per grey
    level: each test is a threshold on the level, so the part is the levels of one
    interval, and the air level follows from the histogram of the part's log levels
    (:func:`_air_level_counted`, the same sample and statistics as :func:`_air_level`)."""
    grey = np.arange(np.iinfo(pixels.dtype).max + 1, dtype=np.float64)
    part = (grey < SATURATION_FRACTION * top) & (grey > OPAQUE_FRACTION * top)
    if open_beam is not None and open_beam > 0:
        part &= grey < AIR_TRANSMISSION * open_beam
    else:
        counts = np.where(part, level_counts(pixels), 0)
        stride = max(1, int(counts.sum()) // 400_000)
        if stride > 1:  # the regular subset of _log_sample, in the same order
            counts = level_counts(pixels[_within(pixels, part)][::stride])
        levels = np.flatnonzero(counts)
        level = None
        if levels.size:
            log_levels = np.log(np.maximum(grey[levels], 1e-6))
            level = _air_level_counted(log_levels, counts[levels], top)
        if level is not None:
            part &= grey < level
    return _within(pixels, part)


def _within(pixels: NDArray[Any], part: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Pixels whose level is ``part`` (True on one interval of levels, or nowhere)."""
    on = np.flatnonzero(part)
    if on.size == 0:
        return np.zeros(pixels.shape, bool)
    lo, hi = pixels.dtype.type(on[0]), pixels.dtype.type(on[-1])
    return np.asarray((pixels >= lo) & (pixels <= hi), bool)


AIR_MIN_FRACTION = 0.9
"""Without an open-beam level, only a mode above this fraction of full scale can be air."""


def _air_level(sample: NDArray[np.float64], top: float) -> float | None:
    """Threshold below the brightest mode when it is air: flat, and apart from the part.

    ``sample``: the log of the part's values (:func:`_log_sample`). Air is the
    brightest, flattest level in the image. It is only accepted as air when few pixels
    lie in the band just below it (a gap of at least ~25 % in intensity); a thin wall
    (2-3 mm of aluminium transmits 85-90 %) fills that band, and then nothing is called
    air. A single flat level over (almost) the whole image is a part that fills the
    view, not air. And a flat bright mode below 90 % of full scale may be a thin plate
    filling the view just as well as air: it stays part (give ``open_beam`` to do
    better).
    """
    brightest = float(np.quantile(sample, 0.995))
    near = sample[sample > brightest - 0.1]
    spread = float(1.4826 * np.median(np.abs(near - np.median(near))))
    delta = max(4.0 * spread, 0.02)
    level = float(np.median(sample[sample > brightest - delta]))
    air = sample > level - delta
    band = (sample > level - 0.3) & ~air
    return _air_verdict(level, delta, float(air.mean()), int(band.sum()), int(air.sum()), top)


def _air_level_counted(
    log_levels: NDArray[np.float64], counts: NDArray[np.intp], top: float
) -> float | None:
    """:func:`_air_level` of the sample holding ``log_levels[i]`` (ascending) ``counts[i]``
    times: the same statistics, from the counts (:mod:`castsight.preprocess.levels`)."""
    brightest = counted_quantile(log_levels, counts, 0.995)
    near = log_levels > brightest - 0.1
    centre = float(counted_median(log_levels[near], counts[near]))
    dev = np.abs(log_levels[near] - centre)
    order = np.argsort(dev, kind="stable")
    spread = float(1.4826 * counted_median(dev[order], counts[near][order]))
    delta = max(4.0 * spread, 0.02)
    top_band = log_levels > brightest - delta
    level = float(counted_median(log_levels[top_band], counts[top_band]))
    above = log_levels > level - delta
    air = int(counts[above].sum())
    band = int(counts[(log_levels > level - 0.3) & ~above].sum())
    return _air_verdict(level, delta, air / int(counts.sum()), band, air, top)


def _air_verdict(
    level: float, delta: float, air_share: float, band: int, air: int, top: float
) -> float | None:
    """The air threshold ``exp(level - delta)``, or None where :func:`_air_level` says the
    bright mode is no air (below 90 % of full scale, nearly all or none of the part, or
    a full band below it)."""
    if level < np.log(AIR_MIN_FRACTION * top):
        return None
    if not 0.01 <= air_share <= 0.95 or band > 0.3 * air:
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
