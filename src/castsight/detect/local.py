"""The ``local`` detector: no training, no reference, any radiograph.

Two paths, by what the image is. Display exports (uncalibrated, at most 10 bits: the
8-bit archives users hold, windowed, gamma-mapped and filtered, their noise often below
the 8-bit step; :func:`is_display_export`) go to a multi-scale blob detector that judges
every candidate against its own ring (:func:`_detect_blobs`): structure edges (ribs,
walls, holes, steps) are no blobs, holes and the silhouette have air in their ring, and a
hole at the centre of a boss is a disc of the other sign around the blob. Since a defect
whose ring crosses such structure is rejected too, that path judges only part of the
view and says how much (:meth:`LocalDetector.detect_judged`, :func:`_judged_share`): the
plan's ``quality.min_judged_pct`` sends the rest to a person. Radiographs
whose noise can be measured (raw detector data, calibrated or not) take the residual
path below, unchanged: the standard suite's ``local`` column and the fallback of taught
models.

Defects are small, compact deviations from the structure around them. The
detector estimates the defect-free background inside the image itself with
grey-scale morphology, which keeps straight edges of walls, ribs and holes
exactly (a half-plane is closed under any structuring element) and removes
only what is narrower than the structuring element:

* less material (pores, shrinkage, cracks: brighter in transmission, a dip in
  attenuation): ``closing(a) - a``;
* more material (dense inclusions): ``a - opening(a)``.

Candidates come from a scale-normalised Hessian blob measure (sigma 1, 2
and 4 px: defects from a few pixels to about 25 px across) AND the residual
above; each is divided by the noise measured on the image itself and then
standardised robustly over the part (median and MAD), so the significance
means the same on every image, 8-bit or 16-bit, whatever its noise.

Candidates above a low threshold are grouped; each must then pass a
verification on its neighbourhood that morphology alone cannot make:
*enclosure* (sound metal surrounds a void on most of its rim; where a
structuring element cannot fit into the corner of a pocket, the "residual"
runs into the pocket and fails this test).

>>> import numpy as np
>>> from castsight.radiograph import Radiograph
>>> from castsight.preprocess.prepare import prepare
>>> rng = np.random.default_rng(3)
>>> clean = np.full((160, 160), 20000.0)
>>> clean[:, 80:] = 12000.0                   # a wall step
>>> yy, xx = np.mgrid[:160, :160]
>>> clean[(yy - 60) ** 2 + (xx - 40) ** 2 <= 9] *= 1.08    # a pore: 8 % more signal
>>> raw = rng.poisson(clean).astype(np.uint16)
>>> found = LocalDetector().detect(prepare(Radiograph(raw)))
>>> [(i.polarity, i.bbox[0] <= 40 < i.bbox[0] + i.bbox[2]) for i in found]
[(1, True)]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from castsight.detect.base import Indication, Judged, judged_whole
from castsight.preprocess.mask import full_scale
from castsight.preprocess.prepare import PreparedImage

_MAD = 1.4826


@dataclass(frozen=True)
class LocalSettings:
    """Tuning of the local detector; the defaults hold for unseen radiographs."""

    threshold_sigmas: float = 7.0
    """Peak significance an indication must reach."""
    seed_sigmas: float = 3.5
    """Pixels above this significance form a candidate's support."""
    smooth_sigma_px: float = 1.0
    """Gaussian pre-smoothing (a matched filter for the smallest defects)."""
    element_px: int = 31
    """Structuring element side for the background under a candidate (> its size)."""
    structure_px: float = 0.2
    """Weight of the local structure gradient in the noise (px): suppresses corners."""
    blob_sigmas_px: tuple[float, ...] = (1.0, 2.0, 4.0)
    """Scales of the blob measure: defects ~3 to ~25 px across."""
    noise_block_px: int = 48
    """Block side over which the local noise level is measured."""
    min_area_px: int = 3
    """Smaller footprints are noise or bad pixels."""
    min_enclosure: float = 0.7
    """Share of the rim that must differ from the indication (see module doc)."""
    max_candidates: int = 400
    """Most candidates verified per view (the strongest first)."""
    blob_threshold_sigmas: float = 6.0
    """Display exports: the blob's contrast over its ring's spread it must reach."""
    blob_scales_px: tuple[float, ...] = (1.2, 1.7, 2.4, 3.4, 4.8, 6.8, 9.6, 13.6, 19.2, 27.0)
    """Display exports: scales of the blob search (blobs ~3 to ~80 px across)."""
    max_edge_ratio: float = 6.0
    """Display exports: largest ratio of the Hessian's eigenvalues at a blob (an edge's is
    unbounded; SIFT's edge test uses 10)."""
    ring_radii: tuple[float, float] = (1.6, 2.6)
    """Display exports: the background ring, in blob radii (sigma * sqrt 2)."""
    outer_radius: float = 3.4
    """Display exports: the outer ring (from the background ring to this many radii)
    that tells a blob in a concentric disc (a hole in a boss) from a defect."""
    max_concentric_share: float = 0.35
    """Display exports: a blob whose outer ring lies its way (by half its contrast) on more
    than this share is designed structure (a blind hole in a boss, a bore in a hub)."""
    min_ring_part: float = 0.85
    """Display exports: share of the background ring that must be part (not air)."""
    max_dense_scale_px: float = 3.0
    """Display exports: dense inclusions (darker) are sought only up to this scale."""
    max_blobs: int = 60
    """Display exports: most blob candidates verified per view (the strongest first)."""
    max_ring_structure: float = 2.0
    """Display exports, the judged share: a ring whose robust spread about its plane exceeds
    this many times the noise floor (the smoothed image's noise, half a grey level) holds
    structure; a blob centred there is not judged at that size."""


