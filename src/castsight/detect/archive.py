"""Display exports: blob candidates, judged by a small classifier on their rings.

8-bit archives (windowed, gamma-mapped, filtered, of parts castsight never saw) carry
no noise model and no reference: a defect is a compact bright (or, when small, dark)
blob, and so are many corners, bores and rims of the design. Hand-set rules on a blob's
ring (each one a hard rejection) found almost nothing on such archives (foreign-part
suite, loose AP 0.006), because a defect at a thick node (a corner boss, a rib root,
a hub: where shrinkage forms) has structure in its ring. Here every candidate is
described by what those rules looked at, as numbers, and a small network weighs them:

1. Candidates (:func:`blob_candidates`): local maxima over space of the
   scale-normalised smaller Hessian eigenvalue of the attenuation at the scales
   ``blob_scales_px`` (an image pyramid for the coarse ones), where the ratio of the
   eigenvalues is at most ``max_ratio`` (an edge's is unbounded), the strongest
   ``max_n`` over the image's own noise.
2. Features (:func:`blob_features`, :data:`FEATURES`), each independent of the
   image's grey scale, window and gamma where it can be: the scale, the strength, the
   eigenvalue ratio; against a plane fitted robustly to the background ring
   (:func:`castsight.detect.rings.fit_rings`): the core's contrast (in grey levels and
   relative), its significance over the ring's spread and the noise, the ring's
   structure, its share on the part, how one-sided its residual is (eight sectors),
   the plane's slope; the outer ring lying the blob's way or the other (a hole in a
   boss, a blob on a ridge); the distances to the silhouette and to the image's frame
   (a crop's edge, where the filters' borders make blobs of their own).
3. The classifier (:class:`BlobClassifier`): a multilayer perceptron of one hidden
   layer (numpy, no framework), trained by :mod:`castsight.bench.archive_training` on
   simulated archives of part designs of every family and seeds the benches never use,
   shipped as JSON (``castsight/data/archive-blobs.json``). Its probability is the
   indication's score.

>>> import numpy as np
>>> from castsight.radiograph import Radiograph
>>> from castsight.preprocess.prepare import prepare
>>> img = np.full((160, 200), 120.0)
>>> img[:, 100:] = 60.0                                   # a wall: thicker, darker
>>> yy, xx = np.mgrid[:160, :200]
>>> img += 14.0 * np.exp(-((yy - 80) ** 2 + (xx - 50) ** 2) / (2 * 5.0**2))  # a pore
>>> u8 = np.clip(np.round(img), 0, 255).astype(np.uint8)
>>> found = blob_candidates_of(prepare(Radiograph(u8)))
>>> best = int(np.argmax(default_classifier().score(found.features)))
>>> abs(int(found.x[best]) - 50) <= 2, abs(int(found.y[best]) - 80) <= 2
(True, True)
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import cv2
import numpy as np
from numpy.typing import NDArray

from castsight.detect.rings import Rings, fit_rings, masked_median, offsets, pixel_noise, smoothing
from castsight.errors import InputError
from castsight.preprocess.prepare import PreparedImage

FEATURES = (
    "log_scale",
    "log_strength",
    "log_eigen_ratio",
    "ring_on_part",
    "contrast_grey",
    "contrast_rel",
    "significance",
    "log_ring_structure",
    "outer_lifted",
    "outer_sunk",
    "far_lifted",
    "far_sunk",
    "log_slope",
    "one_sided",
    "silhouette_distance",
    "frame_distance",
    "polarity",
)
"""The features of a candidate, in the classifier's order (see the module docstring)."""

