"""The ``reference`` detector: deviations from the learned image of good parts.

In series production a view of a good part looks like the same view of any
other good part, up to a fixturing shift and rotation, exposure drift and
noise. A :class:`ReferenceView` (learned by :func:`castsight.teach.learn_reference`)
holds per view the mean attenuation of good parts registered onto one anchor
image, and the spread ``S`` of their lightly smoothed attenuation.

Detection registers the reference to the image (:func:`register`) and warps
the reference *onto the image*, so indications are in the image's own pixels
exactly and its noise is never interpolated. Then, with ``G`` the Gaussian of
:func:`smooth` and ``offset`` the median of ``a - mean`` over the part::

    z = (G(a - mean) - offset) / sqrt(k * S^2 * (1 + 1/n) + floor^2)

``S`` is pooled (3x3 mean, then 3x3 maximum: a learned edge may sit a
fraction of a pixel elsewhere) and already holds one image's noise smoothed
like ``z``, so no smoothing factor is needed; ``k >= 1`` scales it when the
image is noisier than the good ones were. ``z`` of a good image is Student-t
with ``n - 1`` degrees of freedom: thresholds and significances are mapped to
Gaussian sigmas (:func:`t_to_sigmas`).

>>> from castsight.radiograph import Radiograph
>>> from castsight.preprocess.prepare import prepare
>>> yy, xx = np.mgrid[:128, :128]
>>> clean = np.where((xx > 30) & (xx < 90), 12000.0, 20000.0)
>>> good = (np.log(65535.0) - np.log(clean)).astype(np.float32)
>>> clean[(yy - 64) ** 2 + (xx - 60) ** 2 <= 9] *= 1.1           # a pore
>>> raw = np.random.default_rng(0).poisson(clean).astype(np.uint16)
>>> img = prepare(Radiograph(raw, view="V01"))
>>> spread = np.full((128, 128), 0.005, np.float32)
>>> ref = ReferenceView("V01", good, spread, np.ones((128, 128), bool), 50, 1e-4)
>>> [(i.polarity, i.bbox[0] <= 60 < i.bbox[0] + i.bbox[2])
...  for i in ReferenceDetector({"V01": ref}).detect(img)]
[(1, True)]
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import cv2
import numpy as np
from numpy.typing import NDArray
from scipy import special

from castsight.detect.base import (
    EDGE_EXPLAINED,
    WEAK,
    Indication,
    Judged,
    Profile,
    block_max,
)
from castsight.detect.modes import fit_coefficients
from castsight.errors import InputError
from castsight.preprocess.prepare import PreparedImage

F32 = NDArray[np.float32]
SMOOTH_SIGMA = 1.0
"""Gaussian (px) applied to ``a - mean``, in learning and detection alike."""
REG_SIZE = 192
"""Registration runs on images downsampled by an integer factor to about this size."""
POSE_CORRELATION = 0.7
"""Registration correlation at which two images show the same view (same view: 0.99 or
more on simulated views, 8-bit copies alike; other views: 0.50 or less, measured by
benchmarks/loose_images.py)."""
HIGHPASS_SIGMA = 6.0
"""Gaussian (px, downsampled) removed before phase correlation."""
MAX_ANGLE_DEG = 5.0
"""An ECC rotation beyond this is not a fixturing error: fall back to the shift."""
_OUTSIDE = np.float32(1e6)
"""Spread given to pixels the reference does not cover: never significant."""
_ECC = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 30, 1e-5)
_EDGE = 3
"""Smoothing reach (px): a band this wide inside the reference frame is not judged."""
FOOTPRINT_FRACTION = 0.25
"""An indication's footprint: where its deviation reaches this fraction of its peak.

A round pore projects as a dome (path length ``2 sqrt(r^2 - x^2)``), so half
its peak depth lies at 0.87 r: a half-depth footprint undersizes pores by
15-24 % (a 2.4 mm pore would pass a 2 mm limit). At a quarter of the peak the
equivalent diameter is 0.94-0.98 of the true one for pores of 6 px and more
after 1-1.5 px of blur, and up to 1.4x for 4 px ones (the safe side)."""
DEVIATING_SIGMAS = 4.0
"""A judged pixel deviates from the good parts when its ``|z|`` passes this (as a tail
probability) and its view's edge tolerance does not explain it
(:meth:`ReferenceDetector.deviating_count`). Share of such pixels over the 1200 test
views of the standard suite (2026-12-03, both seeds): median 0.000 %, 99th percentile
0.08-0.09 %, at most 0.51 %; before the edge tolerance settled per view, 26 and 37
views were over 1 %, all of them posed outside the taught range
(docs/notes/2026-12-03-views-off-the-taught-range.md)."""
EDGE_TOLERANCE_PX = 1
"""How far (px) an edge of the good part may lie from where the pose modes put it before
a deviation there is more than a displaced edge (:func:`_outside_envelope`)."""
MAX_EDGE_TOLERANCE_PX = 3
"""The widest edge tolerance a view is judged with (:meth:`ReferenceDetector.settle`)."""
SETTLED_SHARE = 1e-3
"""A view is judged with a wider edge tolerance while more than this share of its judged
pixels deviates (past :data:`DEVIATING_SIGMAS`) where a displacement of the good part's
edges by the current tolerance does not explain it (:meth:`ReferenceDetector.settle`)."""
WIDEN_GAIN = 0.5
"""The edge tolerance is widened by a pixel only where that leaves at most this share of
the deviating pixels deviating (:meth:`ReferenceDetector.settle`)."""
CONFIRM_SIGMAS = 3.5
"""Candidates past this (but not the threshold) are :attr:`~castsight.detect.base.Judged.weak`:
called only where another view confirms them. A good 768 px view of the standard suite
holds 0-9 such candidates off displaced edges (median 1 over 24 views of 6 good parts;
lab notes 2026-12-03)."""
GROW_PX = 32
"""How far (px) an indication may grow from its seeds into the support."""


@dataclass(frozen=True, eq=False)
class ReferenceView:
    """What good parts look like in one view, in the anchor image's frame."""

    view: str
    mean: F32
    """Mean attenuation of the good images (offset to the anchor's exposure)."""
    std: F32
    """Spread of the smoothed attenuation (:func:`smooth`) over the good images."""
    mask: NDArray[np.bool_]
    """Pixels that are part, inside the frame, in most good images."""
    n_images: int
    noise_var: float
    """Typical ``noise_std**2`` of the good images (median over part pixels)."""
    notes: tuple[str, ...] = ()
    """Images left out while learning, and why."""
    modes: F32 | None = None
    """Pose modes (:mod:`castsight.detect.modes`), ``(k, rows, cols)`` in the anchor's
    frame; with them ``std`` is the leave-one-out spread after the modes are fitted.
    None: a reference learned before pose modes (``std`` in-sample, the pose
    variation in it)."""

    def __post_init__(self) -> None:
        if not (self.mean.shape == self.std.shape == self.mask.shape) or self.mean.ndim != 2:
            raise ValueError("mean, std and mask must be 2-D arrays of one shape")
        if self.n_images < 1:
            raise ValueError("a reference needs at least one image")
        if self.modes is not None and (self.modes.ndim != 3 or self.modes.shape[1:] != self.shape):
            raise ValueError("modes must be (k, rows, cols) of the reference's shape")

    @property
    def shape(self) -> tuple[int, int]:
        """Rows, columns."""
        return self.mean.shape[0], self.mean.shape[1]


