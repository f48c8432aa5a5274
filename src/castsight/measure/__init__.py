"""Measure every indication: size, shape, contrast, wall loss, type, clusters, spacing.

Sizes are in pixels always, and in millimetres at the part when the pixel
pitch and magnification are known (``Acquisition.pixel_size_at_object_mm``).
The type follows from polarity, shape and grouping:

* more material than around it: ``inclusion`` (dense: iron, oxide);
* long and thin (aspect >= 4, width <= 3 px): ``crack``;
* three or more within a cluster distance of each other: ``shrinkage``
  (the sponge of voids at a hot spot), measured as the cluster's extent;
* less material, but far less than a void of its size removes (under
  :func:`~castsight.measure.material.light_inclusion`: 0.7 of it with two standard
  errors to spare, and as much as sand's, where the acquisition's physics gives a
  void's contrast): ``inclusion`` (light: sand);
* otherwise ``pore``.

>>> import numpy as np
>>> from castsight.detect.base import Indication
>>> ind = Indication((10, 10, 8, 8), np.ones((8, 8), bool), 1, 0.05, 12.0, "local")
>>> m = measure_indications([ind], pixel_size_mm=0.125, background=[1.0])[0]
>>> m.kind, round(m.eq_diameter_mm, 2), round(m.wall_loss_pct, 1)
('pore', 1.13, 5.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from castsight.detect.base import Indication
from castsight.measure.material import VoidAttenuation, light_inclusion
from castsight.measure.shape import feret_and_width
from castsight.measure.sizing import fit_sphere, footprint_excess

CATEGORY_IDS = {"pore": 1, "shrinkage": 2, "crack": 3, "inclusion": 4, "unknown": 5}
"""COCO category ids, shared with the simulator's truth (5 only in predictions)."""
CRACK_ASPECT = 4.0
CRACK_MAX_WIDTH_PX = 3.0
CLUSTER_MIN_MEMBERS = 3
PSF_SIGMA_PX = 0.6
"""Unsharpness of the imaging chain (Gaussian sigma, px) when sizing without the blur.

A flat panel's scintillator spreads light over about a pixel (CsI, sigma 0.5-0.7
px at the native pitch: EN ISO 17636-2 asks a basic spatial resolution of about
the pixel pitch); the focal spot adds Ug = f (M - 1), small at M 1.1."""
SIZED_UP_TO_PX = 24.0
"""Footprints at most this long (Feret, px) are sized without the blur; longer ones
carry less than a pixel of excess (:func:`castsight.measure.sizing.footprint_excess`)."""


@dataclass(frozen=True)
class Measurement:
    """The measured facts of one indication (``None``: not measurable on this image)."""

    kind: str
    area_px: int
    area_mm2: float | None
    eq_diameter_px: float
    eq_diameter_mm: float | None
    max_length_px: float
    """Longest extent (Feret): the footprint's, less :attr:`blur_excess_px`."""
    max_length_mm: float | None
    width_px: float
    aspect_ratio: float
    contrast: float
    """Relative signal change, ``exp(polarity * depth) - 1`` (+: brighter)."""
    wall_loss_pct: float | None
    """Attenuation deficit over the local attenuation, % (voids, calibrated images)."""
    cluster: int | None
    cluster_extent_px: float | None
    cluster_extent_mm: float | None
    nn_spacing_px: float | None
    nn_spacing_mm: float | None
    blur_excess_px: float = 0.0
    """Taken off the footprint's Feret length (and from its equivalent diameter, likewise):
    what the unsharpness, the detector's smoothing and the pixel grid add to a sphere
    of the fitted diameter (:mod:`castsight.measure.sizing`); 0: not sized that way."""
    fitted_diameter_px: float | None = None
    """Diameter of the projected sphere fitted to the unsmoothed deviation (None: no fit)."""
    fitted_amplitude: float | None = None
    """That sphere's peak deviation (ln units): its chord times the attenuation
    difference between the defect's material and the alloy (None: no fit)."""
    void_share: float | None = None
    """The fitted amplitude over a void's of the fitted diameter at the local attenuation
    (:mod:`castsight.measure.material`): about 1 for a pore, 0.5 for sand (None: not
    known, for want of a fit, a calibrated background or the tube's kV, or where the
    fitted sphere is wider than the footprint's Feret length)."""

    @property
    def category_id(self) -> int:
        """COCO category of the kind."""
        return CATEGORY_IDS[self.kind]