SCALES_PX = (1.2, 1.7, 2.4, 3.4, 4.8, 6.8, 9.6, 13.6, 19.2, 27.0)
"""Scales of the blob search (blobs ~3 to ~80 px across)."""
RING_RADII = (1.6, 2.6)
"""The background ring, in blob radii (sigma sqrt 2)."""
OUTER_RADIUS = 3.4
"""The outer ring's reach, in blob radii."""
FAR_RADIUS = 5.5
"""The far ring's reach, in blob radii (from the outer ring's): the wall around a boss
whose hole the blob may be."""
MAX_DENSE_SCALE_PX = 3.0
"""Dense inclusions (darker) are sought only up to this scale."""
SECTORS = 8
"""Sectors of the background ring whose mean residuals say how one-sided it is."""
RING_SAMPLES = 400
"""About this many pixels of a ring at most (a regular subset at the coarse scales)."""


class Candidates(NamedTuple):
    """Blob candidates of one view (arrays of one length), strongest first."""

    y: NDArray[np.intp]
    x: NDArray[np.intp]
    sigma: NDArray[np.float64]
    polarity: NDArray[np.intp]
    strength: NDArray[np.float64]
    """Scale-normalised smaller eigenvalue over the local noise (ranking)."""
    ratio: NDArray[np.float64]
    """Larger over smaller Hessian eigenvalue (1: round; an edge's is unbounded)."""


class Described(NamedTuple):
    """Candidates with their features and what their footprints are cut from."""

    candidates: Candidates
    features: NDArray[np.float64]
    """(N, len(FEATURES))."""
    plane: NDArray[np.float64]
    """(N, 3) the background plane: level at the centre, slope along x, along y."""
    contrast: NDArray[np.float64]
    """(N,) the core's deviation from the plane, the candidate's way (ln units)."""

    @property
    def x(self) -> NDArray[np.intp]:
        """Columns of the candidates."""
        return self.candidates.x

    @property
    def y(self) -> NDArray[np.intp]:
        """Rows of the candidates."""
        return self.candidates.y


def hessian(a: NDArray[Any], sigma: float) -> tuple[NDArray[Any], NDArray[Any]]:
    """Half the trace and the eigenvalue half-spread of the Hessian of ``a`` at scale
    ``sigma`` (px): its eigenvalues are ``half_trace -/+ root``."""
    g = cv2.GaussianBlur(a, (0, 0), sigma)
    dxx = cv2.Sobel(g, cv2.CV_32F, 2, 0, ksize=3)
    dyy = cv2.Sobel(g, cv2.CV_32F, 0, 2, ksize=3)
    dxy = cv2.Sobel(g, cv2.CV_32F, 1, 1, ksize=3)
    # in place, the same operations in the same order: (dxx + dyy) / 2 and
    # sqrt(((dxx - dyy) / 2)^2 + dxy^2), with no temporaries
    half_trace = np.add(dxx, dyy)
    half_trace *= np.float32(0.5)
    spread = np.subtract(dxx, dyy, out=dxx)
    spread *= np.float32(0.5)
    np.square(spread, out=spread)
    spread += np.square(dxy, out=dxy)
    return half_trace, cv2.sqrt(spread, spread)