@dataclass(frozen=True)
class Registration:
    """Rigid map from reference pixels to image pixels: ``(x', y') = M @ (x, y, 1)``."""

    matrix: NDArray[np.float64]
    correlation: float
    """ECC correlation of the registered, downsampled pair (1: identical up to gain and offset)."""
    refined: bool
    """False when ECC failed and only the phase-correlation shift is used."""

    @property
    def angle_deg(self) -> float:
        """Rotation in degrees, as :func:`cv2.getRotationMatrix2D` takes it."""
        return math.degrees(math.atan2(self.matrix[0, 1], self.matrix[0, 0]))


@dataclass(frozen=True, eq=False)
class RegistrationTemplate:
    """A reference image made ready for repeated :func:`register` calls."""

    shape: tuple[int, int]
    factor: int
    small: F32
    highpass: F32
    window: F32


def registration_template(
    attenuation: NDArray[np.floating], factor: int = 0
) -> RegistrationTemplate:
    """Downsample (``factor`` 0: to about :data:`REG_SIZE`) and high-pass a reference image."""
    rows, cols = attenuation.shape
    f = factor or max(1, round(max(rows, cols) / REG_SIZE))
    small = downsample(attenuation, f)
    window = np.asarray(cv2.createHanningWindow(small.shape[::-1], cv2.CV_32F), np.float32)
    return RegistrationTemplate((rows, cols), f, small, _highpass(small), window)


def register(
    reference: RegistrationTemplate | NDArray[np.floating], image: NDArray[np.floating]
) -> Registration:
    """Rigid registration of ``reference`` to ``image`` (attenuation images of one shape).

    Phase correlation of the high-passed downsampled pair gives the shift; ECC
    (translation + rotation) refines it; if ECC fails or runs off, the shift is kept.

    >>> a = np.zeros((128, 128), np.float32)
    >>> a[30:70, 40:90] = 1.0
    >>> moved = np.roll(a, (3, -5), axis=(0, 1))
    >>> np.round(register(a, moved).matrix[:, 2], 1)
    array([-5.,  3.])
    """
    if isinstance(reference, RegistrationTemplate):
        tpl = reference
    else:
        tpl = registration_template(reference)
    if image.shape != tpl.shape:
        raise ValueError(f"image {image.shape} and reference {tpl.shape} differ in shape")
    f, small = tpl.factor, downsample(image, tpl.factor)
    # a copy: OpenCV 5 phaseCorrelate applies the window to its inputs in place
    (dx, dy), _ = cv2.phaseCorrelate(tpl.highpass.copy(), _highpass(small), tpl.window)
    start = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], np.float32)
    refined = True
    try:
        cc, warp = cv2.findTransformECC(tpl.small, small, start.copy(), cv2.MOTION_EUCLIDEAN, _ECC)
        angle = math.degrees(math.atan2(float(warp[1, 0]), float(warp[0, 0])))
        jump = float(np.hypot(warp[0, 2] - dx, warp[1, 2] - dy))
        if not np.isfinite(warp).all() or abs(angle) > MAX_ANGLE_DEG or jump > small.shape[0] / 20:
            raise cv2.error("ECC ran off")
    except cv2.error:
        refined, warp = False, start
        flags = cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR
        back = cv2.warpAffine(small, warp, small.shape[::-1], flags=flags,
                              borderMode=cv2.BORDER_REFLECT)  # fmt: skip
        cc = cv2.computeECC(tpl.small, back)
    rot = np.asarray(warp[:, :2], np.float64)
    # downsampled pixel centres sit at f * x + (f - 1) / 2 in full resolution
    shift = f * np.asarray(warp[:, 2], np.float64) + (np.eye(2) - rot) @ np.full(2, (f - 1) / 2)
    return Registration(np.hstack([rot, shift[:, None]]), float(cc), refined)


