"""Raw radiograph -> prepared image: calibration, bad pixels, attenuation, mask, noise.

The attenuation (log) domain ``a = ln(I0) - ln(I - dark)`` is proportional
to the material along each ray, so defects add to the structure instead of
multiplying it. ``I0`` is the open-beam level: the flat field when
calibration frames are given, otherwise the image's full scale (so absolute
attenuation, and with it the wall-loss estimate, is then only indicative).

Every prepared image carries a per-pixel noise standard deviation of its
attenuation, from the Poisson-Gaussian noise model measured on the image
itself, and the image-quality figures the plan's gate judges.

>>> import numpy as np
>>> from castsight.radiograph import Radiograph
>>> rng = np.random.default_rng(0)
>>> raw = rng.poisson(np.full((128, 128), 20000.0)).astype(np.uint16)
>>> prep = prepare(Radiograph(raw))
>>> round(float(np.median(prep.attenuation)), 2)   # ln(65535 / 20000)
1.19
>>> prep.quality.snr > 100, prep.quality.part_pct
(True, 100.0)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from castsight.errors import InputError
from castsight.preprocess.mask import (
    AIR_TRANSMISSION,
    OPAQUE_FRACTION,
    SATURATION_FRACTION,
    full_scale,
    part_mask,
)
from castsight.preprocess.noise import NoiseEstimate, estimate_noise
from castsight.radiograph import Radiograph

IMPULSE_SIGMAS = 8.0
"""A lone pixel this many noise sigmas off its 3x3 median is a bad pixel."""
OVER_RANGE_TRANSMISSION = 1.05
"""With a flat field, signal above this transmission means the exposure does not match."""
NOISE_CROP = 384
"""Side of the central crop the noise model is measured on (speed; noise is stationary)."""
RIM_PART_FRACTION = 0.75
"""Uncalibrated: saturation whose unsaturated rim is brighter than this fraction of full
scale is counted as saturated part (a small step, as thin metal gives), not air."""
"""Side of the central crop the noise model is measured on (speed; noise is stationary)."""


@dataclass(frozen=True)
class Calibration:
    """Detector calibration frames (float32, same shape as the images) and bad-pixel map."""

    dark: NDArray[np.float32] | None = None
    flat: NDArray[np.float32] | None = None
    bad_pixels: NDArray[np.bool_] | None = None

    @property
    def shape(self) -> tuple[int, ...] | None:
        """Frame shape, or None when no frame is given."""
        for frame in (self.dark, self.flat):
            if frame is not None:
                return tuple(frame.shape)
        return None

    @functools.cached_property
    def inverse_open_beam(self) -> NDArray[np.float32] | None:
        """``1 / max(flat - dark, 1)``, computed once per calibration (None without a flat)."""
        if self.flat is None:
            return None
        beam = self.flat - self.dark if self.dark is not None else self.flat
        return np.asarray(1.0 / np.maximum(beam, np.float32(1.0)), np.float32)


def load_calibration(folder: str | Path) -> Calibration:
    """Read ``dark.tif`` / ``flat.tif`` (either may be absent) and derive the bad-pixel map.

    A pixel is bad when its dark level or flat response is far from its
    neighbours' (dead, hot or stuck). The folder is what ``castsight
    simulate`` writes as ``_calibration``.
    """
    from castsight.io import read_radiograph

    root = Path(folder)
    frames: dict[str, NDArray[np.float32]] = {}
    for name in ("dark", "flat"):
        path = root / f"{name}.tif"
        if path.exists():
            frames[name] = np.asarray(read_radiograph(path).pixels, dtype=np.float32)
    if not frames:
        raise InputError(root, "no calibration frames (expected dark.tif and/or flat.tif)")
    dark, flat = frames.get("dark"), frames.get("flat")
    if dark is not None and flat is not None and dark.shape != flat.shape:
        raise InputError(root, f"dark {dark.shape} and flat {flat.shape} differ in shape")
    bad = np.zeros(next(iter(frames.values())).shape, bool)
    for frame in frames.values():
        bad |= _outliers(frame, rel=0.25 if frame is flat else None)
    return Calibration(dark=dark, flat=flat, bad_pixels=bad)


def _outliers(frame: NDArray[np.float32], rel: float | None) -> NDArray[np.bool_]:
    med = cv2.medianBlur(frame, 3)
    dev = np.abs(frame - med)
    if rel is not None:  # flat: response far from the neighbours'
        return np.asarray(dev > rel * np.maximum(med, 1.0))
    mad = float(np.median(dev)) * 1.4826 + 1e-6  # dark: offset far off its neighbours
    return np.asarray(dev > 20.0 * mad)


@dataclass(frozen=True)
class ImageQuality:
    """Figures the plan's quality gate judges (see :class:`~castsight.accept.plan.QualityGate`)."""

    signal_fraction: float
    """Median part signal over full scale."""
    saturated_pct: float
    """Saturated pixels that belong to the part (not clear air), % of the part."""
    over_range_pct: float
    """Pixels brighter than the open beam allows (exposure mismatch), % of the view."""
    snr: float
    """Median signal-to-noise ratio of part pixels."""
    part_pct: float
    """Share of the view that is inspectable part, %."""
    noise: NoiseEstimate


