"""Probability of detection from hit/miss data, after MIL-HDBK-1823A.

Model: ``POD(a) = F((ln a - mu) / sigma)`` with ``F`` the logistic CDF
(``"logit"``, default) or the standard normal CDF (``"probit"``), fitted by
maximum likelihood (``scipy.optimize.minimize``, trust-region Newton on the
exact gradient and Hessian). ``a50 = exp(mu)``, ``a90 = exp(mu + sigma F^-1(0.9))``.

Confidence bounds use the likelihood-ratio (profile likelihood) method. For a
point ``a`` the lower bound on ``POD(a)`` is ``F(eta_L)`` where ``eta_L`` is the
smallest linear predictor ``eta(a) = (ln a - mu)/sigma`` with
``2 (l_max - l_profile(eta(a) = eta_L)) <= c``; ``l_profile`` maximises the
log-likelihood over the slope with ``eta(a)`` held fixed, and
``c = chi2_1^-1(2 * confidence - 1)`` (2.706 for 95 %): the one-sided 95 %
bound, i.e. the end of the two-sided 90 % likelihood-ratio interval.
``a90/95`` is the largest ``a90`` inside that region, which is where the lower
band crosses POD = 0.9 (fixing ``eta(a) = F^-1(0.9)`` fixes ``a90 = a``).

>>> rng = np.random.default_rng(1)
>>> a = np.exp(rng.uniform(-1.5, 1.5, 300))
>>> hit = rng.random(300) < 1 / (1 + np.exp(-np.log(a) / 0.25))
>>> r = fit_pod(a, hit)
>>> r.converged, round(r.a50, 1), r.a90 < r.a90_95 < 1.2 * r.a90
(True, 1.0, True)
>>> fit_pod([1.0, 2.0, 3.0], [True, True, True]).a90_95 is None
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special, stats

from castsight.evaluate.detection import Matching, match_predictions

Json = dict[str, Any]
Array = NDArray[np.float64]
MODELS = ("logit", "probit")
SIZE_FIELDS = ("size_mm", "d_prime")
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _log_cdf(t: Array, model: str) -> Array:
    return special.log_expit(t) if model == "logit" else special.log_ndtr(t)  # type: ignore[no-any-return]


def _score(t: Array, model: str) -> tuple[Array, Array]:
    """d/dt log F(t) and its derivative."""
    if model == "logit":
        return special.expit(-t), -special.expit(t) * special.expit(-t)
    g = np.exp(-0.5 * t * t - _HALF_LOG_2PI - special.log_ndtr(t))
    return g, -g * (t + g)


def _terms(eta: Array, y: Array, model: str) -> tuple[float, Array, Array]:
    """Log-likelihood and its first and second derivatives per observation in eta."""
    ll = float(np.sum(y * _log_cdf(eta, model) + (1 - y) * _log_cdf(-eta, model)))
    g_pos, h_pos = _score(eta, model)
    g_neg, h_neg = _score(-eta, model)
    return ll, y * g_pos - (1 - y) * g_neg, y * h_pos + (1 - y) * h_neg


def _quantile(p: float, model: str) -> float:
    return math.log(p / (1 - p)) if model == "logit" else float(special.ndtri(p))


def _cdf(t: Array, model: str) -> Array:
    return special.expit(t) if model == "logit" else special.ndtr(t)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class PODResult:
    """Fitted hit/miss POD curve; sizes are in the unit of the input (None: not estimable)."""

    model: str
    mu: float | None
    sigma: float | None
    a50: float | None
    a90: float | None
    a90_95: float | None
    n: int
    n_hits: int
    converged: bool
    notes: tuple[str, ...]
    a90_lower: float | None = None
    confidence: float = 0.95
    loglik: float | None = None
    sizes: tuple[float, ...] = ()
    hits: tuple[bool, ...] = ()

    def to_dict(self, include_data: bool = False) -> dict[str, Any]:
        """JSON-ready form (the hit/miss data only with ``include_data``)."""
        out = asdict(self)
        out["notes"] = list(self.notes)
        if include_data:
            out["sizes"], out["hits"] = list(self.sizes), list(self.hits)
        else:
            del out["sizes"], out["hits"]
        return out


def _standardise(x: Array) -> tuple[Array, float, float]:
    xbar, sx = float(x.mean()), float(x.std())
    return (x - xbar) / sx, xbar, sx


@dataclass(frozen=True)
class _Fit:
    """Standardised data ``z = (ln a - xbar) / sx`` and a fit ``eta = c0 + c1 z``."""

    z: Array
    y: Array
    model: str
    c0: float
    c1: float
    ll: float
    xbar: float
    sx: float
    crit: float

    @classmethod
    def at(cls, x: Array, y: Array, model: str, c0: float, c1: float, conf: float) -> _Fit:
        """The fit (c0, c1) on data ``x = ln a``, with the critical value for ``conf``."""
        z, xbar, sx = _standardise(x)
        crit = float(stats.chi2.ppf(2.0 * conf - 1.0, df=1))
        return cls(z, y, model, c0, c1, _terms(c0 + c1 * z, y, model)[0], xbar, sx, crit)

    def profile(self, z0: float, eta0: float) -> float:
        """Deviance 2 (l_max - max over slope of l) with the predictor fixed to eta0 at z0."""
        u = self.z - z0
        c1, bound = self.c1, 50.0 * max(abs(self.c1), 1.0)
        ll, d1, d2 = _terms(eta0 + c1 * u, self.y, self.model)
        for _ in range(100):
            step = -float(np.sum(d1 * u)) / min(float(np.sum(d2 * u * u)), -1e-12)
            t = 1.0
            while t > 1e-6:  # Newton with step halving on a concave function
                new = float(np.clip(c1 + t * step, -bound, bound))
                ll_new, d1_new, d2_new = _terms(eta0 + new * u, self.y, self.model)
                if ll_new >= ll:
                    break
                t /= 2.0
            if ll_new < ll or ll_new - ll < 1e-13 or abs(new - c1) < 1e-10 * (1 + abs(c1)):
                ll = max(ll, ll_new)
                break
            c1, ll, d1, d2 = new, ll_new, d1_new, d2_new
        return 2.0 * (self.ll - ll)

    def crossing(self, fn: Any, start: float, direction: float, step: float) -> float | None:
        """First point from ``start`` along ``direction`` where fn reaches crit (None: never)."""
        lo, s = start, step
        while s <= 200.0:
            hi = start + direction * s
            if fn(hi) >= self.crit:
                a, b = sorted((lo, hi))
                return float(optimize.brentq(lambda v: fn(v) - self.crit, a, b, xtol=1e-10))
            lo, s = hi, 2.0 * s
        return None


def _degenerate(x: Array, y: Array) -> str | None:
    n, k = len(y), int(y.sum())
    if n == 0:
        return "no hit/miss data"
    if k == n:
        return f"all {n} targets were hit: no misses, POD cannot be fitted (all sizes >= {np.exp(x.min()):.4g} found)"  # noqa: E501
    if k == 0:
        return f"none of {n} targets was hit: POD cannot be fitted"
    if np.ptp(x) == 0:
        return "all targets have the same size: POD cannot be fitted"
    if x[y == 0].max() <= x[y == 1].min():
        return (
            f"perfect separation: every miss (largest {np.exp(x[y == 0].max()):.4g}) is no larger"
            f" than every hit (smallest {np.exp(x[y == 1].min()):.4g}); the MLE does not exist"
        )
    if x[y == 1].max() <= x[y == 0].min():
        return "perfect separation: every hit is smaller than every miss; the MLE does not exist"
    return None


def fit_pod(
    sizes: ArrayLike, hits: ArrayLike, *, model: str = "logit", confidence: float = 0.95
) -> PODResult:
    """Fit POD(a) to hit/miss data by maximum likelihood; a90/95 by likelihood ratio."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    a = np.asarray(sizes, dtype=np.float64).ravel()
    y_all = np.asarray(hits, dtype=bool).ravel()
    if a.shape != y_all.shape:
        raise ValueError(f"sizes and hits differ in length ({a.size} vs {y_all.size})")
    keep = np.isfinite(a) & (a > 0)
    notes = [] if keep.all() else [f"{int((~keep).sum())} sizes <= 0 or not finite ignored"]
    a, y = a[keep], y_all[keep].astype(np.float64)
    base: dict[str, Any] = {
        "model": model,
        "n": int(a.size),
        "n_hits": int(y.sum()),
        "confidence": confidence,
        "sizes": tuple(float(v) for v in a),
        "hits": tuple(bool(v) for v in y),
    }
    empty: dict[str, Any] = dict.fromkeys(("mu", "sigma", "a50", "a90", "a90_95"))
    x = np.log(a)
    reason = _degenerate(x, y)
    if reason is not None:
        return PODResult(**base, **empty, converged=False, notes=(*notes, reason))
    if a.size < 60:
        notes.append(f"only {a.size} targets; MIL-HDBK-1823A asks for at least 60")
    z, xbar, sx = _standardise(x)

    def nll(c: Array) -> tuple[float, Array]:
        ll, d1, _ = _terms(c[0] + c[1] * z, y, model)
        return -ll, -np.array([d1.sum(), (d1 * z).sum()])

    def hess(c: Array) -> Array:
        d2 = _terms(c[0] + c[1] * z, y, model)[2]
        off = float((d2 * z).sum())
        return -np.array([[d2.sum(), off], [off, (d2 * z * z).sum()]])

    start = np.array([_quantile(float(np.clip(y.mean(), 0.05, 0.95)), model), 1.0])
    res = optimize.minimize(nll, start, jac=True, hess=hess, method="trust-exact")
    converged = bool(res.success)
    if not converged:
        notes.append(f"maximum likelihood did not converge ({res.message})")
    c0, c1 = (float(v) for v in res.x)
    if c1 <= 0:
        notes.append("fitted POD does not increase with size (slope <= 0)")
        return PODResult(**base, **empty, converged=converged, notes=tuple(notes))
    fit = _Fit.at(x, y, model, c0, c1, confidence)
    q90 = _quantile(0.9, model)
    psi = (q90 - c0) / c1

    def dev(v: float) -> float:
        return fit.profile(v, q90)

    up, low = fit.crossing(dev, psi, 1.0, 0.1), fit.crossing(dev, psi, -1.0, 0.1)
    a90 = math.exp(xbar + sx * psi)
    a90_95 = None if up is None else math.exp(xbar + sx * up)
    if a90_95 is None:
        notes.append("the upper confidence bound on a90 is not finite: too few data")
    elif a90_95 > a.max():
        notes.append(f"a90/95 lies beyond the largest size tested ({a.max():.4g}): extrapolated")
    return PODResult(
        **base,
        mu=xbar - sx * c0 / c1,
        sigma=sx / c1,
        a50=math.exp(xbar - sx * c0 / c1),
        a90=a90,
        a90_95=a90_95,
        a90_lower=None if low is None else math.exp(xbar + sx * low),
        loglik=fit.ll,
        converged=converged,
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class PODCurve:
    """POD and its lower (one-sided, ``confidence``) likelihood-ratio bound on a size grid."""

    sizes: tuple[float, ...]
    pod: tuple[float, ...]
    lower: tuple[float, ...]


def describe_a90_95(result: PODResult, unit: str = "") -> str:
    """a90/95 as a figure to quote, or why there is none.

    >>> r = PODResult("logit", None, None, None, None, None, 3, 1, True, ("too few hits",))
    >>> describe_a90_95(r)
    '- (too few hits)'
    """
    if result.a90_95 is None:
        return "- (" + "; ".join(result.notes) + ")" if result.notes else "-"
    largest = max(result.sizes, default=float("inf"))
    if result.a90_95 > largest:
        return f"> {largest:.3g}{unit} (largest tested; not reached)"
    return f"{result.a90_95:.3g}{unit}"


def pod_curve(result: PODResult, grid: ArrayLike | None = None, n_points: int = 60) -> PODCurve:
    """Evaluate a fitted POD curve and its lower confidence band (empty if not fitted).

    >>> r = PODResult("logit", 0.0, 0.25, 1.0, 1.73, None, 0, 0, True, ())
    >>> [round(p, 3) for p in pod_curve(r, [1.0, 1.73]).pod]
    [0.5, 0.9]
    """
    if result.mu is None or result.sigma is None:
        return PODCurve((), (), ())
    a = np.asarray(result.sizes, dtype=np.float64)
    if grid is None:
        grid = np.geomspace(a.min() / 1.5, a.max() * 1.5, n_points)
    g = np.asarray(grid, dtype=np.float64).ravel()
    eta = (np.log(g) - result.mu) / result.sigma
    pod = _cdf(eta, result.model)
    lower = np.full_like(pod, np.nan)
    if a.size:
        x, y = np.log(a), np.asarray(result.hits, dtype=np.float64)
        _, xbar, sx = _standardise(x)
        c0, c1 = (xbar - result.mu) / result.sigma, sx / result.sigma
        fit = _Fit.at(x, y, result.model, c0, c1, result.confidence)
        for i, value in enumerate(np.log(g)):
            z0 = (value - xbar) / sx
            eta_low = fit.crossing(lambda e, z0=z0: fit.profile(z0, e), c0 + c1 * z0, -1.0, 0.25)
            lower[i] = 0.0 if eta_low is None else _cdf(np.array(eta_low), result.model)
    return PODCurve(
        tuple(float(v) for v in g), tuple(float(v) for v in pod), tuple(float(v) for v in lower)
    )


def hit_miss(
    truth: Json,
    predictions: Sequence[Json],
    *,
    field: str = "size_mm",
    iou_threshold: float = 0.5,
    score_threshold: float = 0.5,
    mode: str = "box",
    per_defect: bool = False,
    matching: Matching | None = None,
) -> tuple[Array, NDArray[np.bool_]]:
    """(size, hit) per truth annotation, size from ``field`` ("size_mm" or "d_prime").

    Annotations without a positive ``field`` value are left out. ``per_defect``
    merges the views of one physical defect (same ``part`` and ``defect_id``):
    a hit if any view was hit, the size the largest over its views.

    >>> truth = {"images": [{"id": 1, "file_name": "a.tif", "width": 9, "height": 9}],
    ...          "categories": [], "annotations": [
    ...     {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "d_prime": 9.0},
    ...     {"id": 2, "image_id": 1, "category_id": 1, "bbox": [5, 5, 2, 2], "d_prime": 2.0}]}
    >>> hit_miss(truth, [{"image_id": 1, "bbox": [0, 0, 2, 2], "score": 1.0}], field="d_prime")
    (array([9., 2.]), array([ True, False]))
    """
    if field not in SIZE_FIELDS:
        raise ValueError(f"field must be one of {SIZE_FIELDS}, got {field!r}")
    if matching is None:
        matching = match_predictions(truth, predictions, iou_threshold=iou_threshold, mode=mode)
    found = matching.hit_ids(score_threshold)
    groups: dict[Any, tuple[float, bool]] = {}
    for ann in truth["annotations"]:
        value = ann.get(field)
        if not isinstance(value, int | float) or not value > 0:
            continue
        key = ann["id"]
        if per_defect and ann.get("part") is not None and ann.get("defect_id") is not None:
            key = (ann["part"], ann["defect_id"])
        size, hit = groups.get(key, (0.0, False))
        groups[key] = (max(size, float(value)), hit or ann["id"] in found)
    sizes = np.array([s for s, _ in groups.values()], dtype=np.float64)
    return sizes, np.array([h for _, h in groups.values()], dtype=bool)