def downsample(a: NDArray[np.floating], f: int) -> F32:
    """Area-average ``a`` by the integer factor ``f`` (the registration scale)."""
    img, (rows, cols) = np.asarray(a, np.float32), (a.shape[0] // f, a.shape[1] // f)
    if f == 1:
        return img
    out = cv2.resize(img[: rows * f, : cols * f], (cols, rows), interpolation=cv2.INTER_AREA)
    return np.asarray(out, np.float32)


def _highpass(small: F32) -> F32:
    return np.asarray(small - cv2.GaussianBlur(small, (0, 0), HIGHPASS_SIGMA), np.float32)


def smooth(a: F32) -> F32:
    """The light Gaussian (sigma :data:`SMOOTH_SIGMA`, 5x5) applied before scoring."""
    return np.asarray(cv2.GaussianBlur(a, (5, 5), SMOOTH_SIGMA), np.float32)


def exposure_offset(a: F32, ref: F32, mask: NDArray[np.bool_], step: int = 8) -> float:
    """Median of ``a - ref`` over ``mask`` (every ``step``-th pixel): the exposure offset."""
    pick = mask[::step, ::step]
    sub = a[::step, ::step][pick] - ref[::step, ::step][pick]
    return float(np.median(sub)) if sub.size else 0.0


def t_to_sigmas(t: float, dof: int) -> float:
    """Gaussian sigmas with the same tail probability as Student's ``|t|`` (``dof``).

    >>> round(t_to_sigmas(17.1, 7), 2), round(t_to_sigmas(5.0, 10_000), 2)
    (5.0, 5.0)
    """
    p = float(special.stdtr(dof, -abs(t)))
    return abs(t) if p <= 0.0 else min(abs(t), -float(special.ndtri(p)))


@dataclass(frozen=True, eq=False)
class ReferenceScore:
    """One image compared with its reference, in the image's own pixels."""

    z: F32
    """Standardised deviation (Student-t, ``dof``); negative where there is less material."""
    valid: NDArray[np.bool_]
    """Part pixels the reference covers: where ``z`` is judged."""
    registration: Registration
    offset: float
    """Exposure offset removed: median of ``a - mean`` over valid pixels."""
    deviation: F32
    """``G(a - mean) - offset``: the smoothed deviation ``z`` is made of (ln units)."""
    noise_ratio: float
    """``k``: the spread was scaled by this (this image is noisier than the good ones)."""
    dof: int
    scale: F32
    """The per-pixel denominator of ``z`` (``z = deviation / scale``): the learned spread,
    pooled, warped onto the image and scaled by ``noise_ratio``."""
    view: str = ""
    """The taught view the image was compared with (its own, or the one it matched)."""
    misfit: F32 | None = None
    """Per pixel, how much ``scale`` was widened because this image fits its pose modes
    worse than the good images did (:func:`_misfit_ratio`; None: not at all)."""
    residual: F32 | None = None
    """``a - mean - offset`` before smoothing (ln units): what indications are sized on."""
    posed_mean: F32 | None = None
    """The good part in this image's pose (image frame, before smoothing)."""
    spread: F32 | None = None
    """The learned spread warped onto the image (before ``noise_ratio`` and misfit)."""
    edge_tolerance_px: int = 0
    """How far the good part's edges may lie elsewhere for :meth:`edge_z_at` (0: no test)."""
    n_images: int = 0
    """Good images the reference was learned from (the noise of its mean)."""

    def edge_z_at(self, rows: slice, cols: slice) -> F32 | None:
        """``z`` of what is left in the window when the good part's edges may lie up to
        ``edge_tolerance_px`` elsewhere (:func:`_outside_envelope`); None: no such test.

        Computed on the window only (with the smoothing's reach around it): the detector
        asks it where there are indications, not over the whole view.
        """
        r = self.edge_tolerance_px
        if r <= 0 or self.posed_mean is None or self.spread is None:
            return None
        h, w = self.z.shape
        y0, y1, _ = rows.indices(h)
        x0, x1, _ = cols.indices(w)
        pad = _EDGE + r + 1
        py0, px0 = max(y0 - pad, 0), max(x0 - pad, 0)
        win = (slice(py0, min(y1 + pad, h)), slice(px0, min(x1 + pad, w)))
        # the learned mean's own noise (about S / sqrt(n), twice) is not structure
        noise = np.minimum(self.spread[win], np.float32(1.0)) * np.float32(
            2.0 / math.sqrt(max(self.n_images, 1))
        )
        kept, _ = _outside_envelope(self.deviation[win], smooth(self.posed_mean[win]), r, noise)
        edge = np.asarray(cv2.divide(kept, self.scale[win]), np.float32)
        return edge[y0 - py0 : y1 - py0, x0 - px0 : x1 - px0]

    def edge_z_points(self, ys: NDArray[np.intp], xs: NDArray[np.intp]) -> F32 | None:
        """:meth:`edge_z_at` at the pixels ``(ys, xs)`` only: the envelope gathered from
        each pixel's disk of the smoothed posed mean (the image's edge replicated).

        For scattered pixels (a view's deviating ones) this is far cheaper than the
        window that spans them."""
        r = self.edge_tolerance_px
        if r <= 0 or self.posed_mean is None or self.spread is None:
            return None
        h, w = self.z.shape
        dy, dx = np.nonzero(cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2))
        yy = np.clip(ys[:, None] + (dy - r), 0, h - 1)
        xx = np.clip(xs[:, None] + (dx - r), 0, w - 1)
        mean = self._smooth_posed_mean
        near, centre = mean[yy, xx], mean[ys, xs]
        noise = np.minimum(self.spread[ys, xs], np.float32(1.0)) * np.float32(
            2.0 / math.sqrt(max(self.n_images, 1))
        )
        lo = np.minimum(near.min(axis=1) - centre + noise, np.float32(0.0))
        hi = np.maximum(near.max(axis=1) - centre - noise, np.float32(0.0))
        dev = self.deviation[ys, xs]
        return np.asarray((dev - np.clip(dev, lo, hi)) / self.scale[ys, xs], np.float32)

    @functools.cached_property
    def _smooth_posed_mean(self) -> F32:
        assert self.posed_mean is not None
        return smooth(self.posed_mean)

    @functools.cached_property
    def edge_z(self) -> F32 | None:
        """:meth:`edge_z_at` over the whole image."""
        return self.edge_z_at(slice(None), slice(None))


