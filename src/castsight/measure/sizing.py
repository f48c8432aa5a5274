"""Size small indications without the blur: fit a projected sphere to the deviation.

An indication's footprint (where its smoothed deviation reaches a quarter of its
peak, :data:`castsight.detect.reference.FOOTPRINT_FRACTION`) is the defect
widened by the imaging chain's unsharpness and the detector's own smoothing,
and its Feret length over pixel corners adds about a pixel more. For defects of
many pixels that excess is a small share; for those of a few pixels it is most
of the size: a 0.55 mm inclusion measured 1.1-1.4 mm, and acceptable pores of
0.8-1.2 mm measured 1.4x, over the plan's limits (docs/notes/2026-12-pose-modes.md).

:func:`fit_sphere` fits the projection of a sphere (path length
``d sqrt(1 - (2 rho / d)^2)``), blurred by the unsharpness (Gaussian
``psf_sigma_px``) and integrated over each pixel, plus a constant, to the
*unsmoothed* deviation around the indication, by least squares over the
diameter and the sub-pixel centre (the amplitude and constant are linear).
:func:`footprint_excess` is then how much larger the same model's footprint
measures, taken the detector's way, than the model's diameter: the blur and
pixel excess to take off the measured Feret and equivalent diameters, which
keeps an elongated footprint's length (an ellipsoidal pore is judged by its
largest diameter).

>>> y = 0.05 * sphere_template(5.0, (0.2, -0.3), psf_sigma_px=0.6, shape=(15, 15))
>>> fit = fit_sphere(y, psf_sigma_px=0.6)
>>> round(fit.diameter_px, 1), round(fit.amplitude, 3)
(5.0, 0.05)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from numpy.typing import NDArray

F32 = NDArray[np.float32]
SUPERSAMPLE = 5
"""Sub-pixels per pixel (per axis) when a template is integrated over the pixel."""
_DIAMETERS = np.geomspace(0.4, 40.0, 97)
"""Diameters (px) the fit chooses among (4.9 % apart)."""
_SHIFTS = np.linspace(-0.6, 0.6, 7)
"""Sub-pixel offsets (px) of the centre tried around the current estimate."""


@dataclass(frozen=True)
class SphereFit:
    """A projected sphere fitted to one indication's deviation."""

    diameter_px: float
    amplitude: float
    """Peak deviation of the unblurred sphere (ln units; its path length times the
    attenuation difference)."""
    centre: tuple[float, float]
    """Row, column of the sphere's centre in the patch (pixel centres at integers)."""
    rms: float
    """Root-mean-square residual of the fit over the patch."""


def sphere_template(
    diameter_px: float,
    centre: tuple[float, float],
    *,
    psf_sigma_px: float,
    shape: tuple[int, int],
) -> F32:
    """The projected sphere (peak 1 before blur), blurred and integrated over pixels.

    ``centre`` is row, column relative to the patch's middle pixel.

    >>> t = sphere_template(16.0, (0.0, 0.0), psf_sigma_px=0.0, shape=(21, 21))
    >>> round(float(t[10, 10]), 2), float(t[10, 1]), float(t[0, 0])
    (1.0, 0.0, 0.0)
    """
    s = SUPERSAMPLE
    h, w = shape
    cy, cx = (h - 1) / 2.0 + centre[0], (w - 1) / 2.0 + centre[1]
    yy = (np.arange(h * s, dtype=np.float64) + 0.5) / s - 0.5 - cy
    xx = (np.arange(w * s, dtype=np.float64) + 0.5) / s - 0.5 - cx
    rho2 = (2.0 / diameter_px) ** 2 * (yy[:, None] ** 2 + xx[None, :] ** 2)
    fine = np.sqrt(np.clip(1.0 - rho2, 0.0, None)).astype(np.float32)
    if psf_sigma_px > 0.0:
        fine = np.asarray(
            cv2.GaussianBlur(fine, (0, 0), psf_sigma_px * s, borderType=cv2.BORDER_CONSTANT),
            np.float32,
        )
    return np.asarray(fine.reshape(h, s, w, s).mean(axis=(1, 3)), np.float32)


def _solve(y: F32, t: F32) -> tuple[float, float, float]:
    """Least squares ``y ~ a t + b``: amplitude, constant and the residual sum of squares."""
    n = y.size
    st, sy = float(t.sum()), float(y.sum())
    stt, sty = float((t * t).sum()), float((t * y).sum())
    det = n * stt - st * st
    if det <= 1e-12:
        return 0.0, sy / n, float(((y - sy / n) ** 2).sum())
    a = (n * sty - st * sy) / det
    b = (sy - a * st) / n
    r = y - a * t - b
    return a, b, float((r * r).sum())


