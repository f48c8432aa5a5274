"""Superimpose simulated defects onto any real radiograph, physically, with exact masks.

Works on 8-bit or 16-bit (or float) images, with or without metadata:

1. the part is found (:func:`castsight.preprocess.part_mask`): defects go only
   where there is metal, never into air or saturated pixels;
2. the host's own noise model (variance vs signal) and noise blur are estimated
   from the image (:func:`castsight.preprocess.estimate_noise`);
3. each defect's projected path length (:mod:`castsight.simulate.shapes`) is
   added in the attenuation domain, ``ln(I - offset) += mu * path``, blurred by
   the host's estimated sharpness;
4. noise is topped up where the new signal level needs more variance than the
   scaled host noise carries (darker, dense inclusions). Where a defect makes
   the image brighter, the host noise scales by ``f`` rather than ``sqrt(f)``:
   at most a few % extra noise for the contrasts used; documented, not hidden.

Contrast is set by ``mu_per_px`` (attenuation per pixel of path length) when
given, e.g. from :mod:`castsight.physics` and the pixel size at the
part; otherwise each defect gets a peak relative contrast drawn from
``contrast`` (the sim-to-real practice of random ellipsoidal defects).

>>> import numpy as np
>>> from castsight.radiograph import Radiograph
>>> rng = np.random.default_rng(0)
>>> host = Radiograph(rng.poisson(np.full((128, 128), 20000.0)).astype(np.uint16))
>>> out = superimpose(host, np.random.default_rng(1), n_defects=2, kinds=("pore",))
>>> len(out.defects), out.radiograph.dtype.name
(2, 'uint16')
>>> d = out.defects[0]
>>> bool(out.radiograph.pixels[d.full_mask(host.shape)].mean() > host.pixels.mean())
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from castsight.preprocess import NoiseEstimate, estimate_noise, part_mask
from castsight.radiograph import Radiograph
from castsight.simulate.shapes import KINDS, make_shape


@dataclass(frozen=True)
class PlacedDefect:
    """One superimposed defect: kind, where, how big, how strong, and its exact mask."""

    kind: str
    bbox: tuple[int, int, int, int]
    """x, y, width, height in pixels (COCO order) of the mask."""
    mask: NDArray[np.bool_]
    """The defect's footprint inside ``bbox`` (shape height x width)."""
    size_px: float
    size_mm: float | None
    peak_contrast: float
    """Largest relative intensity change, (I' - I) / (I - offset), before noise."""

    def full_mask(self, shape: tuple[int, int]) -> NDArray[np.bool_]:
        """The mask placed in a full image of ``shape``."""
        out = np.zeros(shape, bool)
        x, y, w, h = self.bbox
        out[y : y + h, x : x + w] = self.mask
        return out


@dataclass(frozen=True)
class Superimposed:
    """The new radiograph, its defects, and what was estimated from the host."""

    radiograph: Radiograph
    defects: tuple[PlacedDefect, ...]
    noise: NoiseEstimate
    part: NDArray[np.bool_]