class ReferenceDetector:
    """Flags where an image deviates from the learned good parts of its view."""

    name = "reference"

    def __init__(
        self,
        view_refs: Mapping[str, ReferenceView],
        *,
        threshold_sigmas: float = 5.0,
        support_sigmas: float = 3.0,
        min_area_px: int = 4,
        floor: float = 1e-4,
        min_correlation: float = 0.5,
        edge_tolerance_px: int = EDGE_TOLERANCE_PX,
        max_edge_tolerance_px: int = MAX_EDGE_TOLERANCE_PX,
        confirm_sigmas: float | None = CONFIRM_SIGMAS,
    ) -> None:
        self.edge_tolerance_px = edge_tolerance_px
        self.max_edge_tolerance_px = max(edge_tolerance_px, max_edge_tolerance_px)
        self.confirm_sigmas = confirm_sigmas
        self.threshold_sigmas = threshold_sigmas
        self.support_sigmas = support_sigmas
        self.min_area_px = min_area_px
        self.min_correlation = min_correlation
        self.floor = floor
        self._refs = dict(view_refs)
        self._templates = {v: registration_template(r.mean) for v, r in self._refs.items()}
        self._spread = {v: _spread(r, floor) for v, r in self._refs.items()}
        self._small_modes = {
            v: _small_modes(r, self._templates[v].factor) for v, r in self._refs.items()
        }
        self._bands = {v: _pose_bands(r) for v, r in self._refs.items()}
        self._spread_bands = {
            v: np.dstack([self._spread[v], b.astype(np.float32)])
            for v, b in self._bands.items()
            if b is not None
        }

    @property
    def views(self) -> tuple[str, ...]:
        """View names this detector has a reference for."""
        return tuple(self._refs)

    def z_threshold(self, view: str, sigmas: float | None = None) -> float:
        """``|z|`` whose Student-t tail is that of ``sigmas`` (default: the threshold)."""
        dof = max(self._refs[view].n_images - 1, 1)
        tail = special.ndtr(-(self.threshold_sigmas if sigmas is None else sigmas))
        return -float(special.stdtrit(dof, tail))

    def match_view(self, image: PreparedImage) -> tuple[str | None, float]:
        """The taught view ``image`` shows, found by registration: the best-correlating
        view of its shape if it reaches :data:`POSE_CORRELATION` (else None), and
        the best correlation."""
        view, best, _ = self.match_registered(image)
        return view, best

    def match_registered(
        self, image: PreparedImage
    ) -> tuple[str | None, float, Registration | None]:
        """:meth:`match_view`, with the matched view's registration (to pass on to
        :meth:`zscore`, so the image is not registered twice)."""
        best, found, found_reg = -1.0, None, None
        for name, tpl in self._templates.items():
            if tpl.shape == image.shape:
                reg = register(tpl, image.attenuation)
                if reg.correlation > best:
                    best, found, found_reg = reg.correlation, name, reg
        if best < POSE_CORRELATION:
            return None, best, None
        return found, best, found_reg

    def zscore(
        self,
        image: PreparedImage,
        view: str | None = None,
        registration: Registration | None = None,
    ) -> ReferenceScore:
        """Register, compare with the reference, calibrate: the z map in image pixels.

        ``view``: the taught view to compare with (default: the image's own view name);
        ``registration``: of that view's reference to the image, if already made.
        """
        prov = image.radiograph.provenance
        view = view or image.radiograph.view
        where = prov.path if prov is not None else view
        ref = self._refs.get(view or "")
        if ref is None or view is None:
            known = ", ".join(self._refs) or "none"
            raise InputError(where, f"no reference for view {view!r} (the model has: {known})")
        if image.shape != ref.shape:
            raise InputError(where, f"view {view!r} is {image.shape}, its reference {ref.shape}")
        a = image.attenuation
        reg = registration or register(self._templates[view], a)
        if reg.correlation < self.min_correlation:
            raise InputError(where, f"view {view!r} does not match its reference (correlation "
                                    f"{reg.correlation:.2f}); wrong part or pose?")  # fmt: skip
        size, m = (a.shape[1], a.shape[0]), reg.matrix
        expected = self._posed_mean(view, image, reg)
        mean = np.asarray(cv2.warpAffine(expected, m, size, flags=cv2.INTER_LANCZOS4,
                                         borderMode=cv2.BORDER_REFLECT), np.float32)  # fmt: skip
        bands = self._bands[view]
        if bands is None:
            spread = cv2.warpAffine(self._spread[view], m, size, flags=cv2.INTER_NEAREST,
                                    borderValue=float(_OUTSIDE))  # fmt: skip
        else:  # spread and bands in one nearest-neighbour warp
            both = cv2.warpAffine(self._spread_bands[view], m, size, flags=cv2.INTER_NEAREST,
                                  borderValue=(float(_OUTSIDE), 0.0))  # fmt: skip
            spread, band = both[..., 0], both[..., 1].astype(np.uint8)
        valid = image.mask & (spread < _OUTSIDE)
        offset = exposure_offset(a, mean, valid)
        residual = np.asarray(cv2.subtract(a, mean), np.float32)
        dev = smooth(residual)
        dev -= np.float32(offset)
        residual -= np.float32(offset)
        k = max(1.0, _noise_ratio(image, valid, ref.noise_var))
        scale = np.asarray(spread * np.float32(math.sqrt(k)), np.float32)
        z = np.asarray(cv2.divide(dev, scale), np.float32)
        if bands is not None:
            ratio = _misfit_ratio(z, band, valid)
            z, scale = np.asarray(z / ratio, np.float32), np.asarray(scale * ratio, np.float32)
        else:
            ratio = None
        dof = max(ref.n_images - 1, 1)
        return self.settle(ReferenceScore(
            z, valid, reg, offset, dev, k, dof, scale, view, ratio, residual,
            mean, np.asarray(spread, np.float32), self.edge_tolerance_px, ref.n_images,
        ))  # fmt: skip

    def settle(self, score: ReferenceScore) -> ReferenceScore:
        """``score`` with its edge tolerance widened, up to :attr:`max_edge_tolerance_px`,
        while more than :data:`SETTLED_SHARE` of the judged pixels deviates
        (:meth:`deviating_count`) and one more pixel of tolerance explains at least half
        of it (:data:`WIDEN_GAIN`).

        A view posed beyond the taught range displaces the good part's edges by more
        than the pose modes follow. On the standard suite, past 4 sigma 1.5-20 % of such
        a view deviates; at 2 px of tolerance that drops to 0-1 %, and at 3 px to
        0-0.25 %. A view posed within the range deviates at 0.01-0.05 %
        (docs/notes/2026-12-03-views-off-the-taught-range.md).

        A real void or inclusion is not a displaced edge, so widening leaves it
        deviating and stops. A defect that lies within the tolerance of an edge and is
        shallower than that edge's step is explained, and then only another view can
        tell (:data:`~castsight.detect.base.EDGE_EXPLAINED`).
        """
        r, n_valid = score.edge_tolerance_px, int(np.count_nonzero(score.valid))
        if r <= 0 or score.posed_mean is None or n_valid == 0:
            return score
        count = self.deviating_count(score)
        while r < self.max_edge_tolerance_px and count > SETTLED_SHARE * n_valid:
            wider = self.deviating_count(replace(score, edge_tolerance_px=r + 1))
            if wider > WIDEN_GAIN * count:
                break  # what deviates is no displaced edge
            r, count = r + 1, wider
        return score if r == score.edge_tolerance_px else replace(score, edge_tolerance_px=r)

    def deviating_count(self, score: ReferenceScore) -> int:
        """Judged pixels past :data:`DEVIATING_SIGMAS` (before any misfit widening: a pose
        beyond the taught range is the news) that a displacement of the good part's
        edges by ``score.edge_tolerance_px`` does not explain."""
        t = np.float32(self.z_threshold(score.view, DEVIATING_SIGMAS))
        z = score.z if score.misfit is None else score.z * score.misfit
        far = (np.abs(z) > t) & score.valid
        ys, xs = np.nonzero(far)
        edge = score.edge_z_points(ys, xs) if len(ys) else None
        if edge is None:
            return len(ys)
        if score.misfit is not None:
            edge = np.asarray(edge * score.misfit[ys, xs], np.float32)
        return int(np.count_nonzero(np.abs(edge) > t))

    def _posed_mean(self, view: str, image: PreparedImage, reg: Registration) -> F32:
        """The learned mean plus the pose modes fitted to ``image`` (anchor frame): what a
        good part in this image's pose looks like."""
        ref, small = self._refs[view], self._small_modes[view]
        if ref.modes is None or small is None or ref.modes.shape[0] == 0:
            return ref.mean
        tpl, (modes, small_mask) = self._templates[view], small
        f = tpl.factor
        # the image in the anchor's frame, as the good images were when the modes were
        # learned, at full resolution and then downsampled (warping the downsampled image
        # costs escapes and POD); cubic, not Lanczos: a quarter of the time, the same
        # escapes and POD on both standard seeds (docs/notes/2026-12-03-speed.md); the
        # posed mean onto the image stays Lanczos (cubic there: two more false calls)
        flags = cv2.WARP_INVERSE_MAP | cv2.INTER_CUBIC
        size = ref.mean.shape[::-1]
        warped = cv2.warpAffine(image.attenuation, reg.matrix, size, flags=flags,
                                borderMode=cv2.BORDER_REFLECT)  # fmt: skip
        back = downsample(np.asarray(warped, np.float32), f)
        inside = cv2.warpAffine(np.ones(ref.shape, np.uint8), reg.matrix, size,
                                flags=cv2.WARP_INVERSE_MAP | cv2.INTER_NEAREST)  # fmt: skip
        ok = small_mask & (downsample(np.asarray(inside, np.float32), f) > 0.999)
        y = np.asarray(back, np.float32) - tpl.small
        c = fit_coefficients(y.ravel(), modes, ok.ravel())
        flat = np.tensordot(c.astype(np.float32), ref.modes, axes=1)
        return np.asarray(ref.mean + flat, np.float32)

    def detect(self, image: PreparedImage) -> list[Indication]:
        """Indications in the image's own pixels: each holds a pixel past the threshold and
        spreads over its connected pixels past ``support_sigmas`` (hysteresis)."""
        return self.detect_judged(image)[0]

    def detect_judged(
        self,
        image: PreparedImage,
        view: str | None = None,
        registration: Registration | None = None,
    ) -> Judged:
        """:meth:`detect`, and the share of the part's pixels judged (the rest lies in the
        frame's edge band or where too few good parts covered it); ``view`` and
        ``registration`` as in :meth:`zscore`."""
        score = self.zscore(image, view, registration)
        return self.judged(image, score, self.indications(image, score))

    def judged(
        self, image: PreparedImage, score: ReferenceScore, found: list[Indication]
    ) -> Judged:
        """:class:`~castsight.detect.base.Judged` of ``found`` in a compared image: the share
        of the part judged and the share of that deviating (:meth:`deviating_count`)."""
        part = int(np.count_nonzero(image.mask))
        n_valid = int(np.count_nonzero(score.valid))
        far = self.deviating_count(score)
        seed = np.float32(self.z_threshold(score.view))
        detectable = np.where(score.valid, seed * score.scale, np.float32(np.inf))
        return Judged(found, n_valid / part if part else 0.0, far / n_valid if n_valid else 0.0,
                      block_max(np.asarray(detectable, np.float32)),
                      self.weak_candidates(image, score))  # fmt: skip

    def weak_candidates(
        self, image: PreparedImage, score: ReferenceScore
    ) -> tuple[Indication, ...]:
        """Indications past :attr:`confirm_sigmas` whose peak stays below the threshold,
        marked :data:`~castsight.detect.base.WEAK` (none when ``confirm_sigmas`` is None).

        They grow over the same support as the indications, so a candidate holding a
        pixel past the threshold is an indication, never a weak one. Candidates a
        displaced edge explains are left out.
        """
        if self.confirm_sigmas is None:
            return ()
        low = self.indications(image, score, self.confirm_sigmas)
        return tuple(
            replace(i, extras={**i.extras, WEAK: 1.0})
            for i in low
            # what a displaced edge explains is no candidate for this: at this level the
            # edges of a view posed off the taught range are many, and agree by chance
            if i.significance <= self.threshold_sigmas and not i.extras.get(EDGE_EXPLAINED)
        )

    def indications(
        self, image: PreparedImage, score: ReferenceScore, seed_sigmas: float | None = None
    ) -> list[Indication]:
        """The indications of a :meth:`zscore` result (seeds past the threshold, or
        ``seed_sigmas``, grown over the support, thin edge lines dropped)."""
        view = score.view
        t_seed = self.z_threshold(view, seed_sigmas)
        t_support = self.z_threshold(view, self.support_sigmas)
        seeds = (np.abs(score.z) > np.float32(t_seed)) & score.valid
        x0, y0, w0, h0 = cv2.boundingRect(seeds.astype(np.uint8))
        if w0 == 0:
            return []
        x0, y0 = max(x0 - GROW_PX, 0), max(y0 - GROW_PX, 0)  # room to grow into the support
        crop = (slice(y0, y0 + h0 + 2 * GROW_PX), slice(x0, x0 + w0 + 2 * GROW_PX))
        z, dev, ok, seed = score.z[crop], score.deviation[crop], score.valid[crop], seeds[crop]
        unjudged = image.mask[crop] & ~ok  # the frame's edge band, or where no reference is
        reg = score.registration
        extras = {"registration_cc": round(reg.correlation, 4),
                  "angle_deg": round(reg.angle_deg, 4)}  # fmt: skip
        if score.edge_tolerance_px > self.edge_tolerance_px:  # a view posed off the range
            extras["edge_tolerance_px"] = float(score.edge_tolerance_px)
        found: list[Indication] = []
        for sign in (1, -1):  # +1: less material than the reference (z < 0)
            side = -z if sign == 1 else z
            support = ((side > np.float32(t_support)) & ok).astype(np.uint8)
            _, labels, stats, _ = cv2.connectedComponentsWithStats(support)
            for i in np.unique(labels[seed & (side > 0)]):
                x, y, w, h, area = (int(v) for v in stats[i])
                if i == 0 or area < self.min_area_px:
                    continue
                box = (slice(y, y + h), slice(x, x + w))
                comp = labels[box] == i
                depth = float(np.max(-sign * dev[box][comp]))
                # the footprint is where the deviation reaches a quarter of its peak
                # (FOOTPRINT_FRACTION), not the 3-sigma support, which grows with blur
                # and noise
                core = comp & (-sign * dev[box] >= np.float32(FOOTPRINT_FRACTION * depth))
                if core.sum() >= self.min_area_px:
                    comp = core
                comp, (gx, gy) = _into_unjudged(
                    comp, (x, y), unjudged, dev, sign, FOOTPRINT_FRACTION * depth
                )
                if not _wide(comp):
                    continue  # an edge a fraction of a pixel out of place, not a defect
                ys, xs = np.nonzero(comp)
                x1, y1 = gx + int(xs.min()), gy + int(ys.min())
                comp = comp[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
                bbox = (x0 + x1, y0 + y1, comp.shape[1], comp.shape[0])
                evidence = dict(extras)
                # the edge test at the component's pixels only (a window spanning
                # scattered seeds would cost a whole view's envelope)
                cy, cx = np.nonzero(labels[box] == i)
                edge = score.edge_z_points(cy + y + y0, cx + x + x0)
                if edge is not None:
                    kept = float((edge * -sign).max())
                    evidence[EDGE_EXPLAINED] = float(kept <= t_seed)
                found.append(Indication(
                    bbox=bbox, mask=comp, polarity=sign, depth=depth,
                    significance=t_to_sigmas(float(side[box][labels[box] == i].max()), score.dof),
                    detector=self.name, extras=evidence, profile=_profile(score, bbox, sign),
                ))  # fmt: skip
        if score.misfit is not None:  # a pose-modelled reference: drop displaced edges
            found = _monopoles(found)
        return sorted(found, key=lambda ind: -ind.significance)


def _outside_envelope(
    dev: F32, mean: F32, radius: int, noise: F32 | float = 0.0
) -> tuple[F32, F32]:
    """How far ``mean + dev`` lies outside the range of ``mean`` within ``radius`` px,
    and that range's larger reach from ``mean`` (what a defect loses there).

    An edge of the good part displaced by less than ``radius`` px stays within
    that range (its value is found in a neighbouring pixel of the good part), so it
    leaves nothing; in even regions the range is a point and ``dev`` is unchanged.
    The range is narrowed by ``noise`` on each side: the learned mean's own noise
    spans a small range in even regions too, and that is no structure.

    >>> mean = np.zeros((5, 5), np.float32); mean[:, 3:] = 1.0      # a step edge
    >>> shifted = np.zeros((5, 5), np.float32); shifted[:, 2:] = 1.0  # moved by 1 px
    >>> out, reach = _outside_envelope(shifted - mean, mean, 1)
    >>> float(np.abs(out).max()), abs(float(reach[2, 0])), float(reach[2, 2])
    (0.0, 0.0, 1.0)
    """
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    lo = np.minimum(cv2.erode(mean, kernel) - mean + noise, np.float32(0.0))
    hi = np.maximum(cv2.dilate(mean, kernel) - mean - noise, np.float32(0.0))
    out = np.asarray(dev - np.clip(dev, lo, hi), np.float32)
    return out, np.maximum(hi, -lo)


PROFILE_MARGIN = 3
"""Pixels of deviation kept around an indication's box for sizing (:class:`Profile`)."""


def _profile(score: ReferenceScore, bbox: tuple[int, int, int, int], sign: int) -> Profile | None:
    """The unsmoothed deviation around ``bbox``, signed so the indication is positive."""
    if score.residual is None:
        return None
    x, y, w, h = bbox
    rows, cols = score.residual.shape
    x0, y0 = max(x - PROFILE_MARGIN, 0), max(y - PROFILE_MARGIN, 0)
    x1, y1 = min(x + w + PROFILE_MARGIN, cols), min(y + h + PROFILE_MARGIN, rows)
    # less material (sign +1) is a negative deviation: the profile is its opposite
    patch = np.array(score.residual[y0:y1, x0:x1], np.float32) * np.float32(-sign)
    return Profile(patch, (x0, y0), SMOOTH_SIGMA, FOOTPRINT_FRACTION)


DIPOLE_GAP_PX = 2
"""Opposite deviations closer than this (px, box to box) are one displaced edge."""


def _monopoles(found: list[Indication]) -> list[Indication]:
    """The indications without an opposite-signed neighbour.

    An edge displaced by a fraction of a pixel beyond what the pose modes
    explain leaves a pair of opposite deviations side by side (less material
    on one side, more on the other); a void or an inclusion leaves one sign.
    """

    def near(a: Indication, b: Indication) -> bool:
        (ax, ay, aw, ah), (bx, by, bw, bh), g = a.bbox, b.bbox, DIPOLE_GAP_PX
        return ax - g < bx + bw and bx - g < ax + aw and ay - g < by + bh and by - g < ay + ah

    return [a for a in found
            if not any(b.polarity != a.polarity and near(a, b) for b in found)]  # fmt: skip


_CROSS = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], np.uint8)


