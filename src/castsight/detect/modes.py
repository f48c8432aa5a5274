"""Pose modes: the low-rank part of how good parts of one view differ from each other.

A part sits in its fixture a fraction of a degree and of a millimetre
differently every time. The in-plane part of that (shift, rotation) is
removed by registration; what is left, out-of-plane tilt and distance to the
source, changes the path length through ribs, towers and bosses and moves
their edges by a fraction of a pixel. Over small pose changes the image is
close to linear in the pose parameters (a first-order Taylor expansion), so
the good parts' registered deviations from their mean lie near a subspace of
a few dimensions: the *pose modes*.

The ``reference`` detector used to fold this variation into its per-pixel
spread, 9-42x the noise over thick structure, where it then saw no defect.
With pose modes it fits each image's pose coefficients (robustly, on a
downsampled image, so that a defect moves them little) and subtracts the
predicted pose variation before comparing with a spread learned
*leave-one-out*: each good image predicted from the others exactly as a new
part will be, so the spread holds the noise, what the modes miss and the
noise of the modes themselves, nothing in-sample.

The number of modes is chosen per view from the data: the one that predicts
held-out good images best (leave-one-out, on the downsampled images).

>>> rng = np.random.default_rng(0)
>>> basis = rng.normal(size=(2, 400)).astype(np.float32)
>>> rows = (rng.normal(size=(30, 2)) @ basis + 0.01 * rng.normal(size=(30, 400))).astype(np.float32)
>>> mask = np.ones(400, bool)
>>> k = choose_count(rows, mask, np.arange(400) % 2 == 0, max_modes=8)
>>> modes = (mode_weights(rows, mask, k) @ (rows - rows.mean(axis=0))).astype(np.float32)
>>> k, modes.shape
(2, (2, 400))
>>> y = 0.7 * basis[0] - 0.2 * basis[1]
>>> c = fit_coefficients(y, modes, np.ones(400, bool))
>>> bool(np.abs(y - c @ modes).max() < 0.05)
True
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F32 = NDArray[np.float32]
MAX_MODES = 12
"""Most pose modes kept per view (also capped at a third of the good images)."""
HUBER_K = 2.0
"""Huber's constant, in robust standard deviations of the fit residual."""
IRLS_STEPS = 4


def choose_count(
    rows: F32, mask: NDArray[np.bool_], half: NDArray[np.bool_], *, max_modes: int = MAX_MODES
) -> int:
    """How many pose modes of ``rows`` (images x pixels, downsampled deviations) predict a
    held-out image best, at most ``max_modes`` and a third of the rows.

    Cross-validated twice over: each row is predicted from the modes of the others
    (leave one image out), with coefficients fitted on one ``half`` of the
    ``mask`` pixels and scored on the other half, and the other way round (leave
    pixels out: a fit scored on its own pixels always improves with more modes,
    even with modes of pure noise).
    """
    n = rows.shape[0]
    kmax = max(0, min(max_modes, n // 3))
    if kmax == 0 or not mask.any():
        return 0
    sse = np.zeros(kmax + 1)
    for i in range(n):
        others = np.delete(rows, i, axis=0).astype(np.float64)
        mean = others.mean(axis=0)
        modes = mode_weights(others.astype(np.float32), mask, kmax) @ (others - mean)
        y = rows[i] - mean
        for fit, score in ((mask & half, mask & ~half), (mask & ~half, mask & half)):
            for k in range(kmax + 1):
                a = np.vstack([np.ones(int(fit.sum())), modes[:k, fit]]).T
                coef = np.linalg.lstsq(a, y[fit], rcond=None)[0]
                pred = coef[0] + coef[1:] @ modes[:k, score]
                sse[k] += float(np.sum(np.square(y[score] - pred)))
    return int(np.argmin(sse))


def mode_weights(rows: F32, mask: NDArray[np.bool_], k: int) -> NDArray[np.float64]:
    """``(k, n)`` weights: mode ``j`` is ``weights[j] @ (rows - mean)``, orthonormal over
    ``mask``. The same weights applied to the full-resolution rows give the
    full-resolution modes, since downsampling is linear."""
    sub = rows[:, mask].astype(np.float64)
    return _weights(sub - sub.mean(axis=0), k)


def leave_one_out(rows: F32, mask: NDArray[np.bool_], k: int) -> NDArray[np.float64]:
    """``(n, n)`` matrix ``P`` whose row ``i`` predicts row ``i`` from the others alone
    (their mean plus ``k`` modes fitted with :func:`fit_coefficients`): ``P @ full``
    are the held-out predictions of full-resolution rows (``P[i, i] == 0``)."""
    n = rows.shape[0]
    out = np.zeros((n, n))
    for i in range(n):
        keep = np.arange(n) != i
        others = rows[keep].astype(np.float64)
        mean = others.mean(axis=0)
        w = np.full(n - 1, 1.0 / (n - 1))
        if k:
            weights = mode_weights(rows[keep], mask, k)
            modes = (weights @ (others - mean)).astype(np.float32)
            c = fit_coefficients((rows[i] - mean).astype(np.float32), modes, mask)
            a = c @ weights
            w += a - a.sum() / (n - 1)
        out[i, keep] = w
    return out


def _weights(centred: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    gram = centred @ centred.T
    vals, vecs = np.linalg.eigh(gram)
    order = np.argsort(vals)[::-1][:k]
    vals, vecs = np.maximum(vals[order], 1e-30), vecs[:, order]
    return np.asarray((vecs / np.sqrt(vals)).T, np.float64)


def fit_coefficients(y: F32, modes: F32, mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Coefficients ``c`` with ``y ~ c0 + c @ modes`` over ``mask`` (Huber IRLS; ``c0``,
    an exposure offset, is fitted and dropped). A defect is a few pixels of ``y``
    far off the fit: the Huber weights keep it from pulling the coefficients."""
    k = modes.shape[0]
    if k == 0:
        return np.zeros(0)
    a = np.vstack([np.ones(int(mask.sum())), modes[:, mask]]).T.astype(np.float64)
    b = y[mask].astype(np.float64)
    w = np.ones_like(b)
    coef = np.zeros(k + 1)
    for _ in range(IRLS_STEPS):
        # the weighted normal equations: k + 1 unknowns over tens of thousands of pixels,
        # a tenth of an SVD least squares' time (a third of a view's detection before)
        aw = a * w[:, None]
        coef = _solve_normal(aw.T @ a, aw.T @ b)
        r = b - a @ coef
        s = 1.4826 * float(np.median(np.abs(r - np.median(r)))) or 1e-12
        u = np.abs(r) / (HUBER_K * s)
        w = np.where(u <= 1.0, 1.0, 1.0 / np.maximum(u, 1e-12))
    return np.asarray(coef[1:], np.float64)


def _solve_normal(gram: NDArray[np.float64], rhs: NDArray[np.float64]) -> NDArray[np.float64]:
    """``gram c = rhs``; least squares where ``gram`` is singular (a mode all zero where
    it is fitted)."""
    try:
        return np.asarray(np.linalg.solve(gram, rhs), np.float64)
    except np.linalg.LinAlgError:
        return np.asarray(np.linalg.lstsq(gram, rhs, rcond=None)[0], np.float64)
