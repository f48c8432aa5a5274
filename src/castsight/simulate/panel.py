"""The flat panel (DDA) imaging chain: blur, quantum and electronic noise, fixed pattern.

Chain applied by :func:`expose` to the expected (noise-free) quanta per pixel:

1. focal-spot blur: geometric unsharpness Ug = focal_spot_mm * (M - 1) at the detector,
   a Gaussian with FWHM = Ug (it acts on the photon fluence, before detection);
2. Poisson quantum noise drawn from the absolute expected quanta (with an optional
   per-pixel ``quantum_weight`` w: counts = w * Poisson(q / w), mean q, variance w q);
3. scintillator blur (Gaussian, ``blur_sigma_px``): light spread happens after each
   quantum is absorbed, so it blurs the noise too (correlated noise, variance reduced
   by sum(k^2) of the kernel: see :func:`noise_variance`);
4. per-pixel gain map (``gain_adu_per_quantum`` x (1 + gain non-uniformity)), offset map,
   electronic Gaussian noise, rounding;
5. bad pixels: dead read 0, hot read 65535; clip to 0..65535 and store as uint16.

The fixed pattern (gain map, offset map, bad pixels) depends only on the detector's
``seed``: every image of one detector shares it. Per-image noise comes from ``rng``.
:func:`dark_frame` and :func:`flat_frame` follow the same chain, so
(raw - dark) / (flat - dark) recovers the transmission (away from bad pixels).

>>> det = PanelModel(rows=32, cols=32)
>>> img = expose(np.full((32, 32), 1e4), det, 1.2, np.random.default_rng(0))
>>> img.dtype, img.shape
(dtype('uint16'), (32, 32))
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from castsight.physics import _N_CHUNKS, _map_chunks

__all__ = [
    "FixedPattern",
    "PanelModel",
    "bad_pixel_mask",
    "dark_frame",
    "expose",
    "fixed_pattern",
    "flat_frame",
    "noise_free",
    "noise_variance",
]

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]
FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))
ADU_MAX = 65535.0


@dataclass(frozen=True)
class PanelModel:
    """A flat-panel detector and its fixed pattern (derived from ``seed``).

    Defaults: 0.139 mm pitch, 1536 x 1536, CsI light spread sigma 0.6 px, 0.4 mm focal
    spot, 1 ADU per quantum, 1000 ADU offset, 2 % gain and 30 ADU offset non-uniformity,
    4 ADU electronic noise, 1e-4 bad pixels (half dead, half hot).

    >>> round(PanelModel().pixel_area_mm2, 6)
    0.019321
    """

    pixel_pitch_mm: float = 0.139
    rows: int = 1536
    cols: int = 1536
    blur_sigma_px: float = 0.6
    focal_spot_mm: float = 0.4
    gain_adu_per_quantum: float = 1.0
    offset_adu: float = 1000.0
    gain_nonuniformity_pct: float = 2.0
    offset_nonuniformity_adu: float = 30.0
    electronic_noise_adu: float = 4.0
    bad_pixel_fraction: float = 1e-4
    seed: int = 0

    def __post_init__(self) -> None:
        if self.rows < 1 or self.cols < 1 or not self.pixel_pitch_mm > 0:
            raise ValueError("rows, cols and pixel_pitch_mm must be positive")
        nonneg = (
            self.blur_sigma_px,
            self.focal_spot_mm,
            self.gain_nonuniformity_pct,
            self.offset_nonuniformity_adu,
            self.electronic_noise_adu,
        )
        if not all(v >= 0 for v in nonneg) or not self.gain_adu_per_quantum > 0:
            raise ValueError("blur, noise and non-uniformities must be >= 0, gain > 0")
        if not 0.0 <= self.bad_pixel_fraction <= 1.0:
            raise ValueError("bad_pixel_fraction must lie in [0, 1]")

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        return (self.rows, self.cols)

    @property
    def pixel_area_mm2(self) -> float:
        """Pixel area in mm^2."""
        return self.pixel_pitch_mm**2

    def focal_blur_sigma_px(self, magnification: float) -> float:
        """Gaussian sigma (px) of the geometric unsharpness Ug = f (M - 1), FWHM = Ug.

        >>> round(PanelModel().focal_blur_sigma_px(2.0), 3)
        1.222
        """
        if not magnification >= 1.0:
            raise ValueError(f"magnification must be >= 1, got {magnification!r}")
        ug = self.focal_spot_mm * (magnification - 1.0)
        return ug / self.pixel_pitch_mm / FWHM_PER_SIGMA


@dataclass(frozen=True, eq=False)
class FixedPattern:
    """Per-pixel gain (ADU per quantum), offset (ADU) and dead / hot pixel masks."""

    gain: F32
    offset: F32
    dead: NDArray[np.bool_]
    hot: NDArray[np.bool_]


@functools.lru_cache(maxsize=8)
def fixed_pattern(detector: PanelModel) -> FixedPattern:
    """The detector's fixed pattern; identical for every call with the same detector.

    >>> a = fixed_pattern(PanelModel(rows=8, cols=8, seed=3))
    >>> b = fixed_pattern(PanelModel(rows=8, cols=8, seed=3))
    >>> bool(np.array_equal(a.gain, b.gain) and np.array_equal(a.offset, b.offset))
    True
    """
    shape = detector.shape
    g = np.random.default_rng([detector.seed, 0]).standard_normal(shape)
    gain = detector.gain_adu_per_quantum * np.maximum(
        1.0 + detector.gain_nonuniformity_pct / 100.0 * g, 0.05
    )
    o = np.random.default_rng([detector.seed, 1]).standard_normal(shape)
    offset = detector.offset_adu + detector.offset_nonuniformity_adu * o
    n = detector.rows * detector.cols
    n_bad = round(detector.bad_pixel_fraction * n)
    idx = np.random.default_rng([detector.seed, 2]).choice(n, size=n_bad, replace=False)
    dead = np.zeros(n, dtype=bool)
    hot = np.zeros(n, dtype=bool)
    dead[idx[: n_bad // 2]] = True
    hot[idx[n_bad // 2 :]] = True
    arrays = (gain.astype(np.float32), offset.astype(np.float32), dead.reshape(shape))
    fp = FixedPattern(*arrays, hot.reshape(shape))
    for a in (fp.gain, fp.offset, fp.dead, fp.hot):
        a.setflags(write=False)
    return fp


def bad_pixel_mask(detector: PanelModel) -> NDArray[np.bool_]:
    """True where the pixel is dead or hot.

    >>> int(bad_pixel_mask(PanelModel(rows=100, cols=100, bad_pixel_fraction=0.01)).sum())
    100
    """
    fp = fixed_pattern(detector)
    return fp.dead | fp.hot


@functools.lru_cache(maxsize=32)
def _kernel(sigma_px: float) -> F32 | None:
    if sigma_px < 0.05:
        return None
    r = max(1, math.ceil(4.0 * sigma_px))
    x = np.arange(-r, r + 1, dtype=np.float64)
    k: F64 = np.exp(-0.5 * (x / sigma_px) ** 2)
    out: F32 = (k / k.sum()).astype(np.float32)
    out.setflags(write=False)
    return out


def _blur(img: F32, sigma_px: float, square: bool = False) -> F32:
    k = _kernel(sigma_px)
    if k is None:
        return img
    kk: F32 = (k * k) if square else k
    out = cv2.sepFilter2D(img, -1, kk, kk, borderType=cv2.BORDER_REFLECT)
    return np.asarray(out, dtype=np.float32)


def _expected(expected_quanta: ArrayLike, detector: PanelModel) -> F32:
    q = np.broadcast_to(np.asarray(expected_quanta, dtype=np.float32), detector.shape)
    if not (np.all(np.isfinite(q)) and q.min() >= 0):
        raise ValueError("expected quanta must be finite and >= 0")
    return np.array(q, dtype=np.float32, order="C")


def _chain(
    expected_quanta: ArrayLike,
    detector: PanelModel,
    magnification: float,
    rng: np.random.Generator | None,
    n_average: int = 1,
    quantum_weight: ArrayLike | None = None,
    rounding: bool = False,
) -> F32:
    """Shared imaging chain; ``rng=None`` gives the noise-free mean in ADU."""
    if n_average < 1:
        raise ValueError("n_average must be >= 1")
    q = _blur(_expected(expected_quanta, detector), detector.focal_blur_sigma_px(magnification))
    fp = fixed_pattern(detector)
    flat = q.reshape(-1)
    w = None if quantum_weight is None else _expected(quantum_weight, detector).reshape(-1)
    if w is not None and not w.min() > 0:
        raise ValueError("quantum_weight must be > 0")
    seeds: Any = None if rng is None else rng.integers(0, 2**63, size=(_N_CHUNKS, 2))

    def quantum(k: int, sl: slice) -> None:
        gen = np.random.default_rng(seeds[k, 0])
        lam = flat[sl] * n_average if w is None else flat[sl] * n_average / w[sl]
        counts = gen.poisson(lam).astype(np.float32)
        flat[sl] = counts / n_average if w is None else counts * (w[sl] / n_average)

    if rng is not None:
        _map_chunks(quantum, flat.size)
    q = _blur(q, detector.blur_sigma_px)
    out = q.reshape(-1)
    gain, offset = fp.gain.reshape(-1), fp.offset.reshape(-1)
    sigma_e = detector.electronic_noise_adu / math.sqrt(n_average)

    def readout(k: int, sl: slice) -> None:
        x = out[sl] * gain[sl] + offset[sl]
        if rng is not None and sigma_e > 0:
            gen = np.random.default_rng(seeds[k, 1])
            x += sigma_e * gen.standard_normal(x.size, dtype=np.float32)
        if rounding:
            np.rint(x, out=x)
        out[sl] = np.clip(x, 0.0, ADU_MAX)

    _map_chunks(readout, out.size)
    q[fp.dead] = 0.0
    q[fp.hot] = ADU_MAX
    return q


def expose(
    expected_quanta: ArrayLike,
    detector: PanelModel,
    magnification: float,
    rng: np.random.Generator,
    *,
    quantum_weight: ArrayLike | None = None,
) -> NDArray[np.uint16]:
    """One raw uint16 frame from expected quanta per pixel (shape ``detector.shape``).

    ``quantum_weight`` (from ``TransmissionModel.quantum_weight``) scales the per-quantum
    signal so the variance is w x mean (beam-hardened spectrum); default 1.
    """
    img = _chain(expected_quanta, detector, magnification, rng, 1, quantum_weight, True)
    return img.astype(np.uint16)


def noise_free(expected_quanta: ArrayLike, detector: PanelModel, magnification: float) -> F64:
    """Mean of :func:`expose` in ADU (same blur, gain and offset maps, bad pixels, clip).

    >>> det = PanelModel(rows=4, cols=4, gain_nonuniformity_pct=0.0,
    ...                     offset_nonuniformity_adu=0.0, bad_pixel_fraction=0.0)
    >>> float(noise_free(np.full((4, 4), 500.0), det, 1.5)[0, 0])
    1500.0
    """
    return _chain(expected_quanta, detector, magnification, None).astype(np.float64)


def noise_variance(
    expected_quanta: ArrayLike,
    detector: PanelModel,
    magnification: float,
    *,
    quantum_weight: ArrayLike | None = None,
) -> F64:
    """Per-pixel variance (ADU^2) of :func:`expose` (ignoring clipping); inf at bad pixels.

    Poisson variance w q after the focal-spot blur, filtered with the squared scintillator
    kernel (exact for the correlated noise: Var(sum k_j X_j) = sum k_j^2 Var X_j), times
    the squared pixel gain, plus electronic variance and 1/12 ADU^2 for rounding.
    Use it for the ideal observer: d' = sqrt(sum(delta_mean^2 / variance)).

    >>> det = PanelModel(rows=64, cols=64, blur_sigma_px=0.0, gain_nonuniformity_pct=0.0,
    ...                     electronic_noise_adu=0.0, bad_pixel_fraction=0.0)
    >>> round(float(noise_variance(np.full((64, 64), 100.0), det, 1.0)[5, 5]), 3)
    100.083
    """
    q = _blur(_expected(expected_quanta, detector), detector.focal_blur_sigma_px(magnification))
    if quantum_weight is not None:
        q = q * _expected(quantum_weight, detector)
    v = _blur(q, detector.blur_sigma_px, square=True).astype(np.float64)
    fp = fixed_pattern(detector)
    v *= fp.gain.astype(np.float64) ** 2
    v += detector.electronic_noise_adu**2 + 1.0 / 12.0
    v[fp.dead | fp.hot] = np.inf
    return v


def dark_frame(detector: PanelModel, rng: np.random.Generator, n_average: int = 16) -> F64:
    """Average of ``n_average`` frames without X-rays (offset map + electronic noise)."""
    return _chain(0.0, detector, 1.0, rng, n_average).astype(np.float64)


def flat_frame(
    detector: PanelModel,
    open_beam_quanta: ArrayLike,
    rng: np.random.Generator,
    n_average: int = 16,
) -> F64:
    """Average of ``n_average`` open-beam frames (scalar or per-pixel expected quanta).

    >>> det = PanelModel(rows=16, cols=16, bad_pixel_fraction=0.0)
    >>> rng = np.random.default_rng(1)
    >>> raw = expose(np.full((16, 16), 2e4) * 0.5, det, 1.0, rng)
    >>> t = (raw - dark_frame(det, rng)) / (flat_frame(det, 2e4, rng) - dark_frame(det, rng))
    >>> bool(abs(t.mean() - 0.5) < 0.01)
    True
    """
    return _chain(open_beam_quanta, detector, 1.0, rng, n_average).astype(np.float64)