def _into_unjudged(
    footprint: NDArray[np.bool_],
    origin: tuple[int, int],
    unjudged: NDArray[np.bool_],
    deviation: F32,
    sign: int,
    level: float,
) -> tuple[NDArray[np.bool_], tuple[int, int]]:
    """``footprint`` (its box at ``origin`` = x, y in the arrays) grown, up to
    :data:`GROW_PX` beyond its box, into the ``unjudged`` part pixels it touches where
    the deviation of the indication's ``sign`` (+1: less material, ``-deviation``)
    reaches ``level``: the footprint and its new origin.

    A defect cut by the edge of the judged region (the frame's edge band, or rows the
    reference does not cover in this pose) would otherwise be measured by the sliver
    left inside: a 3.76 mm pore at the top of a view kept 2 rows, was taken for an
    edge line and dropped (standard suite, second seed). The deviation is still
    computed there; it only shapes and sizes what judged pixels found.

    >>> dev = np.zeros((6, 6), np.float32); dev[0:3, 2:4] = -1.0
    >>> unjudged = np.zeros((6, 6), bool); unjudged[:2] = True
    >>> grown, at = _into_unjudged(np.ones((1, 2), bool), (2, 2), unjudged, dev, 1, 0.25)
    >>> grown.shape, at
    ((3, 2), (2, 0))
    """
    x, y = origin
    h, w = footprint.shape
    near = (slice(max(y - 1, 0), y + h + 1), slice(max(x - 1, 0), x + w + 1))
    if not unjudged[near].any():
        return footprint, origin
    wy, wx = max(y - GROW_PX, 0), max(x - GROW_PX, 0)  # the window it may grow into
    win = (slice(wy, y + h + GROW_PX), slice(wx, x + w + GROW_PX))
    side = -deviation[win] if sign > 0 else deviation[win]
    grown = (unjudged[win] & (side >= np.float32(level))).astype(np.uint8)
    grown[y - wy : y - wy + h, x - wx : x - wx + w] |= footprint.astype(np.uint8)
    _, labels = cv2.connectedComponents(grown, connectivity=8)
    own = labels[y - wy : y - wy + h, x - wx : x - wx + w][footprint]
    keep = np.isin(labels, np.unique(own))
    ys, xs = np.nonzero(keep)
    top, left = int(ys.min()), int(xs.min())
    return keep[top : int(ys.max()) + 1, left : int(xs.max()) + 1], (wx + left, wy + top)


