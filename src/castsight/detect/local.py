"""The ``local`` detector: no training, no reference, any radiograph.

Two paths, by what the image is. Display exports (uncalibrated, at most 10 bits: the
8-bit archives users hold, windowed, gamma-mapped and filtered, their noise often below
the 8-bit step; :func:`is_display_export`) go to a multi-scale blob detector that judges
every candidate against its own ring (:func:`_detect_blobs`): structure edges (ribs,
walls, holes, steps) are no blobs, holes and the silhouette have air in their ring, and a
hole at the centre of a boss is a disc of the other sign around the blob. Radiographs
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


class LocalDetector:
    """Background-estimation detector; see the module docstring."""

    name = "local"

    def __init__(self, settings: LocalSettings | None = None) -> None:
        self.settings = settings or LocalSettings()

    def detect_judged(self, image: PreparedImage) -> Judged:
        """:meth:`detect`; the whole part is judged."""
        return judged_whole(self.detect(image))

    def detect(self, image: PreparedImage) -> list[Indication]:
        """Find indications in one prepared view."""
        if not image.mask.any():
            return []
        if is_display_export(image):
            return _detect_blobs(image, self.settings, self.name)
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


def _detect_blobs(image: PreparedImage, cfg: LocalSettings, name: str) -> list[Indication]:
    """Display exports: multi-scale Hessian blobs, each verified against its own ring.

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
       the centre of a boss).
    3. The footprint: connected pixels deviating by at least half the core's contrast.

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
    taken = np.zeros(a.shape, bool)
    found: list[Indication] = []
    for blob in _blob_candidates(a, mask, noise, cfg):
        if taken[blob.y, blob.x]:
            continue
        ks = 4.0 if blob.sigma >= 8.0 else 2.0 if blob.sigma >= 4.0 else 1.0
        ind = _verify_blob(blob, smooth[ks], mask, noise, grey, step, ks, taken, cfg, name)
        if ind is not None:
            found.append(ind)
    return found


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


def _verify_blob(
    blob: _Blob, smooth: NDArray[Any], mask: NDArray[np.bool_],
    noise: NDArray[np.float32], grey: NDArray[np.float32], step: float, ks: float,
    taken: NDArray[np.bool_], cfg: LocalSettings, name: str,
) -> Indication | None:  # fmt: skip
    """One candidate against its own ring (see :func:`_detect_blobs`); marks ``taken``."""
    rows, cols = smooth.shape
    y, x, polarity = blob.y, blob.x, blob.polarity
    r = max(blob.sigma * 1.4142, 1.5)
    inner = cfg.ring_radii[0] * r
    outer = max(cfg.ring_radii[1] * r, inner + 3.0)
    far = max(cfg.outer_radius * r, outer + 3.0)
    half = int(np.ceil(1.5 * far)) + 1  # room for the disc test's rings (footprint-sized)
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
    ring = (d2 >= inner * inner) & (d2 <= outer * outer)
    ring_in = ring & m
    if int(ring.sum()) < 8 or int(ring_in.sum()) < cfg.min_ring_part * int(ring.sum()):
        return None  # air in the ring: a hole's rim, the silhouette
    dxs, dys = np.broadcast_to(dx, d2.shape)[ring_in], np.broadcast_to(dy, d2.shape)[ring_in]
    vals = win[ring_in].astype(np.float64)
    design = np.column_stack([np.ones(vals.size), dxs, dys]).astype(np.float64)
    keep = np.ones(vals.size, bool)
    coef = np.zeros(3)
    spread = 0.0
    for _ in range(2):  # a plane through the ring, refitted without its outliers
        coef, *_ = np.linalg.lstsq(design[keep], vals[keep], rcond=None)
        res = vals - design @ coef
        spread = _MAD * float(np.median(np.abs(res[keep] - np.median(res[keep])))) + 1e-9
        keep = np.abs(res) <= 3.0 * spread
        if int(keep.sum()) < 8:
            return None
    dev = ((coef[0] + coef[1] * dx + coef[2] * dy) - win) * polarity
    core = d2 <= max(0.5 * r, 1.0) ** 2
    contrast = float(np.mean(dev[core]))
    level = float(np.mean(grey[y0:y1, x0:x1][core]))
    grey_step = step / max(level, 1.0)  # one grey level in attenuation there
    if contrast <= 1.5 * grey_step:
        return None
    pixel_noise = float(np.median(noise[y0:y1, x0:x1][ring_in])) / (2.0 * ks)
    z = contrast / float(np.sqrt(spread**2 + pixel_noise**2 + (0.5 * grey_step) ** 2))
    if z < cfg.blob_threshold_sigmas:
        return None
    foot = (dev >= 0.5 * contrast) & (d2 <= inner * inner) & m
    _, lab = cv2.connectedComponents(foot.view(np.uint8), connectivity=8)
    centre = lab[y - y0, x - x0]
    if centre == 0:
        return None
    foot = lab == centre
    if int(foot.sum()) < cfg.min_area_px or float(taken[y0:y1, x0:x1][foot].mean()) > 0.3:
        return None
    # the disc test's rings scale with the larger of the blob's radius and its footprint's
    size = max(r, float(np.sqrt(foot.sum() / np.pi)))
    lo, hi = max(cfg.ring_radii[1] * size, outer), min(cfg.outer_radius * size, half - 1.0)
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
        significance=z,
        detector=name,
        extras={
            "scale_px": round(blob.sigma, 2),
            "ring_spread": round(spread, 5),
            "lifted": round(lifted, 3),
        },
    )
