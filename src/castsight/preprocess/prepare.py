"""Raw radiograph -> prepared image: calibration, bad pixels, attenuation, mask, noise.

The attenuation (log) domain ``a = ln(I0) - ln(I - dark)`` is proportional
to the material along each ray, so defects add to the structure instead of
multiplying it. ``I0`` is the open-beam level: the flat field when
calibration frames are given, otherwise the image's full scale (so absolute
attenuation, and with it the wall-loss estimate, is then only indicative).

Every prepared image carries a per-pixel noise standard deviation of its
attenuation, from the Poisson-Gaussian noise model measured on the image
itself, and the image-quality figures the plan's gate judges.

Image quality is measured in the manner of ASTM E2597 / EN ISO 17636-2, on
the linear image (the flat-corrected transmission when calibrated, the grey
levels as stored otherwise), never on the attenuation: the SNR is the mean
over the noise standard deviation in small homogeneous windows of the part
(a plane removed per window, the flattest quarter by structure, their median),
corrected for quantisation; noise below half a quantisation step cannot be
measured and the SNR is then unknown (``None``, with the reason), not low. So
is the SNR of a windowed display export (uncalibrated, at most 10 bits used,
clipped white or black by its window): its grey levels went through an unknown
black level, gamma and filter (an unsharp mask amplifies the noise 1.5-2.5-fold),
so mean over noise there is not the detector's SNR.
Saturation is counted at the image's own clipping level (its largest code,
when clipped pixels pile up there), and only where the clipped plateau is part
rather than air (in an export, a plateau reaching the image's edge is air).

>>> import numpy as np
>>> from castsight.radiograph import Radiograph
>>> rng = np.random.default_rng(0)
>>> raw = rng.poisson(np.full((128, 128), 20000.0)).astype(np.uint16)
>>> prep = prepare(Radiograph(raw))
>>> round(float(np.median(prep.attenuation)), 2)   # ln(65535 / 20000)
1.19
>>> round(prep.quality.snr, -1), prep.quality.part_pct   # sqrt(20000) = 141
(140.0, 100.0)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from castsight.errors import InputError
from castsight.preprocess.levels import counted_median, level_counts
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
"""Uncalibrated raw detector data (more than 10 bits used): a plateau clipped at full scale
whose ring is brighter than this fraction of full scale is saturated part (the detector
saturates next to thin metal: over-exposed). Not applied to 8-bit exports, whose air is
clipped white by design."""
SNR_WINDOW = 16
"""Largest side (px) of the windows the SNR is measured in (mean and noise per window);
smaller views use smaller windows (``min(side) // 20``, at least 8 px)."""
SNR_STRUCTURE_SIGMA = 2.0
"""Gaussian sigma (px) of the copy a window's structure is judged on (noise averages out,
so the ranking hardly depends on the noise it is about to measure)."""
SNR_HOMOGENEOUS_SHARE = 0.1
"""The share of the part's windows with least structure that count as homogeneous."""
SNR_MIN_WINDOWS = 4
"""Fewer homogeneous part windows than this: the SNR is unknown."""
SUB_STEP_NOISE = 0.5
"""Noise below this many quantisation steps cannot be told from quantisation: SNR unknown."""
WINDOWED_SNR = (
    "windowed display export (grey levels clipped at the window's white or black): its grey "
    "levels are not proportional to the detector signal (black level, gamma and filtering "
    "unknown), so the detector's SNR is not measurable on it"
)
"""Why the SNR of a windowed export is unknown (ASTM E2597 measures on the linear signal)."""
WINDOW_CLIP_MIN_PCT = 0.1
"""An export with at least this share of the view in a clipping plateau (white or black) was
windowed for display: its grey levels are not proportional to the detector signal."""
ASTM_SRB_UM = 88.6
"""SNR_N = SNR * 88.6 um / SRb (ASTM E2597 / EN ISO 17636-2 normalisation)."""
CLIP_MIN_PX = 16
"""A clipping plateau holds at least this many pixels in 3x3 blocks (hot pixels do not)."""
CLIP_SPIKE = 2.0
"""Below full scale, the largest code is a clipping level only when it holds this many
times the pixels of the code just under it (clipped values pile up there)."""
CLIP_RING_PX = (3, 8)
"""Uncalibrated: the ring (px from a clipped plateau) whose level tells part from air."""
CLIP_NEAR_FRACTION = 0.5
"""A ring pixel is near the clip when above the midpoint between the part's median and the
clip level: a burnt-out section is still bright 3-8 px away, an air edge is not."""
CLIP_NEAR_FRACTION_EXPORT = 0.25
"""The same in a windowed export, whose gamma brightens the blurred edge of every hole and
silhouette: a ring pixel must lie within a quarter of the way from the clip to the part's
median (a burnt-out spot inside thin, bright metal; a cored hole's rim falls below it)."""


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
    """Figures the plan's quality gate judges (see :class:`~castsight.accept.plan.QualityGate`).

    A figure that cannot be measured is ``None`` (never a number that looks bad):
    ``snr`` is ``None`` when the noise is below the quantisation step, when no
    homogeneous part is left to measure it in, when the image is a windowed display
    export, or when there is no part; the reason is in ``snr_unknown``.
    """

    signal_fraction: float
    """Median part signal over full scale."""
    saturated_pct: float
    """Pixels at the image's clipping level that belong to the part (not air), % of the
    part (clipped part included)."""
    over_range_pct: float
    """Pixels brighter than the open beam allows (exposure mismatch), % of the view."""
    snr: float | None
    """Median over homogeneous part windows of mean / noise std (linear domain); None:
    unknown (see ``snr_unknown``)."""
    part_pct: float
    """Share of the view that is inspectable part, %."""
    noise: NoiseEstimate
    snr_unknown: str | None = None
    """Why ``snr`` is unknown (None when it was measured)."""
    noise_grey: float | None = None
    """Measured noise standard deviation in the image's own grey levels (None: unknown)."""
    quantisation_step: float = 1.0
    """Smallest step between the part's grey levels (1 for integers, 257 for 8-bit data
    stored in 16 bits, ~0 for float images)."""
    clip_level: float | None = None
    """The grey level the image clips at (None: no clipping plateau)."""
    clipped_pct: float = 0.0
    """Pixels at the clipping level, % of the view (air and part)."""
    dark_pct: float = 0.0
    """Pixels with no usable signal (at or below the opaque level), % of the view."""
    pixel_pitch_um: float | None = None
    """Detector pixel pitch (um) when known: the default basic spatial resolution."""

    def snr_normalised(self, srb_um: float | None = None) -> float | None:
        """SNR_N = SNR * 88.6 um / SRb, with ``srb_um`` (the detector's basic spatial
        resolution, e.g. from a duplex wire IQI) or else the pixel pitch; None when the SNR
        or both resolutions are unknown.

        >>> q = ImageQuality(0.4, 0.0, 0.0, 100.0, 90.0, NoiseEstimate(1, 0, 0, 0),
        ...                  pixel_pitch_um=139.0)
        >>> round(q.snr_normalised(), 1), round(q.snr_normalised(88.6), 1)
        (63.7, 100.0)
        """
        srb = srb_um if srb_um is not None else self.pixel_pitch_um
        if self.snr is None or srb is None or not srb > 0:
            return None
        return self.snr * ASTM_SRB_UM / srb


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
    clip, clipped = _clipping(img, top, bad)
    if clip is not None and clip < np.float32(SATURATION_FRACTION * top):
        mask &= ~clipped  # clipped below full scale (8-bit export): no information there
    attenuation = np.asarray(cv2.log(transmission), np.float32)
    np.negative(attenuation, out=attenuation)
    levels = raw if raw.dtype in (np.uint8, np.uint16) else None
    step_raw = _quantisation_step(img, mask, levels)
    std = _noise_std(img, dark, noise, step_raw)
    attenuation, impulses = _fix_impulses(attenuation, std, bad)
    mask &= ~impulses
    # drop specks of "part" in air (and single-pixel holes do not matter)
    mask = cv2.morphologyEx(mask.view(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) > 0
    calibrated = cal.flat is not None
    linear = transmission if calibrated else img  # the SNR domain: linear, never the log
    step = step_raw * float(np.median(inv_beam[::8, ::8])) if inv_beam is not None else step_raw
    pitch = radiograph.acquisition.pixel_pitch_mm
    quality = _quality(
        _Measured(
            img, levels, linear, mask, clipped, clip, transmission, top, step, step_raw, calibrated
        ),
        noise,
        pitch * 1000.0 if pitch else None,
    )
    return PreparedImage(radiograph, attenuation, std, mask, quality, calibrated)


def _crop(arr: NDArray[Any]) -> NDArray[Any]:
    rows, cols = arr.shape
    r0, c0 = max(rows // 2 - NOISE_CROP // 2, 0), max(cols // 2 - NOISE_CROP // 2, 0)
    return arr[r0 : r0 + NOISE_CROP, c0 : c0 + NOISE_CROP]


def _noise_std(
    img: NDArray[np.float32], dark: Any, noise: NoiseEstimate, step: float = 0.0
) -> NDArray[np.float32]:
    """sigma_a = sqrt(var(I)) / (I - dark), from a smoothed image (the mean, not the noise).

    The variance is at least the quantisation noise ``step^2 / 12`` of the stored grey
    levels: in a filtered 8-bit image the steps of a smooth ramp are not impulses.
    """
    rows, cols = img.shape
    small = cv2.resize(img, (max(cols // 8, 1), max(rows // 8, 1)), interpolation=cv2.INTER_AREA)
    d = (
        dark
        if np.ndim(dark) == 0
        else cv2.resize(
            np.asarray(dark, np.float32), small.shape[::-1], interpolation=cv2.INTER_AREA
        )
    )
    var = np.maximum(noise.gain * small + noise.electronic_var, max(step * step / 12.0, 1e-6))
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


@dataclass(frozen=True, eq=False)
class _Measured:
    """What :func:`_quality` measures on (one view)."""

    img: NDArray[np.float32]
    """Raw grey levels."""
    levels: NDArray[Any] | None
    """The same, as stored, when 8 or 16-bit integers (medians from their histogram)."""
    linear: NDArray[Any]
    """The linear image the SNR is measured on (transmission when calibrated, else raw)."""
    mask: NDArray[np.bool_]
    clipped: NDArray[np.bool_]
    clip: float | None
    transmission: NDArray[Any]
    top: float
    step: float
    """Quantisation step of ``linear``."""
    step_raw: float
    """Quantisation step of ``img``."""
    calibrated: bool


def _quality(m: _Measured, noise: NoiseEstimate, pitch_um: float | None) -> ImageQuality:
    n = m.img.size
    part = int(m.mask.sum())
    over = (
        float(np.count_nonzero(m.transmission > OVER_RANGE_TRANSMISSION)) if m.calibrated else 0.0
    )
    raw_detector = m.top / max(m.step_raw, 1e-12) > 1024.0
    sat_part = _saturated_part(m, raw_detector) if part else 0
    sub = (slice(None, None, 4),) * 2  # a subsample is plenty for a median
    signal = _median(m.img[sub], m.mask[sub], None if m.levels is None else m.levels[sub])
    if part:
        snr, noise_lin, why = _window_snr(m.linear, m.mask, m.step)
    else:
        snr, noise_lin, why = None, None, "no part in the view"
    if snr is not None and not m.calibrated and not raw_detector and _windowed(m):
        snr, why = None, WINDOWED_SNR
    scale = 1.0
    if m.calibrated and noise_lin is not None:  # transmission -> grey levels
        lin_sub = m.linear[::4, ::4][m.mask[::4, ::4]]
        scale = signal / max(float(np.median(lin_sub)), 1e-12) if lin_sub.size else 1.0
    dark = np.count_nonzero(m.img <= np.float32(OPAQUE_FRACTION * m.top))
    return ImageQuality(
        signal_fraction=signal / m.top,
        saturated_pct=100.0 * sat_part / max(part + sat_part, 1),
        over_range_pct=100.0 * over / n,
        snr=snr,
        part_pct=100.0 * part / n,
        noise=noise,
        snr_unknown=why,
        noise_grey=None if noise_lin is None else noise_lin * scale,
        quantisation_step=m.step * (scale if m.calibrated else 1.0),
        clip_level=m.clip,
        clipped_pct=100.0 * int(m.clipped.sum()) / n,
        dark_pct=100.0 * int(dark) / n,
        pixel_pitch_um=pitch_um,
    )


def _windowed(m: _Measured) -> bool:
    """Whether an uncalibrated export was windowed for display: a clipping plateau at its
    white (``clip``) or at grey level 0 over ``WINDOW_CLIP_MIN_PCT`` of the view."""
    n = m.img.size
    white = 100.0 * int(m.clipped.sum()) / n if m.clip is not None else 0.0
    if white >= WINDOW_CLIP_MIN_PCT:
        return True
    zero = (m.img <= 0.0).view(np.uint8)
    black = cv2.morphologyEx(zero, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    return 100.0 * int(np.count_nonzero(black)) / n >= WINDOW_CLIP_MIN_PCT


def _quantisation_step(
    img: NDArray[np.float32], mask: NDArray[np.bool_], levels: NDArray[Any] | None = None
) -> float:
    """The smallest step between distinct grey levels of the part (1 for integer data,
    257 for 8-bit data scaled to 16 bits; tiny for float data). ``levels``: ``img`` as
    stored, when 8 or 16-bit integers."""
    half = (slice(None, None, 2),) * 2
    if np.count_nonzero(mask[half]) >= 2:
        distinct = _distinct(img[half], mask[half], levels[half] if levels is not None else None)
    else:
        distinct = _distinct(img, None, levels)
    if distinct.size < 2:
        distinct = _distinct(img[half], None, levels[half] if levels is not None else None)
    if distinct.size < 2:
        return 1.0
    return float(np.min(np.diff(distinct)))


def _distinct(
    img: NDArray[np.float32], mask: NDArray[np.bool_] | None, levels: NDArray[Any] | None
) -> NDArray[np.float32]:
    """The distinct values of ``img`` (where ``mask``), ascending: from the histogram of
    ``levels`` (``img`` as stored, 8 or 16-bit integers) when given."""
    if levels is None:
        return np.unique(img if mask is None else img[mask])
    return np.flatnonzero(level_counts(levels, mask)).astype(img.dtype)


def _median(
    img: NDArray[np.float32], mask: NDArray[np.bool_], levels: NDArray[Any] | None
) -> float:
    """``float(np.median(img[mask]))`` (0 where ``mask`` is empty): from the histogram of
    ``levels`` (``img`` as stored, 8 or 16-bit integers) when given."""
    if levels is None:
        values = img[mask]
        return float(np.median(values)) if values.size else 0.0
    counts = level_counts(levels, mask)
    present = np.flatnonzero(counts)
    if present.size == 0:
        return 0.0
    return float(counted_median(present.astype(img.dtype), counts[present]))


def _tiles(arr: NDArray[Any], w: int, every: int = 1) -> NDArray[Any]:
    """Non-overlapping ``w`` x ``w`` windows of ``arr``, one per row (ragged edge dropped);
    ``every``: only every ``every``-th window down and across."""
    rows, cols = (arr.shape[0] // w) * w, (arr.shape[1] // w) * w
    t = arr[:rows, :cols].reshape(rows // w, w, cols // w, w)[::every, :, ::every, :]
    return t.swapaxes(1, 2).reshape(-1, w * w)


def _plane_fit(tiles: NDArray[np.float64], w: int) -> tuple[NDArray[Any], NDArray[Any]]:
    """Mean and residual variance (after removing a plane) of each window."""
    yy, xx = np.mgrid[0:w, 0:w]
    u = (xx - (w - 1) / 2.0).ravel()
    v = (yy - (w - 1) / 2.0).ravel()
    mean = tiles.mean(axis=1)
    dev = tiles - mean[:, None]
    bu = dev @ u / float(u @ u)
    bv = dev @ v / float(v @ v)
    res = dev - bu[:, None] * u[None, :] - bv[:, None] * v[None, :]
    return mean, np.einsum("ij,ij->i", res, res) / (w * w - 3)


def _window_snr(
    linear: NDArray[Any], mask: NDArray[np.bool_], step: float
) -> tuple[float | None, float | None, str | None]:
    """(SNR, noise std, None) measured in homogeneous part windows, or (None, noise, why).

    Each square window wholly inside the part gives a mean and a noise variance
    (residual after a fitted plane, Sheppard-corrected for quantisation). The windows
    with least structure (``SNR_HOMOGENEOUS_SHARE``, judged on a smoothed copy) are the
    homogeneous regions; the SNR is the median of their mean / std, as ASTM E2597
    measures it in one homogeneous region of the part. When their noise is below half a
    quantisation step the SNR is unknown; it is then at least ``2 * mean / step``.
    """
    w = int(np.clip(min(mask.shape) // 20, 8, SNR_WINDOW))
    inside = _tiles(mask, w).all(axis=1) if min(mask.shape) >= w else np.zeros(0, bool)
    if int(inside.sum()) < SNR_MIN_WINDOWS:
        return None, None, f"fewer than {SNR_MIN_WINDOWS} part windows of {w} px to measure noise"
    # a large view has far more windows than the statistic needs: every other one down
    # and across (a quarter of the work) when that leaves plenty
    sparse = _tiles(mask, w, 2).all(axis=1)
    every = 2 if int(sparse.sum()) >= 16 * SNR_MIN_WINDOWS else 1
    inside = sparse if every == 2 else inside
    lin = np.asarray(linear, np.float32)
    smooth = cv2.GaussianBlur(lin, (0, 0), SNR_STRUCTURE_SIGMA)
    _, structure = _plane_fit(_tiles(smooth, w, every)[inside].astype(np.float64), w)
    keep = max(SNR_MIN_WINDOWS, int(SNR_HOMOGENEOUS_SHARE * structure.size))
    pick = np.sort(np.argsort(structure, kind="stable")[:keep])
    # only the homogeneous windows' noise is needed
    mean, var = _plane_fit(_tiles(lin, w, every)[inside][pick].astype(np.float64), w)
    noise = float(np.sqrt(np.median(var)))
    if noise < SUB_STEP_NOISE * step:
        bound = float(np.median(mean)) / (SUB_STEP_NOISE * step)
        why = (
            f"noise below {SUB_STEP_NOISE:g} quantisation step (filtered or quantised "
            f"image): not measurable; SNR > {bound:.0f} where it was looked for"
        )
        return None, noise, why
    corrected = np.maximum(var - step * step / 12.0, (0.25 * step) ** 2)
    ratio = mean / np.sqrt(corrected)
    return float(np.median(ratio)), noise, None


def _clipping(
    img: NDArray[np.float32], top: float, bad: NDArray[np.bool_]
) -> tuple[float | None, NDArray[np.bool_]]:
    """The image's own clipping level and the pixels at it (plateaus, not lone pixels).

    The level is the largest grey level reached when it is full scale, or when clipped
    values pile up there (more than ``CLIP_SPIKE`` times the pixels of the level just
    below, as a windowed 8-bit export clips); lone hot pixels and 1-2 px specks are no
    plateau.
    """
    none = np.zeros(img.shape, bool)
    valid = img[~bad] if bad.any() else img.ravel()
    if valid.size == 0:
        return None, none
    clip = float(valid.max())
    if not clip > 0:
        return None, none
    at = img >= np.float32(clip)
    plateau = cv2.morphologyEx(at.view(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) > 0
    if int(plateau.sum()) < CLIP_MIN_PX:
        return None, none
    if clip < SATURATION_FRACTION * top:
        below = valid[valid < np.float32(clip)]
        under = float(below.max()) if below.size else -np.inf
        n_under = int(np.count_nonzero(valid == np.float32(under))) if below.size else 0
        if int(np.count_nonzero(valid >= np.float32(clip))) < CLIP_SPIKE * max(n_under, 1):
            return None, none
    # a plateau and the pixels at the level that touch it (its noisy, eroded rim)
    grown = cv2.dilate(plateau.view(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return clip, np.asarray(at & grown)


def _saturated_part(m: _Measured, raw_detector: bool) -> int:
    """Clipped pixels that are part, not air.

    Calibrated: all of them (air does not clip at a matched exposure; a mismatch is
    the open-beam check's). Uncalibrated: each clipped plateau is judged by the ring
    ``CLIP_RING_PX`` outside it, beyond the blur and filter halo of its edge: air is
    bounded by metal that falls clearly below the clip, while a burnt-out section of
    the part runs gradually into it, so most of its ring is part near the clip. (A
    section burnt out where it meets clipped air is read as air: the image cannot tell
    where the part ends.) Raw
    detector data clipped at full scale next to metal above ``RIM_PART_FRACTION`` of
    full scale is over-exposed part too. In a windowed export (at most 10 bits used) a
    plateau reaching the image's edge is the air around the part, whited by the window
    as such systems are set up: never part (its ring is the blurred, gamma-brightened
    silhouette of the part's edge, which runs into the clip as gradually as burnt-out
    metal does; a part cropped by the view and burnt out at the view's edge is read as
    air).
    """
    img, clipped, clip, mask = m.img, m.clipped, m.clip, m.mask
    count = int(clipped.sum())
    if count == 0 or m.calibrated or clip is None:
        return count
    export = not raw_detector  # a windowed export: its white is the air's level by design
    part_level = _median(img, mask, m.levels)
    fraction = CLIP_NEAR_FRACTION_EXPORT if export else CLIP_NEAR_FRACTION
    near = np.float32(clip - fraction * max(clip - part_level, 0.0))
    detector_full = raw_detector and clip >= SATURATION_FRACTION * m.top
    _, labels = cv2.connectedComponents(clipped.view(np.uint8), connectivity=4)  # ndi.label's
    inner, outer = CLIP_RING_PX
    k_in = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * inner + 1, 2 * inner + 1))
    k_out = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * outer + 1, 2 * outer + 1))
    rows, cols = img.shape
    total = 0
    for lab, box in enumerate(ndi.find_objects(labels), start=1):
        if box is None:
            continue
        if export and _touches_border(box, rows, cols):
            continue  # the air around the part, whited by the window
        r0, r1 = max(box[0].start - outer, 0), min(box[0].stop + outer, rows)
        c0, c1 = max(box[1].start - outer, 0), min(box[1].stop + outer, cols)
        obj = (labels[r0:r1, c0:c1] == lab).view(np.uint8)
        ring = (cv2.dilate(obj, k_out) > 0) & ~(cv2.dilate(obj, k_in) > 0)
        ring &= ~clipped[r0:r1, c0:c1]
        if not ring.any():
            continue  # the whole view is clipped: no part visible, judged by part_pct
        values = img[r0:r1, c0:c1][ring]
        inside = mask[r0:r1, c0:c1][ring]  # near-clipped *part*: noisy air is no run
        gradual = float(np.mean((values >= near) & inside)) > 0.5
        if gradual or (detector_full and float(np.median(values)) > RIM_PART_FRACTION * m.top):
            total += int(obj.sum())
    return total


def _touches_border(box: tuple[slice, ...], rows: int, cols: int) -> bool:
    """Whether the bounding ``box`` (of :func:`scipy.ndimage.find_objects`) reaches the
    image's edge."""
    r, c = box[0], box[1]
    return bool(r.start == 0 or c.start == 0 or r.stop == rows or c.stop == cols)