def blob_candidates(
    a: NDArray[np.float32], mask: NDArray[np.bool_], noise: NDArray[np.float32],
    *, max_ratio: float = 12.0, max_n: int = 250,
) -> Candidates:  # fmt: skip
    """Step 1 of the module docstring: blob-like local maxima at every scale."""
    rows, cols = a.shape
    level: NDArray[Any] = a
    factor = 1
    parts: list[tuple[NDArray[Any], ...]] = []
    for sigma in SCALES_PX:
        while sigma / factor > 3.5 and min(level.shape) > 32:
            level, factor = cv2.pyrDown(level), factor * 2
        s = sigma / factor
        half_trace, root = hessian(level, s)
        lower = np.subtract(half_trace, root)  # the eigenvalues
        upper = np.add(half_trace, root, out=half_trace)
        for polarity in (1, -1) if sigma <= MAX_DENSE_SCALE_PX else (1,):
            ys, xs, small, large = _blob_peaks(lower, upper, polarity, s, max_ratio)
            y = np.minimum(ys * factor + factor // 2, rows - 1)
            x = np.minimum(xs * factor + factor // 2, cols - 1)
            strength = small * np.float32(s * s) * np.float32(sigma) / noise[y, x]
            keep = mask[y, x] & (strength > 0.5)
            n = int(keep.sum())
            ratio = large / np.maximum(small, 1e-12)
            parts.append((y[keep], x[keep], np.full(n, sigma), np.full(n, polarity),
                          strength[keep], ratio[keep]))  # fmt: skip
    y, x, sig, pol, strength, ratio = (np.concatenate(c) for c in zip(*parts, strict=True))
    top = _strongest(strength, max_n)
    return Candidates(
        y[top].astype(np.intp), x[top].astype(np.intp), sig[top].astype(np.float64),
        pol[top].astype(np.intp), strength[top].astype(np.float64),
        ratio[top].astype(np.float64),
    )  # fmt: skip


_NEIGHBOURS = np.ones((3, 3), np.uint8)
"""The 3 x 3 neighbourhood a blob's response must be largest in."""


def _blob_peaks(
    lower: NDArray[np.float32], upper: NDArray[np.float32], polarity: int, s: float,
    max_ratio: float,
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[Any], NDArray[Any]]:  # fmt: skip
    """Rows, columns, smaller and larger eigenvalue (the ``polarity``'s way) of the local
    maxima of the scale-normalised smaller eigenvalue ``s^2 small`` over its 3 x 3
    neighbourhood, where it is positive and ``large <= max_ratio * small``.

    The eigenvalues the dense way (``polarity`` -1) are ``-upper`` and ``-lower``: the
    tests are written on ``lower`` and ``upper`` directly (exact: negation only flips
    the sign), so no negated copies are made.
    """
    if polarity > 0:
        small, large, scale = lower, upper, np.float32(s * s)
        ok = (small > 0) & (large <= max_ratio * small)
    else:  # small = -upper, large = -lower
        small, large, scale = upper, lower, np.float32(-(s * s))
        ok = (small < 0) & (large >= max_ratio * small)
    # OpenCV's masks and comparisons (exact) where numpy's boolean indexing crawls
    resp = np.asarray(cv2.copyTo(np.multiply(small, scale), ok.view(np.uint8)))  # 0 where not
    peaks = cv2.compare(resp, cv2.dilate(resp, _NEIGHBOURS), cv2.CMP_GE)
    np.bitwise_and(peaks, (resp > 0).view(np.uint8), out=peaks)
    points = cv2.findNonZero(peaks)  # (x, y), row by row as np.nonzero; None when none
    xy = np.zeros((0, 2), np.intp) if points is None else points.reshape(-1, 2).astype(np.intp)
    ys, xs = xy[:, 1], xy[:, 0]
    sign = np.float32(polarity)
    return ys, xs, small[ys, xs] * sign, large[ys, xs] * sign


def _strongest(values: NDArray[Any], n: int) -> NDArray[np.intp]:
    """Indices of the ``n`` largest ``values``, largest first, ties in index order: the
    first ``n`` of a stable descending sort, sorting only those at or above the ``n``-th
    largest value (all of them, ties included, in index order)."""
    neg = -values
    cut = np.partition(neg, n - 1)[n - 1] if neg.size > n > 0 else np.nan
    if not np.isfinite(cut):  # all of them (or NaN about): sort them all
        return np.argsort(neg, kind="stable")[:n]
    pick = np.flatnonzero(neg <= cut)
    return pick[np.argsort(neg[pick], kind="stable")][:n]


def blob_candidates_of(image: PreparedImage, *, max_n: int = 250) -> Described:
    """Candidates of one prepared view with their features (steps 1 and 2)."""
    a = np.asarray(image.attenuation, np.float32)
    noise = pixel_noise(a, image.noise_std)
    found = blob_candidates(a, image.mask, noise, max_n=max_n)
    return blob_features(image, found, noise)


def blob_features(
    image: PreparedImage, found: Candidates, noise: NDArray[np.float32],
    smooth: dict[float, NDArray[Any]] | None = None,
) -> Described:  # fmt: skip
    """Step 2 of the module docstring, one batch per scale. ``smooth``: the attenuation
    blurred by each :func:`~castsight.detect.rings.smoothing` (sigma -> image), shared
    with the caller: the blurs missing from it are added."""
    a = np.asarray(image.attenuation, np.float32)
    mask = image.mask
    grey = np.asarray(image.radiograph.pixels, np.float32)
    step = float(image.quality.quantisation_step)
    rows, cols = a.shape
    n = found.y.size
    feats = np.zeros((n, len(FEATURES)))
    plane = np.zeros((n, 3))
    contrast = np.zeros(n)
    if n == 0:
        return Described(found, feats, plane, contrast)
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    smooth = {} if smooth is None else smooth
    for k in {smoothing(s) for s in found.sigma} - smooth.keys():
        smooth[k] = cv2.GaussianBlur(a, (0, 0), k)
    for sigma in np.unique(found.sigma):
        idx = np.nonzero(found.sigma == sigma)[0]
        rings, ks = Rings.at(float(sigma), RING_RADII), smoothing(float(sigma))
        sm = smooth[ks]
        ys, xs, pol = found.y[idx], found.x[idx], found.polarity[idx].astype(np.float64)
        dy, dx = _sampled(rings.inner, rings.outer)
        fit = fit_rings(sm, mask, ys, xs, dy, dx, 0.0)
        coef = fit.coef
        # the core: its mean deviation from the plane, the candidate's way
        cy, cx = offsets(0.0, max(0.5 * rings.r, 1.0))
        core = _values(sm, ys, xs, cy, cx)
        c = np.mean(
            (coef[:, :1] + coef[:, 1:2] * cx + coef[:, 2:] * cy - core) * pol[:, None], axis=1
        )
        level = np.mean(_values(grey, ys, xs, cy, cx), axis=1)
        grey_step = step / np.maximum(level, 1.0)
        inside = _inside(ys, xs, dy, dx, rows, cols)
        on_part = fit.ring_in.sum(axis=1) / np.maximum(inside.sum(axis=1), 1)
        ring_noise = masked_median(noise[fit.rows, fit.cols].astype(np.float64), fit.ring_in)
        floor = np.sqrt((ring_noise / (2.0 * ks)) ** 2 + (0.5 * grey_step) ** 2)
        spread = np.where(fit.ok, fit.spread, 10.0 * np.abs(c) + floor)
        z = c / np.sqrt(spread**2 + floor**2)
        residual = sm[fit.rows, fit.cols] - (coef[:, :1] + coef[:, 1:2] * dx + coef[:, 2:] * dy)
        sector = ((np.arctan2(dy, dx) + np.pi) / (2 * np.pi) * SECTORS).astype(int) % SECTORS
        means = np.stack(
            [
                (residual * (fit.ring_in & (sector == k))).sum(1)
                / np.maximum((fit.ring_in & (sector == k)).sum(1), 1)
                for k in range(SECTORS)
            ],
            axis=1,
        )
        one_sided = np.max(np.abs(means), axis=1) / np.maximum(np.abs(c), 1e-9)
        lo = max(RING_RADII[1] * rings.r, rings.outer)
        mid = max(OUTER_RADIUS * rings.r, lo + 3.0)
        lifted, sunk = _beyond(sm, mask, ys, xs, coef, c, pol, lo, mid)
        far_lifted, far_sunk = _beyond(sm, mask, ys, xs, coef, c, pol, mid, FAR_RADIUS * rings.r)
        slope = np.hypot(coef[:, 1], coef[:, 2]) * rings.r / np.maximum(np.abs(c), 1e-9)
        feats[idx] = np.column_stack(
            [
                np.full(idx.size, np.log(sigma)),
                np.log(found.strength[idx]),
                np.log(found.ratio[idx] + 1e-3),
                on_part,
                _signed_log(c / grey_step),
                _signed_log(100.0 * c),
                _signed_log(z),
                np.log(spread / floor),
                lifted,
                sunk,
                far_lifted,
                far_sunk,
                np.log1p(slope),
                np.log1p(np.minimum(one_sided, 50.0)),
                np.minimum(dist[ys, xs] / rings.r, 10.0),
                np.minimum(
                    np.minimum(np.minimum(ys, rows - 1 - ys), np.minimum(xs, cols - 1 - xs))
                    / rings.r,
                    10.0,
                ),
                pol,
            ]
        )
        plane[idx], contrast[idx] = coef, c
    return Described(found, feats, plane, contrast)


def _signed_log(v: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(np.sign(v) * np.log1p(np.abs(v)), np.float64)


@functools.lru_cache(maxsize=256)
def _sampled(r0: float, r1: float) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Offsets of a ring, a regular subset of about :data:`RING_SAMPLES` when large
    (kept, read-only, as :func:`~castsight.detect.rings.offsets`)."""
    dy, _ = offsets(r0, r1)
    return offsets(r0, r1, max(1, round(float(np.sqrt(dy.size / RING_SAMPLES)))))


def _inside(
    ys: NDArray[np.intp], xs: NDArray[np.intp], dy: NDArray[np.intp], dx: NDArray[np.intp],
    rows: int, cols: int,
) -> NDArray[np.bool_]:  # fmt: skip
    yy, xx = ys[:, None] + dy[None, :], xs[:, None] + dx[None, :]
    return np.asarray((yy >= 0) & (yy < rows) & (xx >= 0) & (xx < cols), np.bool_)


def _values(
    img: NDArray[Any], ys: NDArray[np.intp], xs: NDArray[np.intp], dy: NDArray[np.intp],
    dx: NDArray[np.intp],
) -> NDArray[np.float64]:  # fmt: skip
    """``img`` at the offsets around each centre (clipped at the image's edge)."""
    rows, cols = img.shape
    yy = np.clip(ys[:, None] + dy[None, :], 0, rows - 1)
    xx = np.clip(xs[:, None] + dx[None, :], 0, cols - 1)
    return np.asarray(img[yy, xx], np.float64)


def _beyond(
    sm: NDArray[Any], mask: NDArray[np.bool_], ys: NDArray[np.intp], xs: NDArray[np.intp],
    coef: NDArray[np.float64], c: NDArray[np.float64], pol: NDArray[np.float64],
    r0: float, r1: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:  # fmt: skip
    """Shares of the ring from ``r0`` to ``r1`` px (on the part) lying the candidate's way,
    and the other way, from the background plane by half the core's contrast."""
    oy, ox = _sampled(r0, r1)
    rows, cols = sm.shape
    on = _inside(ys, xs, oy, ox, rows, cols)
    yy = np.clip(ys[:, None] + oy[None, :], 0, rows - 1)
    xx = np.clip(xs[:, None] + ox[None, :], 0, cols - 1)
    on &= mask[yy, xx]
    dev = (coef[:, :1] + coef[:, 1:2] * ox + coef[:, 2:] * oy - sm[yy, xx]) * pol[:, None]
    half = 0.5 * c[:, None]
    count = on.sum(axis=1)
    enough = count >= 8
    lifted = np.where(enough, (on & (dev > half)).sum(1) / np.maximum(count, 1), 0.0)
    sunk = np.where(enough, (on & (dev < -half)).sum(1) / np.maximum(count, 1), 0.0)
    return lifted, sunk


@dataclass(frozen=True, eq=False)
class BlobClassifier:
    """One hidden layer of ReLU units over standardised :data:`FEATURES`; the
    probability that a candidate is a defect."""

    mean: NDArray[np.float64] = field(repr=False)
    std: NDArray[np.float64] = field(repr=False)
    w1: NDArray[np.float64] = field(repr=False)
    b1: NDArray[np.float64] = field(repr=False)
    w2: NDArray[np.float64] = field(repr=False)
    b2: float
    call_logit: float = 0.0
    """The log-odds at which a candidate is called: set on held-out simulated archives so
    that good images get :data:`~castsight.bench.archive_training.FALSE_PER_GOOD_IMAGE`
    indications each; the detector's score is 0.5 there."""
    provenance: dict[str, Any] = field(default_factory=dict)
    """How it was trained (data, seeds, figures), for the record."""

    def logit(self, features: NDArray[np.float64]) -> NDArray[np.float64]:
        """The network's log-odds for each row of ``features``."""
        x = (np.asarray(features, np.float64) - self.mean) / self.std
        hidden = np.maximum(x @ self.w1 + self.b1, 0.0)
        return np.asarray(hidden @ self.w2 + self.b2, np.float64)

    def probability(self, features: NDArray[np.float64]) -> NDArray[np.float64]:
        """Probability of a defect for each row of ``features``."""
        return _sigmoid(self.logit(features))

    def score(self, features: NDArray[np.float64]) -> NDArray[np.float64]:
        """The detector's score for each row of ``features``: 0.5 at the call, the odds
        rising with the network's as ``sigmoid(logit - call_logit)``."""
        return _sigmoid(self.logit(features) - self.call_logit)

    def to_json(self) -> dict[str, Any]:
        """The JSON form (:meth:`from_json` reads it back)."""
        return {
            "kind": "castsight-archive-blobs",
            "features": list(FEATURES),
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "w1": self.w1.tolist(),
            "b1": self.b1.tolist(),
            "w2": self.w2.tolist(),
            "b2": self.b2,
            "call_logit": self.call_logit,
            "provenance": self.provenance,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], source: Path | str = "classifier") -> BlobClassifier:
        """Read :meth:`to_json`'s form; one clear error if it is not that."""
        if data.get("kind") != "castsight-archive-blobs" or data.get("features") != list(FEATURES):
            raise InputError(source, "not a castsight archive-blob classifier of these features")
        arr = {k: np.asarray(data[k], np.float64) for k in ("mean", "std", "w1", "b1", "w2")}
        return cls(
            arr["mean"], arr["std"], arr["w1"], arr["b1"], arr["w2"], float(data["b2"]),
            float(data.get("call_logit", 0.0)), dict(data.get("provenance", {})),
        )  # fmt: skip


def _sigmoid(v: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(v, -50.0, 50.0))), np.float64)


GROUP_RADII = 1.5
"""Candidates within this many radii (the larger of the two) of a more probable one are
the same blob at another scale."""


def group_leads(
    x: NDArray[Any], y: NDArray[Any], radius: NDArray[Any], score: NDArray[Any]
) -> NDArray[np.intp]:
    """Indices of the candidates that lead their group (:data:`GROUP_RADII`), most probable
    first.

    >>> group_leads(np.array([0, 2, 30]), np.array([0, 0, 0]), np.array([2.0, 2.0, 2.0]),
    ...             np.array([0.5, 0.9, 0.1])).tolist()
    [1, 2]
    """
    grouped = np.zeros(score.size, bool)
    leads = []
    for i in np.argsort(-score, kind="stable"):
        if grouped[i]:
            continue
        leads.append(i)
        grouped |= np.hypot(x - x[i], y - y[i]) <= GROUP_RADII * np.maximum(radius, radius[i])
    return np.asarray(leads, np.intp)


@functools.cache
def default_classifier() -> BlobClassifier:
    """The shipped classifier (``castsight/data/archive-blobs.json``)."""
    ref = resources.files("castsight") / "data" / "archive-blobs.json"
    return BlobClassifier.from_json(json.loads(ref.read_text(encoding="utf-8")), str(ref))