class LocalDetector:
    """Background-estimation detector; see the module docstring."""

    name = "local"

    def __init__(self, settings: LocalSettings | None = None) -> None:
        self.settings = settings or LocalSettings()

    def detect_judged(self, image: PreparedImage) -> Judged:
        """:meth:`detect` and the share of the part judged: on a display export the share
        where the rings of the blobs it looks for are free of air and structure
        (:func:`_judged_share`), else the whole part."""
        if image.mask.any() and is_display_export(image):
            found, share = _detect_blobs(image, self.settings, self.name, judge=True)
            return Judged(found, share)
        return judged_whole(self.detect(image))

    def detect(self, image: PreparedImage) -> list[Indication]:
        """Find indications in one prepared view."""
        if not image.mask.any():
            return []
        if is_display_export(image):
            return _detect_blobs(image, self.settings, self.name, judge=False)[0]
        return self._detect_residual(image)

    def _detect_residual(self, image: PreparedImage) -> list[Indication]:
        """The residual-and-Hessian path (radiographs whose noise can be measured)."""
        cfg = self.settings
        a = image.attenuation
        s = cv2.GaussianBlur(a, (0, 0), cfg.smooth_sigma_px) if cfg.smooth_sigma_px else a
        noise = _local_noise(a, cfg.noise_block_px)
        if cfg.structure_px > 0:  # structure edges make curvature of their own
            g = cv2.GaussianBlur(a, (0, 0), 4.0)
            grad = cv2.magnitude(
                cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
            ) * (0.125 * cfg.structure_px)
            noise = cv2.sqrt(noise * noise + grad * grad)
        # one Hessian per scale serves both polarities
        hessians = [_hessian(a, sigma) for sigma in cfg.blob_sigmas_px]
        found: list[Indication] = []
        for polarity in (1, -1):
            z, depth = self._significance(s, image, polarity, noise, hessians)
            found += self._candidates(z, depth, s, image, polarity)
        return found

    def _significance(
        self,
        s: NDArray[Any],
        image: PreparedImage,
        polarity: int,
        noise: NDArray[Any],
        hessians: list[tuple[NDArray[Any], NDArray[Any], float]],
    ) -> tuple[NDArray[Any], NDArray[Any]]:
        """Max over scales of the standardised blob response, and the closing residual."""
        cfg = self.settings
        a = image.attenuation
        z_best = np.zeros(a.shape, np.float32)
        for half_trace, root, sigma in hessians:
            r = _blob_response(half_trace, root, sigma, polarity) / noise
            z_best = np.maximum(z_best, _standardise(r, image.mask))
        se = cv2.getStructuringElement(cv2.MORPH_RECT, (cfg.element_px, cfg.element_px))
        op = cv2.MORPH_CLOSE if polarity > 0 else cv2.MORPH_OPEN
        depth = np.asarray((cv2.morphologyEx(s, op, se) - s) * polarity, np.float32)
        # both tests must agree: the residual (compact, narrower than the element:
        # smooth structure blobs fail) and the blob measure (curved every way:
        # the valleys and kinks along walls and ribs fail)
        z_res = _standardise(depth / noise, image.mask)
        z = np.minimum(z_best, z_res)
        z[~image.mask] = 0.0
        return z, depth

    def _candidates(
        self,
        z: NDArray[Any],
        depth: NDArray[Any],
        s: NDArray[Any],
        image: PreparedImage,
        polarity: int,
    ) -> list[Indication]:
        """Cores above the threshold, grown to their half-depth footprint, then verified."""
        cfg = self.settings
        cores = (z > cfg.threshold_sigmas).astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(cores, connectivity=8)
        if n <= 1:
            return []
        peaks = _label_max(z, labels, n)
        order = [int(i) for i in np.argsort(-peaks) if i > 0][: cfg.max_candidates]
        out: list[Indication] = []
        taken = np.zeros(z.shape, bool)
        rows, cols = z.shape
        for lab in order:
            x, y, w, h, _ = (int(v) for v in stats[lab])
            pad = max(w, h) + 6
            x0, y0 = max(x - pad, 0), max(y - pad, 0)
            x1, y1 = min(x + w + pad, cols), min(y + h + pad, rows)
            core = labels[y0:y1, x0:x1] == lab
            if taken[y0:y1, x0:x1][core].any():
                continue  # part of an indication already grown from a stronger core
            win_depth = depth[y0:y1, x0:x1]
            support = z[y0:y1, x0:x1] > cfg.seed_sigmas
            foot = _footprint(win_depth, core, support)
            if int(foot.sum()) < cfg.min_area_px:
                continue
            enclosure = _enclosure(s[y0:y1, x0:x1], foot, polarity, image.mask[y0:y1, x0:x1])
            if enclosure < cfg.min_enclosure:
                continue
            taken[y0:y1, x0:x1] |= foot
            ys, xs = np.nonzero(foot)
            bx0, by0 = int(xs.min()), int(ys.min())
            bw, bh = int(xs.max()) - bx0 + 1, int(ys.max()) - by0 + 1
            out.append(
                Indication(
                    bbox=(x0 + bx0, y0 + by0, bw, bh),
                    mask=foot[by0 : by0 + bh, bx0 : bx0 + bw],
                    polarity=polarity,
                    depth=float(win_depth[core].max()),
                    significance=float(peaks[lab]),
                    detector=self.name,
                    extras={"enclosure": round(enclosure, 3)},
                )
            )
        return out