def _wide(footprint: NDArray[np.bool_]) -> bool:
    """Does the half-depth footprint hold a pixel whose 4 neighbours are in it too?

    Every real indication is blurred by the imaging chain (focal spot and
    detector unsharpness, at least about a pixel), so its half-depth
    footprint is at least 3 px across somewhere. Thinner footprints, 1-2 px
    lines along sharp part and rib edges, are what a sub-pixel registration
    error or parallax leaves; they were most of the false indications on
    held-out good parts (BENCHMARKS.md).
    """
    padded = np.pad(footprint, 1).astype(np.uint8)
    return bool(cv2.erode(padded, _CROSS).any())


def _spread(ref: ReferenceView, floor: float) -> F32:
    """``sqrt(S^2 (1 + 1/n) + floor^2)`` with S pooled (3x3 mean, then 3x3 max); off the
    mask and in the frame's edge band :data:`_OUTSIDE`."""
    var = cv2.blur(np.square(ref.std, dtype=np.float32), (3, 3))
    var = np.asarray(cv2.dilate(var, np.ones((3, 3), np.uint8)), np.float32)
    # a leave-one-out spread (with modes) already holds the uncertainty of the mean
    held_out = 1.0 if ref.modes is not None else 1.0 + 1.0 / ref.n_images
    spread = np.sqrt(var * np.float32(held_out) + np.float32(floor**2))
    spread = np.asarray(spread, np.float32)
    spread[~ref.mask], e = _OUTSIDE, _EDGE
    spread[:e], spread[-e:], spread[:, :e], spread[:, -e:] = (_OUTSIDE,) * 4
    return spread


