"""Rings around blob candidates: the local background a blob is judged against.

A blob of scale ``sigma`` (px) has a radius ``r = sigma sqrt 2``; its background is a
plane fitted robustly to a ring of ``ring_radii`` times ``r`` around it
(:func:`fit_rings`, many centres at once). Used by the display-export path of the
``local`` detector (:mod:`castsight.detect.archive`: the candidates' features, with its
outer rings; :mod:`castsight.detect.local`: footprints and the share of the view judged).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

MAD = 1.4826
"""Robust spread: 1.4826 MAD is the standard deviation of a normal sample."""


def smoothing(sigma: float) -> float:
    """The Gaussian (px) a blob of scale ``sigma`` is verified on (about half its scale)."""
    return 4.0 if sigma >= 8.0 else 2.0 if sigma >= 4.0 else 1.0


@dataclass(frozen=True)
class Rings:
    """A blob's radius ``r`` (px) and its background ring at one scale."""

    r: float
    inner: float
    """The background ring runs from here ..."""
    outer: float
    """... to here."""

    @classmethod
    def at(cls, sigma: float, ring_radii: tuple[float, float]) -> Rings:
        """The rings of a blob of scale ``sigma``: the background ring from
        ``ring_radii[0]`` to ``ring_radii[1]`` radii (at least 3 px wide)."""
        r = max(sigma * 1.4142, 1.5)
        inner = ring_radii[0] * r
        return cls(r, inner, max(ring_radii[1] * r, inner + 3.0))