@dataclass(frozen=True, eq=False)
class PreparedImage:
    """A radiograph ready for detection: attenuation, its noise, and where the part is."""

    radiograph: Radiograph
    attenuation: NDArray[np.float32]
    """``ln(I0) - ln(I - dark)``; larger means more material along the ray."""
    noise_std: NDArray[np.float32]
    """Per-pixel noise standard deviation of ``attenuation``."""
    mask: NDArray[np.bool_]
    """Inspectable part pixels (not air, saturated, opaque or bad)."""
    quality: ImageQuality
    calibrated: bool

    @property
    def shape(self) -> tuple[int, int]:
        """Rows, columns."""
        return self.attenuation.shape[0], self.attenuation.shape[1]


def prepare(
    radiograph: Radiograph,
    calibration: Calibration | None = None,
    noise: NoiseEstimate | None = None,
) -> PreparedImage:
    """Correct, log-transform, mask and characterise one radiograph.

    ``noise`` reuses a noise model measured before (the views of one part come
    from one detector); by default it is measured on this image.
    """
    raw = radiograph.pixels
    top = full_scale(raw, radiograph.acquisition.bit_depth)
    cal = calibration if calibration is not None else Calibration()
    if cal.shape is not None and cal.shape != raw.shape:
        raise InputError(
            radiograph.provenance.path if radiograph.provenance else "image",
            f"calibration frames are {cal.shape}, image is {raw.shape}",
        )
    img = np.asarray(raw, dtype=np.float32)
    saturated = img >= np.float32(SATURATION_FRACTION * top)
    dark = cal.dark if cal.dark is not None else np.float32(0.0)
    signal = cv2.subtract(img, cal.dark) if cal.dark is not None else img
    signal = np.maximum(signal, np.float32(0.5))
    inv_beam = cal.inverse_open_beam
    if inv_beam is not None:
        transmission = np.asarray(cv2.multiply(signal, inv_beam), np.float32)
    else:
        transmission = np.asarray(signal * np.float32(1.0 / top), np.float32)
    bad = np.zeros(raw.shape, bool) if cal.bad_pixels is None else cal.bad_pixels
    if noise is None:
        noise = estimate_noise(_crop(img), _crop(~bad & ~saturated & (img > 0)))
    if cal.flat is not None:  # air is what transmits like the open beam
        mask = (transmission < np.float32(AIR_TRANSMISSION)) & ~saturated
        mask &= img > np.float32(OPAQUE_FRACTION * top)
    else:
        bits = radiograph.acquisition.bit_depth
        mask = part_mask(raw, bit_depth=bits, open_beam=None, min_region_px=0)
    attenuation = np.asarray(cv2.log(transmission), np.float32)
    np.negative(attenuation, out=attenuation)
    std = _noise_std(img, dark, noise)
    attenuation, impulses = _fix_impulses(attenuation, std, bad)
    mask &= ~impulses
    # drop specks of "part" in air (and single-pixel holes do not matter)
    mask = cv2.morphologyEx(mask.view(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) > 0
    quality = _quality(img, mask, saturated, transmission, top, noise, cal.flat is not None)
    return PreparedImage(radiograph, attenuation, std, mask, quality, cal.flat is not None)


def _crop(arr: NDArray[Any]) -> NDArray[Any]:
    rows, cols = arr.shape
    r0, c0 = max(rows // 2 - NOISE_CROP // 2, 0), max(cols // 2 - NOISE_CROP // 2, 0)
    return arr[r0 : r0 + NOISE_CROP, c0 : c0 + NOISE_CROP]


def _noise_std(img: NDArray[np.float32], dark: Any, noise: NoiseEstimate) -> NDArray[np.float32]:
    """sigma_a = sqrt(var(I)) / (I - dark), from a smoothed image (the mean, not the noise)."""
    rows, cols = img.shape
    small = cv2.resize(img, (max(cols // 8, 1), max(rows // 8, 1)), interpolation=cv2.INTER_AREA)
    d = (
        dark
        if np.ndim(dark) == 0
        else cv2.resize(
            np.asarray(dark, np.float32), small.shape[::-1], interpolation=cv2.INTER_AREA
        )
    )
    var = np.maximum(noise.gain * small + noise.electronic_var, 1e-6)
    std = np.sqrt(var) / np.maximum(small - d, 1.0)
    return np.asarray(cv2.resize(std.astype(np.float32), (cols, rows)), np.float32)


def _fix_impulses(
    att: NDArray[Any], std: NDArray[np.float32], bad: NDArray[np.bool_]
) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """Replace known bad pixels and lone impulses (dead/hot/stuck) by their 3x3 median,
    in place in ``att``."""
    med = cv2.medianBlur(att, 3)
    limit = np.maximum(std, np.float32(1e-4)) * np.float32(IMPULSE_SIGMAS)
    over = cv2.compare(cv2.absdiff(att, med), limit, cv2.CMP_GT)
    fix: NDArray[np.bool_] = (over > 0) | bad
    np.copyto(att, med, where=fix)
    return np.asarray(att, np.float32), fix


def _quality(
    img: NDArray[np.float32],
    mask: NDArray[np.bool_],
    saturated: NDArray[np.bool_],
    transmission: NDArray[Any],
    top: float,
    noise: NoiseEstimate,
    calibrated: bool,
) -> ImageQuality:
    n = img.size
    part = int(mask.sum())
    over = float(np.count_nonzero(transmission > OVER_RANGE_TRANSMISSION)) if calibrated else 0.0
    sat_part = _saturated_part(img, saturated, top, calibrated)
    sub = img[::4, ::4][mask[::4, ::4]]  # a subsample is plenty for a median
    signal = float(np.median(sub)) if sub.size else 0.0
    snr = signal / noise.std_at(signal) if part else 0.0
    return ImageQuality(
        signal_fraction=signal / top,
        saturated_pct=100.0 * sat_part / max(part + sat_part, 1),
        over_range_pct=100.0 * over / n,
        snr=float(snr),
        part_pct=100.0 * part / n,
        noise=noise,
    )


def _saturated_part(
    img: NDArray[np.float32], saturated: NDArray[np.bool_], top: float, calibrated: bool
) -> int:
    """Saturated pixels that may be part: all of them when calibrated (air never saturates
    at a matched exposure); otherwise those whose unsaturated rim is itself near full
    scale (a gradual run into saturation, as thin metal does), not a clear air edge."""
    count = int(saturated.sum())
    if count == 0 or calibrated:
        return count
    sat8 = saturated.astype(np.uint8)
    rim = (cv2.dilate(sat8, np.ones((5, 5), np.uint8)) > 0) & ~saturated
    if not rim.any():
        return 0  # the whole view is saturated: no part visible, judged by part_pct
    return count if float(np.median(img[rim])) > RIM_PART_FRACTION * top else 0