def _small_modes(ref: ReferenceView, f: int) -> tuple[F32, NDArray[np.bool_]] | None:
    """A reference's pose modes at the registration scale (flattened) and the small pixels
    wholly inside its mask, where they are fitted."""
    if ref.modes is None or ref.modes.shape[0] == 0:
        return None
    small = np.stack([downsample(mode, f) for mode in ref.modes])
    mask = downsample(ref.mask.astype(np.float32), f) > 0.999
    return small.reshape(small.shape[0], -1), mask


POSE_BANDS = (0.5, 0.8, 0.95)
"""Quantiles of the pose-mode energy that split a view into bands for :func:`_misfit_ratio`."""
FRAME_BAND_PX = 48
"""Pixels this close to the frame form a band of their own in :func:`_misfit_ratio`: the
fixturing error moves structure into and out of the field there."""
TAIL_QUANTILE = 0.9
"""``|z|`` quantile a band's scale is read at (a defect covers far less of a band)."""


def _pose_bands(ref: ReferenceView) -> NDArray[np.uint8] | None:
    """Each pixel's band of pose-mode energy (``sum_k mode_k^2``; 1 = least, 0 = off the
    mask; the frame's edge band :data:`FRAME_BAND_PX` last), in the anchor's frame; None
    without modes."""
    if ref.modes is None or ref.modes.shape[0] == 0:
        return None
    energy = smooth(np.einsum("kij,kij->ij", ref.modes, ref.modes, dtype=np.float32))
    edges = np.quantile(energy[ref.mask], POSE_BANDS)
    bands = (np.searchsorted(edges, energy) + 1).astype(np.uint8)
    e = FRAME_BAND_PX
    bands[:e], bands[-e:], bands[:, :e], bands[:, -e:] = (len(POSE_BANDS) + 2,) * 4
    bands[~ref.mask] = 0
    return bands