@functools.lru_cache(maxsize=256)
def offsets(r0: float, r1: float, stride: int = 1) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Integer offsets ``(dy, dx)`` with ``r0^2 <= dy^2 + dx^2 <= r1^2``, row by row (the
    order of a window's pixels); with ``stride`` > 1 only every ``stride``-th row and column.
    Computed once per ring and kept (the arrays are read-only: they are shared).

    >>> dy, dx = offsets(0.0, 1.0)
    >>> list(zip(dy.tolist(), dx.tolist()))
    [(-1, 0), (0, -1), (0, 0), (0, 1), (1, 0)]
    """
    h = int(np.ceil(r1))
    d = np.arange(-h, h + 1, dtype=np.float32)
    d2 = d[:, None] * d[:, None] + d[None, :] * d[None, :]
    sel = (d2 >= r0 * r0) & (d2 <= r1 * r1)
    if stride > 1:
        on = np.arange(-h, h + 1) % stride == 0
        sel &= on[:, None] & on[None, :]
    dy, dx = np.nonzero(sel)
    dy, dx = dy - h, dx - h
    dy.flags.writeable = False
    dx.flags.writeable = False
    return dy, dx


@dataclass(frozen=True)
class RingFit:
    """Robust planes through the rings around ``N`` centres (one scale, ``K`` offsets)."""

    ok: NDArray[np.bool_]
    """(N,) the ring is part (``min_ring_part``) and the fit kept at least 8 pixels."""
    coef: NDArray[np.float64]
    """(N, 3) level at the centre, slope along x, slope along y."""
    spread: NDArray[np.float64]
    """(N,) robust spread (1.4826 MAD) of the ring about its plane."""
    ring_in: NDArray[np.bool_]
    """(N, K) ring offsets inside the image and the part."""
    rows: NDArray[np.intp]
    """(N, K) image rows of the offsets (clipped to the image)."""
    cols: NDArray[np.intp]
    """(N, K) image columns of the offsets (clipped to the image)."""


def fit_rings(
    smooth: NDArray[Any], mask: NDArray[np.bool_], ys: NDArray[np.intp], xs: NDArray[np.intp],
    dy: NDArray[np.intp], dx: NDArray[np.intp], min_part: float,
) -> RingFit:  # fmt: skip
    """The ring test of :func:`_detect_blobs` around many centres at once.

    A plane is fitted by least squares to each ring's part pixels, then refitted without
    the residuals beyond 3 spreads (1.4826 MAD about their median); the spread is that
    of the second fit. Rings outside the image are cut at its edge; a ring with air on
    more than ``1 - min_part`` of it, fewer than 8 pixels, or fewer than 8 kept is not ok.
    Elementwise numpy and closed-form 3 x 3 solutions only: no BLAS, whose threads crawl
    on a loaded machine.

    >>> img = np.zeros((40, 40), np.float32)
    >>> img[:, 20:] = 1.0                                       # a step edge
    >>> dy, dx = offsets(4.0, 7.0)
    >>> fit = fit_rings(img, np.ones_like(img, bool), np.array([20, 20]),
    ...                  np.array([8, 20]), dy, dx, 0.85)
    >>> fit.ok.tolist(), bool(fit.spread[0] < 1e-6), bool(fit.spread[1] > 0.1)
    ([True, True], True, True)
    """
    rows, cols = smooth.shape
    yy, xx = ys[:, None] + dy[None, :], xs[:, None] + dx[None, :]
    inside = (yy >= 0) & (yy < rows) & (xx >= 0) & (xx < cols)
    yy, xx = np.clip(yy, 0, rows - 1), np.clip(xx, 0, cols - 1)
    flat = yy * cols + xx
    ring_in = inside & mask.ravel()[flat]
    n_ring = inside.sum(axis=1)
    ok = (n_ring >= 8) & (ring_in.sum(axis=1) >= min_part * n_ring)
    vals = smooth.ravel()[flat].astype(np.float64)
    fx, fy = dx.astype(np.float64), dy.astype(np.float64)
    keep = ring_in
    coef = np.zeros((ys.size, 3))
    spread = np.zeros(ys.size)
    for _ in range(2):  # a plane through the ring, refitted without its outliers
        w = keep.astype(np.float64)
        wx, wy, wv = w * fx, w * fy, w * vals
        coef, solvable = solve_plane(
            (w.sum(1), wx.sum(1), wy.sum(1), (wx * fx).sum(1), (wx * fy).sum(1),
             (wy * fy).sum(1)),
            (wv.sum(1), (wv * fx).sum(1), (wv * fy).sum(1)),
        )  # fmt: skip
        ok &= solvable
        res = vals - (coef[:, :1] + coef[:, 1:2] * fx + coef[:, 2:] * fy)
        centre = masked_median(res, keep)
        spread = MAD * masked_median(np.abs(res - centre[:, None]), keep) + 1e-9
        keep = ring_in & (np.abs(res) <= 3.0 * spread[:, None])
        ok &= keep.sum(axis=1) >= 8
    return RingFit(ok, coef, spread, ring_in, yy, xx)


def solve_plane(
    normal: tuple[NDArray[np.float64], ...], rhs: tuple[NDArray[np.float64], ...]
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Solve the symmetric 3 x 3 normal equations ``[[a b c] [b d e] [c e f]] x = rhs`` of
    many fits at once (the adjugate); False where the matrix is singular.

    >>> one = np.ones(1)
    >>> x, ok = solve_plane((one * 2, one * 0, one * 0, one * 4, one * 0, one * 8),
    ...                      (one * 2, one * 4, one * 8))
    >>> x.tolist(), ok.tolist()
    ([[1.0, 1.0, 1.0]], [True])
    """
    a, b, c, d, e, f = normal
    cof_a, cof_b, cof_c = d * f - e * e, c * e - b * f, b * e - c * d
    cof_d, cof_e, cof_f = a * f - c * c, b * c - a * e, a * d - b * b
    det = a * cof_a + b * cof_b + c * cof_c
    ok = np.abs(det) > 1e-12 * np.maximum(np.abs(a * d * f), 1e-300)
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    r0, r1, r2 = rhs
    x = np.stack(
        [
            (cof_a * r0 + cof_b * r1 + cof_c * r2) * inv,
            (cof_b * r0 + cof_d * r1 + cof_e * r2) * inv,
            (cof_c * r0 + cof_e * r1 + cof_f * r2) * inv,
        ],
        axis=1,
    )
    return x, ok


def masked_median(values: NDArray[np.float64], keep: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Median of each row of ``values`` over its ``keep`` entries (0 where none): rows
    sorted at once when up to 1024 long (every sampled ring), else one partition per row.

    >>> masked_median(np.array([[1.0, 5.0, 2.0, 9.0]]), np.array([[True, True, True, False]]))
    array([2.])
    """
    if values.shape[1] > 1024:
        return np.array(
            [float(np.median(v[k])) if k.any() else 0.0 for v, k in zip(values, keep, strict=True)]
        )
    n = keep.sum(axis=1)
    ordered = np.sort(np.where(keep, values, np.inf), axis=1)
    idx = np.arange(values.shape[0])
    lo, hi = np.maximum((n - 1) // 2, 0), np.maximum(n // 2, 0)
    mid = 0.5 * (ordered[idx, lo] + ordered[idx, hi])
    return np.asarray(np.where(n > 0, mid, 0.0), np.float64)


def pixel_noise(
    a: NDArray[Any], model_std: NDArray[np.float32], blurred: NDArray[Any] | None = None
) -> NDArray[np.float32]:
    """Per-pixel noise of ``a``: the mean absolute high-pass residual per 32 px block
    (as a std), median-filtered across blocks, at least the noise model's (which holds
    the quantisation step). ``blurred``: ``a`` blurred by a Gaussian of 1 px, when the
    caller has it already."""
    if blurred is None:
        blurred = cv2.GaussianBlur(a, (0, 0), 1.0)
    hp = cv2.absdiff(a, blurred)
    rows, cols = a.shape
    grid = (max(cols // 32, 3), max(rows // 32, 3))
    coarse: NDArray[Any] = cv2.resize(hp, grid, interpolation=cv2.INTER_AREA)
    coarse = cv2.medianBlur(np.asarray(coarse * np.float32(1.2533 * 1.2), np.float32), 3)
    level = cv2.resize(coarse, (cols, rows), interpolation=cv2.INTER_LINEAR)
    return np.asarray(np.maximum(level, model_std), np.float32)