def _hessian(a: NDArray[Any], sigma: float) -> tuple[NDArray[Any], NDArray[Any], float]:
    """Half the trace and the eigenvalue half-spread of the Hessian at scale ``sigma``."""
    g = cv2.GaussianBlur(a, (0, 0), sigma)
    dxx = cv2.Sobel(g, cv2.CV_32F, 2, 0, ksize=3)
    dyy = cv2.Sobel(g, cv2.CV_32F, 0, 2, ksize=3)
    dxy = cv2.Sobel(g, cv2.CV_32F, 1, 1, ksize=3)
    half_trace = (dxx + dyy) * 0.5
    root = cv2.sqrt(((dxx - dyy) * 0.5) ** 2 + dxy**2)
    return half_trace, root, sigma


def _blob_response(
    half_trace: NDArray[Any], root: NDArray[Any], sigma: float, polarity: int
) -> NDArray[Any]:
    """Scale-normalised Hessian blob measure: positive only where the image curves
    the defect's way in every direction (a dip for +1, a bump for -1).

    For a dip the smaller Hessian eigenvalue is that measure; edges, ramps and
    the long valleys at the foot of ribs have one eigenvalue near zero and so
    no response, which is why this, not a plain residual, finds candidates.
    """
    lam = half_trace - root if polarity > 0 else -(half_trace + root)
    return np.asarray(lam * (sigma * sigma), np.float32)


def _local_noise(a: NDArray[Any], block: int) -> NDArray[Any]:
    """Per-pixel noise level of ``a`` measured on the image (high-pass, per block)."""
    hp = cv2.absdiff(a, cv2.GaussianBlur(a, (0, 0), 1.5))
    return np.asarray(np.maximum(_block_mean(hp, block), 1e-7), np.float32)