def measure_indications(
    indications: Sequence[Indication],
    *,
    pixel_size_mm: float | None,
    background: Sequence[float] | None = None,
    cluster_distance_px: float | None = None,
    psf_sigma_px: float = PSF_SIGMA_PX,
    void_attenuation: VoidAttenuation | None = None,
) -> list[Measurement]:
    """Measure each indication of one view.

    ``background`` is the local attenuation under each indication (for wall
    loss; omit when the attenuation scale is not absolute). ``cluster_distance_px``
    defaults to 3 mm at the part, or 24 px when the pixel size is unknown.
    Indications that carry their deviation (:class:`~castsight.detect.base.Profile`)
    and are at most :data:`SIZED_UP_TO_PX` long are sized without the blur
    (:func:`blur_corrected`), with the unsharpness ``psf_sigma_px``.
    ``void_attenuation`` (the alloy's ``mu_eff`` for the view's tube) tells light
    inclusions from pores by their :attr:`Measurement.void_share`.
    """
    n = len(indications)
    if n == 0:
        return []
    mm = pixel_size_mm
    if cluster_distance_px is None:
        cluster_distance_px = 3.0 / mm if mm else 24.0
    centres = np.array([ind.centroid for ind in indications], dtype=np.float64)
    shapes = [feret_and_width(ind.mask) for ind in indications]
    labels, members = _clusters(centres, cluster_distance_px)
    nn = _nearest(centres)
    out: list[Measurement] = []
    for i, ind in enumerate(indications):
        feret, width = shapes[i]
        area = ind.area_px
        aspect = feret / width
        sized = blur_corrected(ind, feret, psf_sigma_px)
        excess, fitted, amplitude = ((0.0, 0.0), None, None) if sized is None else sized
        length = max(feret - excess[0], 1.0)
        eq = max(2.0 * math.sqrt(area / math.pi) - excess[1], 1.0)
        in_cluster = members[labels[i]] >= CLUSTER_MIN_MEMBERS
        bg = background[i] if background is not None else None
        share = None
        # a sphere fitted wider than the footprint it was cut from traded its amplitude
        # for width in the noise: its amplitude says nothing of the material
        if (
            fitted is not None and amplitude is not None and fitted <= feret
            and ind.polarity > 0 and mm and bg is not None and void_attenuation is not None
        ):  # fmt: skip
            share = amplitude / (fitted * mm * void_attenuation(bg))
        light = share is not None and light_inclusion(share, ind.significance)
        kind = _kind(ind.polarity, aspect, width, in_cluster, light)
        extent = _extent(indications, labels, labels[i]) if in_cluster else None
        loss = 100.0 * ind.depth / bg if bg and bg > 0 and ind.polarity > 0 else None
        out.append(
            Measurement(
                kind=kind,
                area_px=area,
                area_mm2=area * mm * mm if mm else None,
                eq_diameter_px=eq,
                eq_diameter_mm=eq * mm if mm else None,
                max_length_px=length,
                max_length_mm=length * mm if mm else None,
                width_px=width,
                aspect_ratio=aspect,
                contrast=math.exp(ind.polarity * ind.depth) - 1.0,
                wall_loss_pct=loss,
                cluster=int(labels[i]) if in_cluster else None,
                cluster_extent_px=extent,
                cluster_extent_mm=extent * mm if (extent is not None and mm) else None,
                nn_spacing_px=float(nn[i]) if np.isfinite(nn[i]) else None,
                nn_spacing_mm=float(nn[i]) * mm if (mm and np.isfinite(nn[i])) else None,
                blur_excess_px=round(feret - length, 3),
                fitted_diameter_px=fitted,
                fitted_amplitude=None if amplitude is None else round(amplitude, 5),
                void_share=None if share is None else round(share, 3),
            )
        )
    return out


def blur_corrected(
    ind: Indication, feret_px: float, psf_sigma_px: float
) -> tuple[tuple[float, float], float, float] | None:
    """((Feret excess, equivalent-diameter excess), fitted diameter, fitted amplitude),
    sizes in px, for an
    indication with a :class:`~castsight.detect.base.Profile` no longer than
    :data:`SIZED_UP_TO_PX`; None otherwise (sized by its footprint alone)."""
    prof = ind.profile
    if prof is None or feret_px > SIZED_UP_TO_PX or min(prof.deviation.shape) < 3:
        return None
    fit = fit_sphere(prof.deviation, psf_sigma_px=psf_sigma_px)
    if not fit.amplitude > 0.0:
        return None  # nothing like a sphere of the indication's sign: keep the footprint
    d = round(fit.diameter_px, 2)  # a cache key (footprint_excess is cached)
    excess = footprint_excess(
        d, psf_sigma_px=psf_sigma_px, smooth_sigma_px=prof.smooth_sigma_px, fraction=prof.fraction
    )
    return (max(excess[0], 0.0), max(excess[1], 0.0)), d, fit.amplitude


def _kind(polarity: int, aspect: float, width: float, in_cluster: bool, light: bool) -> str:
    if polarity < 0:
        return "inclusion"
    if aspect >= CRACK_ASPECT and width <= CRACK_MAX_WIDTH_PX:
        return "crack"
    if in_cluster:
        return "shrinkage"
    return "inclusion" if light else "pore"


def _clusters(centres: np.ndarray, distance: float) -> tuple[np.ndarray, np.ndarray]:
    """Single-linkage groups of centres closer than ``distance``; labels and sizes."""
    tree = cKDTree(centres)
    pairs = tree.query_pairs(distance, output_type="ndarray")
    n = len(centres)
    from scipy.sparse import coo_matrix

    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels, np.bincount(labels)


def _nearest(centres: np.ndarray) -> np.ndarray:
    if len(centres) < 2:
        return np.full(len(centres), np.inf)
    dist, _ = cKDTree(centres).query(centres, k=2)
    return np.asarray(dist[:, 1])


def _extent(indications: Sequence[Indication], labels: np.ndarray, label: int) -> float:
    """Longest extent (px) of a cluster: the diagonal of its members' joint box."""
    boxes = [ind.bbox for ind, lab in zip(indications, labels, strict=True) if lab == label]
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return float(math.hypot(x1 - x0, y1 - y0))