def _misfit_ratio(z: F32, band: NDArray[np.uint8], valid: NDArray[np.bool_]) -> F32:
    """Per pixel, how much to scale ``z`` down, band by band, where this image fits its
    pose modes worse than the good images did (a pose beyond the taught range; the
    modes are linear in pose).

    In each band of pose-mode energy the :data:`TAIL_QUANTILE` of ``|z|`` is compared
    with that of a standard normal; where it is larger, the band's ``z`` is divided by
    the ratio. A defect covers a tiny share of a band, so it does not set the ratio;
    an image as well fitted as the good ones keeps its ``z``.
    """
    normal = float(special.ndtri(0.5 + TAIL_QUANTILE / 2))
    table = np.ones(len(POSE_BANDS) + 3, np.float32)
    # the quantiles from every other pixel down and across: a quarter of the work
    zs, bs = np.abs(z[::2, ::2]), np.where(valid[::2, ::2], band[::2, ::2], 0)
    for b in range(1, len(POSE_BANDS) + 3):
        sample = zs[bs == b]
        if sample.size >= 100:
            table[b] = max(1.0, float(np.quantile(sample, TAIL_QUANTILE)) / normal)
    return np.asarray(table[np.where(valid, band, 0)], np.float32)


def _noise_ratio(image: PreparedImage, valid: NDArray[np.bool_], train_var: float) -> float:
    """This image's noise variance over the good images' (medians over part pixels)."""
    sub = image.noise_std[::8, ::8][valid[::8, ::8]]
    if sub.size == 0 or train_var <= 0:
        return 1.0
    return float(np.median(np.square(sub, dtype=np.float32))) / train_var