def _block_mean(img: NDArray[Any], block: int) -> NDArray[Any]:
    """Mean over ``block`` x ``block`` tiles, median-filtered across tiles, back at full size.

    The median across neighbouring tiles keeps one tile holding a defect or a
    structure edge from setting the level around it.
    """
    rows, cols = img.shape
    grid = (max(cols // block, 3), max(rows // block, 3))
    level = cv2.resize(img, grid, interpolation=cv2.INTER_AREA)
    level = cv2.medianBlur(level, 3)
    return np.asarray(cv2.resize(level, (cols, rows), interpolation=cv2.INTER_LINEAR), np.float32)


def _standardise(z: NDArray[Any], mask: NDArray[np.bool_]) -> NDArray[Any]:
    """(z - median) / (1.4826 MAD) over the part, from a subsample: calibrated sigmas."""
    step = max(int(np.sqrt(mask.size / 200_000)), 1)
    sample = z[::step, ::step][mask[::step, ::step]]
    if sample.size < 64:
        return np.zeros_like(z)
    med = float(np.median(sample))
    mad = float(np.median(np.abs(sample - med))) * _MAD
    return np.asarray((z - med) / max(mad, 1e-9), np.float32)


def _label_max(values: NDArray[Any], labels: NDArray[Any], n: int) -> NDArray[np.float64]:
    """Maximum of ``values`` per label 0..n-1."""
    flat = labels.ravel()
    sel = flat > 0
    out = np.full(n, -np.inf)
    np.maximum.at(out, flat[sel], values.ravel()[sel])
    return out


def _footprint(
    depth: NDArray[Any], core: NDArray[np.bool_], support: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """The candidate's extent: connected pixels at or above half its peak residual
    (the -6 dB extent used in radiographic sizing), within its significant support."""
    peak = float(depth[core].max())
    grown = ((depth >= 0.5 * peak) & (support | core)).astype(np.uint8)
    _, lab = cv2.connectedComponents(grown, connectivity=8)
    keep = np.unique(lab[core & (grown > 0)])
    return np.isin(lab, keep[keep > 0])


def _enclosure(
    s: NDArray[Any], foot: NDArray[np.bool_], polarity: int, mask: NDArray[np.bool_]
) -> float:
    """Share of the rim around ``foot`` that looks like sound metal around a defect.

    The rim is 2-4 px outside the footprint. A plane fitted to it is the
    local background (structure may slope); the footprint's contrast is its
    extreme against that plane. A rim pixel counts when it lies within half
    that contrast of the plane and inside the part. Around a true defect the
    whole rim is background; where a residual is the filled-in corner of a
    pocket, part of the rim lies at the pocket's level, far off the plane.
    """
    reg8 = foot.astype(np.uint8)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    inner = cv2.dilate(reg8, k, iterations=2) > 0
    rim = (cv2.dilate(reg8, k, iterations=4) > 0) & ~inner
    if int(rim.sum()) < 8:
        return 0.0
    ry, rx = np.nonzero(rim)
    design = np.column_stack([np.ones(rx.size), rx, ry]).astype(np.float64)
    vals = s[rim].astype(np.float64)
    coef, *_ = np.linalg.lstsq(design, vals, rcond=None)
    fy, fx = np.nonzero(foot)
    plane_core = coef[0] + coef[1] * fx + coef[2] * fy
    contrast = float(np.max((plane_core - s[foot]) * polarity))
    if contrast <= 0:
        return 0.0
    off = np.abs(vals - design @ coef)
    return float(np.mean((off <= 0.5 * contrast) & mask[rim]))


EXPORT_MAX_LEVELS = 1024.0

"""An image with at most this many quantisation steps over its full scale (10 bits) and
no calibration is a display export: windowed, often filtered, its noise not measurable."""


def is_display_export(image: PreparedImage) -> bool:
    """Whether ``image`` is an uncalibrated export of at most 10 bits (an 8-bit archive).

    >>> import numpy as np
    >>> from castsight.radiograph import Radiograph
    >>> from castsight.preprocess.prepare import prepare
    >>> u8 = np.full((64, 64), 120, np.uint8)
    >>> is_display_export(prepare(Radiograph(u8)))
    True
    """
    if image.calibrated:
        return False
    top = full_scale(image.radiograph.pixels, image.radiograph.acquisition.bit_depth)
    return top / max(image.quality.quantisation_step, 1e-12) <= EXPORT_MAX_LEVELS


@dataclass(frozen=True)
class _Blob:
    """A candidate: its strength (ranking only), centre, scale (px) and polarity."""

    strength: float
    y: int
    x: int
    sigma: float
    polarity: int


def _detect_blobs(
    image: PreparedImage, cfg: LocalSettings, name: str, *, judge: bool
) -> tuple[list[Indication], float]:
    """Display exports: multi-scale Hessian blobs, each verified against its own ring, and
    the share of the part where the rings let it judge (1.0 when ``judge`` is False).

    1. Candidates: local maxima over space of the scale-normalised smaller Hessian
       eigenvalue ``sigma^2 lambda_min`` of the attenuation (a dip: less material),
       at scales ``blob_scales_px`` (on an image pyramid, so the coarse scales cost
       little), where the eigenvalue ratio is at most ``max_edge_ratio`` (edges, ramps
       and the valleys along walls and ribs have one eigenvalue near zero).
    2. Each, strongest first, is verified at its scale (radius ``r = sigma sqrt 2``) on
       the image smoothed at about half its scale: a plane fitted robustly to the ring
       ``ring_radii`` (twice, dropping residuals beyond 3 MAD) is the local background;
       the core (``r / 2``) must deviate from it by ``blob_threshold_sigmas`` times the
       ring's robust spread (what structure and noise the ring holds), the noise of the
       smoothed image and half a grey level's step, and by at least 1.5 grey levels; the
       ring must be part (a hole's rim or the silhouette has air in it); and the outer
       ring must not lie the blob's way on more than ``max_concentric_share`` (a hole at
       the centre of a boss). The ring fits of all candidates of one scale are one
       batch (:func:`_fit_rings`).
    3. The footprint: connected pixels deviating by at least half the core's contrast.
    4. The judged share (:func:`_judged_share`): the same ring tests at every scale on a
       lattice over the part, for a blob just strong enough to be called.

    >>> import numpy as np
    >>> from castsight.radiograph import Radiograph
    >>> from castsight.preprocess.prepare import prepare
    >>> img = np.full((160, 200), 120.0)
    >>> img[:, 100:] = 60.0                                   # a wall: thicker, darker
    >>> img[:, 150:158] = 30.0                                # a rib
    >>> yy, xx = np.mgrid[:160, :200]
    >>> img += 14.0 * np.exp(-((yy - 80) ** 2 + (xx - 50) ** 2) / (2 * 5.0**2))  # a pore
    >>> u8 = np.clip(np.round(img), 0, 255).astype(np.uint8)
    >>> found = LocalDetector().detect(prepare(Radiograph(u8)))
    >>> [(i.polarity, i.bbox[0] <= 50 < i.bbox[0] + i.bbox[2]) for i in found]
    [(1, True)]
    """
    a = np.asarray(image.attenuation, np.float32)
    mask = image.mask
    noise = _pixel_noise(a, image.noise_std)
    grey = np.asarray(image.radiograph.pixels, np.float32)
    step = float(image.quality.quantisation_step)
    smooth: dict[float, NDArray[Any]] = {k: cv2.GaussianBlur(a, (0, 0), k) for k in (1.0, 2.0, 4.0)}
    blobs = _blob_candidates(a, mask, noise, cfg)
    fits = _ring_evidence(blobs, smooth, mask, noise, grey, step, cfg)
    taken = np.zeros(a.shape, bool)
    found: list[Indication] = []
    for blob, evidence in zip(blobs, fits, strict=True):
        if evidence is None or taken[blob.y, blob.x]:
            continue
        ind = _verify_blob(blob, evidence, smooth[_smoothing(blob.sigma)], mask, taken, cfg, name)
        if ind is not None:
            found.append(ind)
    share = _judged_share(smooth, mask, noise, grey, step, cfg) if judge else 1.0
    return found, share


def _smoothing(sigma: float) -> float:
    """The Gaussian (px) a blob of scale ``sigma`` is verified on (about half its scale)."""
    return 4.0 if sigma >= 8.0 else 2.0 if sigma >= 4.0 else 1.0


@dataclass(frozen=True)
class _Rings:
    """A blob's radius ``r`` (px) and the radii of its tests at one scale."""

    r: float
    inner: float
    """The background ring runs from here ..."""
    outer: float
    """... to here."""
    far: float
    """The outer ring's reach."""

    @classmethod
    def at(cls, sigma: float, cfg: LocalSettings) -> _Rings:
        """The rings of a blob of scale ``sigma``."""
        r = max(sigma * 1.4142, 1.5)
        inner = cfg.ring_radii[0] * r
        outer = max(cfg.ring_radii[1] * r, inner + 3.0)
        return cls(r, inner, outer, max(cfg.outer_radius * r, outer + 3.0))

    @property
    def half(self) -> int:
        """Half the side of the window that holds every test (the disc test's, footprint-sized)."""
        return int(np.ceil(1.5 * self.far)) + 1


def _offsets(r0: float, r1: float, stride: int = 1) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Integer offsets ``(dy, dx)`` with ``r0^2 <= dy^2 + dx^2 <= r1^2``, row by row (the
    order of a window's pixels); with ``stride`` > 1 only every ``stride``-th row and column.

    >>> dy, dx = _offsets(0.0, 1.0)
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
    return dy - h, dx - h


@dataclass(frozen=True)
class _RingFit:
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


def _fit_rings(
    smooth: NDArray[Any], mask: NDArray[np.bool_], ys: NDArray[np.intp], xs: NDArray[np.intp],
    dy: NDArray[np.intp], dx: NDArray[np.intp], min_part: float,
) -> _RingFit:  # fmt: skip
    """The ring test of :func:`_detect_blobs` around many centres at once.

    A plane is fitted by least squares to each ring's part pixels, then refitted without
    the residuals beyond 3 spreads (1.4826 MAD about their median); the spread is that
    of the second fit. Rings outside the image are cut at its edge; a ring with air on
    more than ``1 - min_part`` of it, fewer than 8 pixels, or fewer than 8 kept is not ok.
    Elementwise numpy and closed-form 3 x 3 solutions only: no BLAS, whose threads crawl
    on a loaded machine.

    >>> img = np.zeros((40, 40), np.float32)
    >>> img[:, 20:] = 1.0                                       # a step edge
    >>> dy, dx = _offsets(4.0, 7.0)
    >>> fit = _fit_rings(img, np.ones_like(img, bool), np.array([20, 20]),
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
        coef, solvable = _solve_plane(
            (w.sum(1), wx.sum(1), wy.sum(1), (wx * fx).sum(1), (wx * fy).sum(1),
             (wy * fy).sum(1)),
            (wv.sum(1), (wv * fx).sum(1), (wv * fy).sum(1)),
        )  # fmt: skip
        ok &= solvable
        res = vals - (coef[:, :1] + coef[:, 1:2] * fx + coef[:, 2:] * fy)
        centre = _masked_median(res, keep)
        spread = _MAD * _masked_median(np.abs(res - centre[:, None]), keep) + 1e-9
        keep = ring_in & (np.abs(res) <= 3.0 * spread[:, None])
        ok &= keep.sum(axis=1) >= 8
    return _RingFit(ok, coef, spread, ring_in, yy, xx)


def _solve_plane(
    normal: tuple[NDArray[np.float64], ...], rhs: tuple[NDArray[np.float64], ...]
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Solve the symmetric 3 x 3 normal equations ``[[a b c] [b d e] [c e f]] x = rhs`` of
    many fits at once (the adjugate); False where the matrix is singular.

    >>> one = np.ones(1)
    >>> x, ok = _solve_plane((one * 2, one * 0, one * 0, one * 4, one * 0, one * 8),
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


def _masked_median(values: NDArray[np.float64], keep: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Median of each row of ``values`` over its ``keep`` entries (0 where none): rows
    sorted at once when short, else one partition per row (a few long rings).

    >>> _masked_median(np.array([[1.0, 5.0, 2.0, 9.0]]), np.array([[True, True, True, False]]))
    array([2.])
    """
    if values.shape[1] > 256:
        return np.array(
            [float(np.median(v[k])) if k.any() else 0.0 for v, k in zip(values, keep, strict=True)]
        )
    n = keep.sum(axis=1)
    ordered = np.sort(np.where(keep, values, np.inf), axis=1)
    idx = np.arange(values.shape[0])
    lo, hi = np.maximum((n - 1) // 2, 0), np.maximum(n // 2, 0)
    mid = 0.5 * (ordered[idx, lo] + ordered[idx, hi])
    return np.asarray(np.where(n > 0, mid, 0.0), np.float64)


@dataclass(frozen=True)
class _Evidence:
    """A candidate that passed its ring: the plane, the core's contrast and significance."""

    coef: NDArray[np.float64]
    spread: float
    contrast: float
    z: float


def _ring_evidence(
    blobs: list[_Blob], smooth: dict[float, NDArray[Any]], mask: NDArray[np.bool_],
    noise: NDArray[np.float32], grey: NDArray[np.float32], step: float, cfg: LocalSettings,
) -> list[_Evidence | None]:  # fmt: skip
    """Step 2 of :func:`_detect_blobs` up to the footprint, for every candidate: None where
    the ring has air, the fit fails, or the core's contrast is too small."""
    out: list[_Evidence | None] = [None] * len(blobs)
    rows, cols = mask.shape
    for sigma in sorted({b.sigma for b in blobs}):
        which = [i for i, b in enumerate(blobs) if b.sigma == sigma]
        rings, ks = _Rings.at(sigma, cfg), _smoothing(sigma)
        dy, dx = _offsets(rings.inner, rings.outer)
        ys = np.array([blobs[i].y for i in which], np.intp)
        xs = np.array([blobs[i].x for i in which], np.intp)
        fit = _fit_rings(smooth[ks], mask, ys, xs, dy, dx, cfg.min_ring_part)
        cy, cx = _offsets(0.0, max(0.5 * rings.r, 1.0))
        for j, i in enumerate(which):
            if not fit.ok[j]:
                continue
            y, x, coef = int(ys[j]), int(xs[j]), fit.coef[j]
            yy, xx = y + cy, x + cx
            inside = (yy >= 0) & (yy < rows) & (xx >= 0) & (xx < cols)
            yy, xx = yy[inside], xx[inside]
            ddx, ddy = xx.astype(np.float32) - x, yy.astype(np.float32) - y
            plane = coef[0] + coef[1] * ddx + coef[2] * ddy
            contrast = float(np.mean((plane - smooth[ks][yy, xx]) * blobs[i].polarity))
            level = float(np.mean(grey[yy, xx]))
            grey_step = step / max(level, 1.0)  # one grey level in attenuation there
            if contrast <= 1.5 * grey_step:
                continue
            ring = fit.ring_in[j]
            ring_noise = float(np.median(noise[fit.rows[j][ring], fit.cols[j][ring]]))
            pixel_noise = ring_noise / (2.0 * ks)
            spread = float(fit.spread[j])
            z = contrast / float(np.sqrt(spread**2 + pixel_noise**2 + (0.5 * grey_step) ** 2))
            if z >= cfg.blob_threshold_sigmas:
                out[i] = _Evidence(coef, spread, contrast, z)
    return out


def _verify_blob(
    blob: _Blob, evidence: _Evidence, smooth: NDArray[Any], mask: NDArray[np.bool_],
    taken: NDArray[np.bool_], cfg: LocalSettings, name: str,
) -> Indication | None:  # fmt: skip
    """Steps 2 (the disc test) and 3 of :func:`_detect_blobs` for a candidate whose ring
    passed (:func:`_ring_evidence`); marks ``taken``."""
    rows, cols = smooth.shape
    y, x, polarity = blob.y, blob.x, blob.polarity
    rings = _Rings.at(blob.sigma, cfg)
    half = rings.half
    y0, y1, x0, x1 = (
        max(y - half, 0),
        min(y + half + 1, rows),
        max(x - half, 0),
        min(x + half + 1, cols),
    )
    win, m = smooth[y0:y1, x0:x1], mask[y0:y1, x0:x1]
    dy = np.arange(y0 - y, y1 - y, dtype=np.float32)[:, None]
    dx = np.arange(x0 - x, x1 - x, dtype=np.float32)[None, :]
    d2 = dx * dx + dy * dy
    coef, contrast = evidence.coef, evidence.contrast
    dev = ((coef[0] + coef[1] * dx + coef[2] * dy) - win) * polarity
    foot = (dev >= 0.5 * contrast) & (d2 <= rings.inner * rings.inner) & m
    _, lab = cv2.connectedComponents(foot.view(np.uint8), connectivity=8)
    centre = lab[y - y0, x - x0]
    if centre == 0:
        return None
    foot = lab == centre
    if int(foot.sum()) < cfg.min_area_px or float(taken[y0:y1, x0:x1][foot].mean()) > 0.3:
        return None
    # the disc test's rings scale with the larger of the blob's radius and its footprint's
    size = max(rings.r, float(np.sqrt(foot.sum() / np.pi)))
    lo = max(cfg.ring_radii[1] * size, rings.outer)
    hi = min(cfg.outer_radius * size, half - 1.0)
    around = (d2 > lo * lo) & (d2 <= hi * hi) & m
    lifted = float(np.mean(dev[around] > 0.5 * contrast)) if int(around.sum()) >= 8 else 0.0
    if lifted > cfg.max_concentric_share:
        return None  # a blob at the centre of a disc of the other sign: a hole in a boss
    taken[y0:y1, x0:x1] |= foot
    fy, fx = np.nonzero(foot)
    bx0, by0 = int(fx.min()), int(fy.min())
    bw, bh = int(fx.max()) - bx0 + 1, int(fy.max()) - by0 + 1
    return Indication(
        bbox=(x0 + bx0, y0 + by0, bw, bh),
        mask=foot[by0 : by0 + bh, bx0 : bx0 + bw],
        polarity=polarity,
        depth=float(dev[foot].max()),
        significance=evidence.z,
        detector=name,
        extras={
            "scale_px": round(blob.sigma, 2),
            "ring_spread": round(evidence.spread, 5),
            "lifted": round(lifted, 3),
        },
    )


JUDGED_LATTICE_PX = 16
"""Display exports: the judged share is tested at the centres of blocks of this side (of a
multiple of it for blobs of a larger radius)."""
JUDGED_RING_SAMPLES = 24
"""Display exports: about this many ring pixels (a regular subset) per lattice test."""


def _judged_share(
    smooth: dict[float, NDArray[Any]], mask: NDArray[np.bool_], noise: NDArray[np.float32],
    grey: NDArray[np.float32], step: float, cfg: LocalSettings,
) -> float:  # fmt: skip
    """Share of the part where a blob of the sizes sought would be judged: the mean over
    the scales ``blob_scales_px`` of the share of lattice points on the part whose rings
    pass the candidates' tests for a blob just strong enough to be called there.

    At each point and scale, as :func:`_ring_evidence` and :func:`_verify_blob` would
    test a blob centred there: the background ring must be part (``min_ring_part``: no
    hole's rim, no silhouette) and its robust plane must hold no structure (its spread at
    most ``max_ring_structure`` times the noise floor, the smoothed image's noise and half
    a grey level: a rib, a wall step, a boss's rim crossing most of the ring fails, a
    sliver the robust refit drops does not); and the outer ring must not lie the blob's way
    (polarity +1: less material) by half the smallest contrast called there on more than
    ``max_concentric_share`` (a boss around the point). A defect centred where its own
    size fails is rejected whatever its contrast: that part of the view was not judged.
    (Not modelled: the candidate stage's edge test and its ``max_blobs`` strongest.)
    """
    rows, cols = mask.shape
    level = cv2.blur(grey, (5, 5))
    shares = []
    for sigma in cfg.blob_scales_px:
        rings, ks = _Rings.at(sigma, cfg), _smoothing(sigma)
        lattice = JUDGED_LATTICE_PX * max(1, int(rings.r // JUDGED_LATTICE_PX))
        gy, gx = np.mgrid[lattice // 2 : rows : lattice, lattice // 2 : cols : lattice]
        on = mask[gy, gx]
        ys, xs = gy[on].astype(np.intp), gx[on].astype(np.intp)
        if ys.size == 0:
            return 0.0
        dy, dx = _offsets(rings.inner, rings.outer)
        stride = max(1, round(float(np.sqrt(dy.size / JUDGED_RING_SAMPLES))))
        dy, dx = _offsets(rings.inner, rings.outer, stride)
        fit = _fit_rings(smooth[ks], mask, ys, xs, dy, dx, cfg.min_ring_part)
        grey_step = step / np.maximum(level[ys, xs].astype(np.float64), 1.0)
        floor = np.sqrt((noise[ys, xs] / (2.0 * ks)) ** 2 + (0.5 * grey_step) ** 2)
        called = np.maximum(
            cfg.blob_threshold_sigmas * np.sqrt(fit.spread**2 + floor**2), 1.5 * grey_step
        )
        clean = fit.ok & (fit.spread <= cfg.max_ring_structure * floor)
        lo = max(cfg.ring_radii[1] * rings.r, rings.outer)
        hi = min(cfg.outer_radius * rings.r, rings.half - 1.0)
        if hi > lo:
            oy, ox = _offsets(lo, hi)
            stride = max(1, round(float(np.sqrt(oy.size / JUDGED_RING_SAMPLES))))
            oy, ox = _offsets(lo, hi, stride)
            yy, xx = ys[:, None] + oy[None, :], xs[:, None] + ox[None, :]
            around = (yy >= 0) & (yy < rows) & (xx >= 0) & (xx < cols)
            yy, xx = np.clip(yy, 0, rows - 1), np.clip(xx, 0, cols - 1)
            around &= mask[yy, xx]
            plane = fit.coef[:, :1] + fit.coef[:, 1:2] * ox[None, :] + fit.coef[:, 2:] * oy[None, :]
            lifted = around & (plane - smooth[ks][yy, xx] > 0.5 * called[:, None])
            n_around = around.sum(axis=1)
            share_lifted = lifted.sum(axis=1) / np.maximum(n_around, 1)
            clean &= (n_around < 4) | (share_lifted <= cfg.max_concentric_share)
        shares.append(float(clean.mean()))
    return float(np.mean(shares))


def _pixel_noise(a: NDArray[Any], model_std: NDArray[np.float32]) -> NDArray[np.float32]:
    """Per-pixel noise of ``a``: the mean absolute high-pass residual per 32 px block
    (as a std), median-filtered across blocks, at least the noise model's (which holds
    the quantisation step)."""
    hp = cv2.absdiff(a, cv2.GaussianBlur(a, (0, 0), 1.0))
    rows, cols = a.shape
    grid = (max(cols // 32, 3), max(rows // 32, 3))
    coarse: NDArray[Any] = cv2.resize(hp, grid, interpolation=cv2.INTER_AREA)
    coarse = cv2.medianBlur(np.asarray(coarse * np.float32(1.2533 * 1.2), np.float32), 3)
    level = cv2.resize(coarse, (cols, rows), interpolation=cv2.INTER_LINEAR)
    return np.asarray(np.maximum(level, model_std), np.float32)


def _blob_candidates(
    a: NDArray[np.float32], mask: NDArray[np.bool_], noise: NDArray[np.float32],
    cfg: LocalSettings,
) -> list[_Blob]:  # fmt: skip
    """Blob-like local maxima over space at every scale, strongest (over the noise) first."""
    rows, cols = a.shape
    level: NDArray[Any] = a
    factor = 1
    parts: list[tuple[NDArray[Any], ...]] = []
    for sigma in cfg.blob_scales_px:
        while sigma / factor > 3.5 and min(level.shape) > 32:
            level, factor = cv2.pyrDown(level), factor * 2
        s = sigma / factor
        g = cv2.GaussianBlur(level, (0, 0), s)
        dxx = cv2.Sobel(g, cv2.CV_32F, 2, 0, ksize=3)
        dyy = cv2.Sobel(g, cv2.CV_32F, 0, 2, ksize=3)
        dxy = cv2.Sobel(g, cv2.CV_32F, 1, 1, ksize=3)
        half_trace = (dxx + dyy) * 0.5
        root = cv2.sqrt(((dxx - dyy) * 0.5) ** 2 + dxy**2)
        polarities = (1, -1) if sigma <= cfg.max_dense_scale_px else (1,)
        for polarity in polarities:
            lam_small = half_trace - root if polarity > 0 else -(half_trace + root)
            lam_large = half_trace + root if polarity > 0 else -(half_trace - root)
            ok = (lam_small > 0) & (lam_large <= cfg.max_edge_ratio * lam_small)
            resp = np.where(ok, lam_small * np.float32(s * s), np.float32(0.0))
            resp = np.asarray(resp, np.float32)
            peaks = (resp >= cv2.dilate(resp, np.ones((3, 3), np.uint8))) & (resp > 0)
            ys, xs = np.nonzero(peaks)
            y = np.minimum(ys * factor + factor // 2, rows - 1)
            x = np.minimum(xs * factor + factor // 2, cols - 1)
            strength = resp[ys, xs] * np.float32(sigma) / noise[y, x]
            keep = mask[y, x] & (strength > 1.0)
            n = int(keep.sum())
            parts.append((strength[keep], y[keep], x[keep], np.full(n, sigma),
                          np.full(n, polarity)))  # fmt: skip
    if not parts:
        return []
    strength, y, x, sig, pol = (np.concatenate(c) for c in zip(*parts, strict=True))
    n = min(cfg.max_blobs, strength.size)
    top = np.argpartition(-strength, n - 1)[:n] if n < strength.size else np.arange(n)
    top = top[np.argsort(-strength[top], kind="stable")]
    return [_Blob(float(strength[i]), int(y[i]), int(x[i]), float(sig[i]), int(pol[i]))
            for i in top]  # fmt: skip