def fit_sphere(patch: NDArray[np.floating], *, psf_sigma_px: float) -> SphereFit:
    """Fit :func:`sphere_template` plus a constant to ``patch`` (indication in the middle).

    Coordinate descent: the diameter over a geometric grid, then the centre over
    sub-pixel offsets, twice; a positive amplitude is sought (pass ``-patch`` for
    more material than around, an inclusion).
    """
    y = np.asarray(patch, np.float32)
    shape = (y.shape[0], y.shape[1])
    pos = np.clip(y - np.median(y), 0.0, None)
    total = float(pos.sum())
    if total > 0.0:
        rows, cols = np.indices(shape)
        cy = float((rows * pos).sum() / total) - (shape[0] - 1) / 2.0
        cx = float((cols * pos).sum() / total) - (shape[1] - 1) / 2.0
    else:
        cy = cx = 0.0
    limit = 0.5 * min(shape)
    grid = _DIAMETERS
    diameters = grid[grid <= 2.0 * limit]
    best = math.inf
    d = 2.0
    for _ in range(2):
        for cand in diameters:
            a, _, ss = _solve(y, sphere_template(cand, (cy, cx), psf_sigma_px=psf_sigma_px,
                                                 shape=shape))  # fmt: skip
            if a > 0 and ss < best:
                best, d = ss, float(cand)
        base = (cy, cx)
        for dy in _SHIFTS:
            for dx in _SHIFTS:
                c = (float(np.clip(base[0] + dy, -limit, limit)),
                     float(np.clip(base[1] + dx, -limit, limit)))  # fmt: skip
                a, _, ss = _solve(y, sphere_template(d, c, psf_sigma_px=psf_sigma_px,
                                                     shape=shape))  # fmt: skip
                if a > 0 and ss < best:
                    best, (cy, cx) = ss, c
    d = _refine(y, d, (cy, cx), psf_sigma_px)
    a, _, ss = _solve(y, sphere_template(d, (cy, cx), psf_sigma_px=psf_sigma_px, shape=shape))
    centre = (cy + (shape[0] - 1) / 2.0, cx + (shape[1] - 1) / 2.0)
    return SphereFit(d, a, centre, math.sqrt(ss / y.size))


def _refine(y: F32, d: float, centre: tuple[float, float], psf_sigma_px: float) -> float:
    """The diameter at the vertex of a parabola through the residuals (in log diameter)
    at ``d`` and its grid neighbours."""
    step = float(np.log(_DIAMETERS[1] / _DIAMETERS[0]))
    shape = (y.shape[0], y.shape[1])
    ss = [_solve(y, sphere_template(d * math.exp(k * step), centre, psf_sigma_px=psf_sigma_px,
                                    shape=shape))[2] for k in (-1, 0, 1)]  # fmt: skip
    curve = ss[0] - 2.0 * ss[1] + ss[2]
    if curve <= 0.0:
        return d
    return d * math.exp(step * float(np.clip(0.5 * (ss[0] - ss[2]) / curve, -1.0, 1.0)))


@lru_cache(maxsize=4096)
def footprint_excess(
    diameter_px: float,
    *,
    psf_sigma_px: float,
    smooth_sigma_px: float,
    fraction: float,
) -> tuple[float, float]:
    """How much the detector's footprint oversizes a sphere of ``diameter_px``.

    The model sphere, blurred (``psf_sigma_px``), smoothed like the detector's
    deviation (``smooth_sigma_px``), cut where it reaches ``fraction`` of its
    peak: returns (Feret over pixel corners, equivalent diameter) of that
    footprint minus ``diameter_px``, averaged over sub-pixel placements.

    >>> feret, eq = footprint_excess(2.0, psf_sigma_px=0.6, smooth_sigma_px=1.0, fraction=0.25)
    >>> 1.5 < feret < 4.0, 1.0 < eq < feret
    (True, True)
    >>> feret, eq = footprint_excess(30.0, psf_sigma_px=0.6, smooth_sigma_px=1.0, fraction=0.25)
    >>> abs(eq) < 1.5
    True
    """
    from castsight.measure.shape import feret_and_width  # one shape measure, not two

    size = int(2 * math.ceil(diameter_px / 2.0 + 4.0 * (psf_sigma_px + smooth_sigma_px)) + 3)
    ferets, eqs = [], []
    for off in ((0.0, 0.0), (0.25, 0.0), (0.5, 0.5), (0.25, 0.4)):
        t = sphere_template(diameter_px, off, psf_sigma_px=psf_sigma_px, shape=(size, size))
        if smooth_sigma_px > 0:
            t = np.asarray(cv2.GaussianBlur(t, (5, 5), smooth_sigma_px), np.float32)
        mask = t >= fraction * float(t.max())
        feret, _ = feret_and_width(mask)
        ferets.append(feret)
        eqs.append(2.0 * math.sqrt(float(mask.sum()) / math.pi))
    return float(np.mean(ferets)) - diameter_px, float(np.mean(eqs)) - diameter_px