def superimpose(
    radiograph: Radiograph,
    rng: np.random.Generator,
    *,
    n_defects: int = 3,
    kinds: Sequence[str] = KINDS,
    size_px: tuple[float, float] = (4.0, 30.0),
    contrast: tuple[float, float] = (0.03, 0.2),
    mu_per_px: float | None = None,
    offset: float = 0.0,
    mask: NDArray[np.bool_] | None = None,
    max_tries: int = 50,
) -> Superimposed:
    """Add ``n_defects`` random defects to ``radiograph`` (pixels in, same dtype out).

    Defects never overlap one another and lie wholly inside the part mask;
    when no room is left fewer are placed (``len(result.defects)`` says how
    many). ``size_px`` bounds the governing size (pore diameter, cluster
    extent, crack length, inclusion size).
    """
    for kind in kinds:
        if kind not in KINDS:
            raise ValueError(f"unknown defect kind '{kind}' (known: {', '.join(KINDS)})")
    host = radiograph.pixels.astype(np.float64)
    part = part_mask(radiograph.pixels, bit_depth=radiograph.acquisition.bit_depth)
    if mask is not None:
        part &= mask
    noise = estimate_noise(host, part)
    sigma = noise.blur_sigma_px
    free = part.copy()
    image = host.copy()
    placed: list[PlacedDefect] = []
    pixel_mm = radiograph.acquisition.pixel_size_at_object_mm
    lo, hi = np.log(size_px[0]), np.log(size_px[1])
    for _ in range(n_defects):
        kind = str(rng.choice(list(kinds)))
        shape = make_shape(kind, rng, float(np.exp(rng.uniform(lo, hi))))
        spot = _find_room(shape.footprint, free, rng, max_tries)
        if spot is None:
            continue
        y0, x0 = spot
        if mu_per_px is not None:
            log_change = mu_per_px * shape.path.astype(np.float64)
        else:
            peak = float(np.exp(rng.uniform(np.log(contrast[0]), np.log(contrast[1]))))
            scale = np.log1p(peak) / float(np.abs(shape.path).max())
            log_change = scale * shape.path.astype(np.float64)
        peak_contrast = _apply(image, log_change, (y0, x0), sigma, noise, offset, rng)
        h, w = shape.path.shape
        footprint = shape.footprint
        free[y0 : y0 + h, x0 : x0 + w] &= ~ndi.binary_dilation(footprint, iterations=3)
        ys, xs = np.nonzero(footprint)
        bbox = (int(x0 + xs.min()), int(y0 + ys.min()), int(np.ptp(xs) + 1), int(np.ptp(ys) + 1))
        tight = footprint[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        placed.append(
            PlacedDefect(
                kind=kind,
                bbox=bbox,
                mask=tight,
                size_px=shape.size_px,
                size_mm=None if pixel_mm is None else shape.size_px * pixel_mm,
                peak_contrast=peak_contrast,
            )
        )
    pixels = _to_dtype(image, radiograph.pixels)
    new = dataclasses.replace(radiograph, pixels=pixels, provenance=None)
    return Superimposed(new, tuple(placed), noise, part)


def _find_room(
    footprint: NDArray[np.bool_], free: NDArray[np.bool_], rng: np.random.Generator, tries: int
) -> tuple[int, int] | None:
    """Top-left corner where the whole footprint lies on free part pixels."""
    h, w = footprint.shape
    rows, cols = free.shape
    if h >= rows or w >= cols:
        return None
    candidates = np.argwhere(free[: rows - h, : cols - w])
    if candidates.size == 0:
        return None
    for _ in range(tries):
        y0, x0 = candidates[rng.integers(len(candidates))]
        if free[y0 : y0 + h, x0 : x0 + w][footprint].all():
            return int(y0), int(x0)
    return None


def _apply(
    image: NDArray[np.float64],
    log_change: NDArray[np.float64],
    corner: tuple[int, int],
    sigma: float,
    noise: NoiseEstimate,
    offset: float,
    rng: np.random.Generator,
) -> float:
    """Add one defect in place; return its peak relative contrast before noise."""
    pad = int(np.ceil(3 * sigma)) + 1
    y0, x0 = corner[0] - pad, corner[1] - pad
    change = np.pad(log_change, pad)
    if sigma > 0:
        change = ndi.gaussian_filter(change, sigma)
    h, w = change.shape
    ys = slice(max(y0, 0), min(y0 + h, image.shape[0]))
    xs = slice(max(x0, 0), min(x0 + w, image.shape[1]))
    change = change[ys.start - y0 : ys.stop - y0, xs.start - x0 : xs.stop - x0]
    region = image[ys, xs]
    signal = np.maximum(region - offset, 0.0)
    factor = np.exp(change)
    new_mean_signal = signal * factor
    # top up noise where the new level needs more variance than the scaled host noise has
    wanted = np.asarray(noise.variance_at(new_mean_signal))
    carried = factor**2 * np.asarray(noise.variance_at(signal))
    extra = np.sqrt(np.clip(wanted - carried, 0.0, None))
    white = rng.standard_normal(region.shape)
    if sigma > 0:
        white = ndi.gaussian_filter(white, sigma)
        white /= max(float(white.std()), 1e-12)
    image[ys, xs] = offset + new_mean_signal + extra * white
    touched = change != 0
    return float(np.max(np.abs(factor[touched] - 1.0))) if touched.any() else 0.0


def _to_dtype(image: NDArray[np.float64], like: NDArray[Any]) -> NDArray[Any]:
    if like.dtype.kind == "f":
        return image.astype(like.dtype)
    info = np.iinfo(like.dtype)
    return np.clip(np.rint(image), info.min, info.max).astype(like.dtype)
