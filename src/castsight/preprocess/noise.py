"""Estimate an image's own noise and sharpness, with no calibration and no metadata.

Detector noise is Poisson (variance proportional to signal) plus electronic
(constant variance), then blurred by the scintillator, which correlates
neighbouring pixels. Both are measured from the image itself:

* differences of pixels one and two apart cancel the smooth structure; their
  robust variances in flat areas give the per-pixel variance and the lag-1 and
  lag-2 correlations;
* for noise blurred by a Gaussian of sigma ``s`` the correlation at lag ``k``
  is ``exp(-k^2 / (4 s^2))``, so the correlations give ``s``;
* variance per intensity band, fitted as ``var = gain * signal + electronic``,
  gives the noise model.

>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> flat = rng.poisson(np.full((256, 256), 4000.0)).astype(np.float64)
>>> est = estimate_noise(flat)
>>> bool(abs(est.std_at(4000.0) / np.sqrt(4000.0) - 1) < 0.1), est.blur_sigma_px < 0.5
(True, True)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

_MAD_TO_STD = 1.4826


@dataclass(frozen=True)
class NoiseEstimate:
    """Noise model ``var(signal) = gain * signal + electronic_var`` and noise blur."""

    gain: float
    electronic_var: float
    blur_sigma_px: float
    lag1_correlation: float

    def variance_at(self, signal: NDArray[Any] | float) -> NDArray[Any] | float:
        """Per-pixel noise variance at mean ``signal`` (never below a tiny floor)."""
        return np.maximum(
            self.gain * np.asarray(signal, dtype=np.float64) + self.electronic_var, 1e-12
        )

    def std_at(self, signal: float) -> float:
        """Noise standard deviation at one signal level."""
        return float(np.sqrt(self.variance_at(signal)))


def _robust_var(values: NDArray[Any]) -> float:
    if values.size < 16:
        return float("nan")
    med = np.median(values)
    return float((_MAD_TO_STD * np.median(np.abs(values - med))) ** 2)


def estimate_noise(
    image: NDArray[Any], mask: NDArray[np.bool_] | None = None, bands: int = 12
) -> NoiseEstimate:
    """Estimate the noise model of ``image`` (any dtype) inside ``mask`` (default: all)."""
    img = np.asarray(image, dtype=np.float64)
    valid = np.ones(img.shape, bool) if mask is None else np.asarray(mask, bool)
    d1 = img[:, 1:-1] - img[:, :-2]
    d2 = img[:, 2:] - img[:, :-2]
    ok = valid[:, 2:] & valid[:, 1:-1] & valid[:, :-2]
    # flat areas only: judged on the smoothed image, so the selection does not
    # depend on the noise it is about to measure
    smooth = ndi.gaussian_filter(img, 4.0)
    structure = np.abs(ndi.laplace(smooth))[:, 1:-1] + np.abs(np.gradient(smooth, axis=1))[:, 1:-1]
    if ok.any():
        ok &= structure <= np.quantile(structure[ok], 0.9)
    level = smooth[:, 1:-1]  # the local mean, not the noisy pixel itself
    v1, v2 = _robust_var(d1[ok]), _robust_var(d2[ok])
    rho1, rho2 = _correlations(v1, v2)
    step = _step(img[valid])
    if not v1 > step * step / 6.0:
        # lag-1 differences no larger than quantisation alone gives (a filtered or
        # smoothed image stored in few grey levels): most are exactly zero, and the
        # correlation read from them is an artefact (rho1 -> 1 would inflate the
        # variance 2 / (1 - rho1)-fold, to thousands of grey levels): call it white
        rho1, rho2 = 0.0, 0.0
    sigma = _blur_from_correlation(rho1, rho2)
    scale = 2.0 * max(1.0 - rho1, 1e-3)  # var(d1) = 2 var (1 - rho1)
    levels = level[ok]
    diffs = d1[ok]
    if levels.size < 64:
        var = v1 / scale if np.isfinite(v1) else 0.0
        return NoiseEstimate(0.0, float(var), sigma, rho1)
    edges = np.unique(np.quantile(levels, np.linspace(0.02, 0.98, bands + 1)))
    xs, ys, ws = [], [], []
    for lo, hi in itertools.pairwise(edges):
        sel = (levels >= lo) & (levels < hi)
        if sel.sum() >= 64:
            xs.append(float(np.median(levels[sel])))
            ys.append(_robust_var(diffs[sel]) / scale)
            ws.append(float(sel.sum()))
    gain, electronic = _fit_line(np.array(xs), np.array(ys), np.array(ws))
    return NoiseEstimate(gain, electronic, sigma, rho1)


def _step(values: NDArray[Any]) -> float:
    """Smallest step between distinct values (1 for integers, 0 for continuous data)."""
    levels = np.unique(values[:: max(1, values.size // 200_000)])
    return float(np.min(np.diff(levels))) if levels.size > 1 else 0.0


def _correlations(v1: float, v2: float) -> tuple[float, float]:
    """Lag-1/2 correlations from difference variances, assuming Gaussian-blurred noise.

    With rho_k = exp(-k^2 / (4 s^2)): v1 / v2 = (1 - r) / (1 - r^4), r = rho_1.
    """
    if not (np.isfinite(v1) and np.isfinite(v2)) or v2 <= 0:
        return 0.0, 0.0
    ratio = v1 / v2
    if ratio >= 0.5:  # white noise (or anticorrelated): v1 = v2
        return 0.0, 0.0
    lo, hi = 0.0, 0.9999
    for _ in range(60):  # (1-r)/(1-r^4) falls from 1 to 1/4 as r rises: bisection
        mid = 0.5 * (lo + hi)
        if (1 - mid) / (1 - mid**4) > ratio:
            lo = mid
        else:
            hi = mid
    r = 0.5 * (lo + hi)
    return r, r**4


def _blur_from_correlation(rho1: float, rho2: float) -> float:
    if rho1 <= 0.01:
        return 0.0
    return float(np.sqrt(-1.0 / (4.0 * np.log(min(rho1, 0.9999)))))


def _fit_line(x: NDArray[Any], y: NDArray[Any], w: NDArray[Any]) -> tuple[float, float]:
    """Weighted least squares y = a x + b with a, b >= 0."""
    good = np.isfinite(y)
    x, y, w = x[good], y[good], w[good]
    if x.size == 0:
        return 0.0, 0.0
    if x.size == 1 or np.ptp(x) < 0.1 * np.mean(np.abs(x)):
        # one signal level: gain and electronic noise cannot be told apart;
        # call it all signal-dependent (Poisson), which is right at this level
        return float(max(np.average(y, weights=w), 0.0) / max(float(np.mean(x)), 1e-12)), 0.0
    a, b = np.polyfit(x, y, 1, w=np.sqrt(w))
    if b < 0:  # pure Poisson through the origin
        a, b = float(np.sum(w * x * y) / np.sum(w * x * x)), 0.0
    if a < 0:
        a, b = 0.0, float(np.average(y, weights=w))
    return float(a), float(b)
