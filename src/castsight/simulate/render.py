"""Render one view of a simulated part: path lengths -> physics -> detector, plus truth.

For each view the part's exact alloy path length image is rendered; each
defect's own path length is rendered only in its projected window and moved
from the alloy to the defect's material (void, iron, alumina, sand). The
polychromatic transmission model turns thicknesses into expected quanta
(with the inverse-square fall-off across the panel), and the detector model
adds blur, Poisson and electronic noise, fixed pattern and bad pixels.

Truth per defect and view comes from the noise-free chain with and without
that defect: the exact footprint mask, box, contrast, CNR and the ideal
observer's d' = sqrt(sum(delta^2 / variance)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from castsight.physics import TransmissionModel
from castsight.simulate.defects import Defect
from castsight.simulate.geometry import Geometry, Pose, project
from castsight.simulate.panel import PanelModel, expose
from castsight.simulate.solids import PackedSolids, path_length_image

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class Exposure:
    """Tube and exposure settings of a view."""

    kv: float = 150.0
    filters: tuple[tuple[str, float], ...] = (("Al", 2.0),)
    mas: float = 0.25

    @property
    def filter_text(self) -> str:
        """Filters as text for metadata, e.g. 'Al 2 mm'."""
        return " + ".join(f"{m} {t:g} mm" for m, t in self.filters)


@dataclass(frozen=True)
class DefectView:
    """Truth of one defect in one view."""

    defect_id: int
    mask: NDArray[np.bool_]
    """Footprint inside ``bbox`` (height x width)."""
    bbox: tuple[int, int, int, int]
    """x, y, width, height (COCO)."""
    contrast: float
    """Mean relative signal change over the footprint; > 0 brighter (voids)."""
    cnr: float
    d_prime: float


def sdd_map(geometry: Geometry, window: tuple[int, int, int, int] | None = None) -> F64:
    """Source-to-pixel distance (mm) per detector pixel, for the inverse-square law."""
    ys, xs = geometry.pixel_centres_mm()
    r0, r1, c0, c1 = (0, geometry.rows, 0, geometry.cols) if window is None else window
    yy = ys[r0:r1, None]
    xx = xs[None, c0:c1]
    return np.sqrt(geometry.sdd_mm**2 + yy**2 + xx**2)


def _window(
    defect: Defect, geometry: Geometry, pose: Pose, pad: int
) -> tuple[int, int, int, int] | None:
    centre = np.asarray(defect.center_mm)[None, :]
    rows, cols = project(centre, geometry, pose)
    world_z = pose.apply(centre)[0, 2]
    scale = geometry.sdd_mm / (geometry.sod_mm + world_z) / geometry.pixel_pitch_mm
    reach = defect.radius_mm * scale + pad
    r0 = max(math.floor(rows[0] - reach), 0)
    r1 = min(math.ceil(rows[0] + reach) + 1, geometry.rows)
    c0 = max(math.floor(cols[0] - reach), 0)
    c1 = min(math.ceil(cols[0] + reach) + 1, geometry.cols)
    if r1 - r0 < 2 or c1 - c0 < 2:
        return None
    return r0, r1, c0, c1


def _kernel(sigma: float) -> F64 | None:
    if sigma <= 0.05:
        return None
    half = max(1, math.ceil(4 * sigma))
    x = np.arange(-half, half + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return np.asarray(k / k.sum(), dtype=np.float64)


def _blur(img: F64, kernel: F64 | None, *, square: bool = False) -> F64:
    if kernel is None:
        return img
    k = kernel**2 if square else kernel
    out = ndi.correlate1d(img, k, axis=0, mode="nearest")
    return np.asarray(ndi.correlate1d(out, k, axis=1, mode="nearest"), dtype=np.float64)


def render_view(
    part: PackedSolids,
    defects: tuple[Defect, ...],
    geometry: Geometry,
    pose: Pose,
    model: TransmissionModel,
    detector: PanelModel,
    exposure: Exposure,
    rng: np.random.Generator,
) -> tuple[NDArray[np.uint16], list[DefectView]]:
    """One noisy uint16 radiograph and the truth of each defect visible in it."""
    alloy = path_length_image(part, geometry, pose).astype(np.float64)
    focal = detector.focal_blur_sigma_px(geometry.magnification)
    pad = math.ceil(4 * (focal + detector.blur_sigma_px)) + 2
    other: dict[str, F64] = {}
    local: list[tuple[Defect, tuple[int, int, int, int], F64]] = []
    for defect in defects:
        win = _window(defect, geometry, pose, pad)
        if win is None:
            continue
        length = path_length_image(defect.solids, geometry, pose, win).astype(np.float64)
        if not (length > 0).any():
            continue
        r0, r1, c0, c1 = win
        alloy[r0:r1, c0:c1] -= length
        if defect.material != "void":
            layer = other.setdefault(defect.material, np.zeros_like(alloy))
            layer[r0:r1, c0:c1] += length
        local.append((defect, win, length))
    np.maximum(alloy, 0.0, out=alloy)
    full = (0, geometry.rows, 0, geometry.cols)
    sdd = sdd_map(geometry, full)
    quanta = _quanta(model, exposure, geometry, alloy, other, sdd, full)
    weight = _weight(model, alloy, other, full)
    pixels = expose(quanta, detector, geometry.magnification, rng, quantum_weight=weight)
    truths = [
        _truth(
            d, win, length, alloy, other, quanta, weight, model, detector, exposure, geometry, sdd
        )
        for d, win, length in local
    ]
    return pixels, [t for t in truths if t is not None]


def _sub(arrays: dict[str, F64], win: tuple[int, int, int, int]) -> dict[str, F64]:
    r0, r1, c0, c1 = win
    return {k: v[r0:r1, c0:c1] for k, v in arrays.items()}


def _quanta(
    model: TransmissionModel,
    exposure: Exposure,
    geometry: Geometry,
    alloy: F64,
    other: dict[str, F64],
    sdd: F64,
    win: tuple[int, int, int, int],
) -> F64:
    r0, r1, c0, c1 = win
    a = alloy[r0:r1, c0:c1]
    s = sdd[r0:r1, c0:c1]
    kw: dict[str, Any] = {"mas": exposure.mas, "pixel_pitch_mm": geometry.pixel_pitch_mm}
    q = model.quanta(a, sdd_mm=s, **kw)
    for material, layer in _sub(other, win).items():
        hit = layer > 0
        if hit.any():
            q[hit] = model.quanta(a[hit], layer[hit], material, sdd_mm=s[hit], **kw)
    return q


def _weight(
    model: TransmissionModel, alloy: F64, other: dict[str, F64], win: tuple[int, int, int, int]
) -> F64:
    r0, r1, c0, c1 = win
    a = alloy[r0:r1, c0:c1]
    w = model.quantum_weight(a)
    for material, layer in _sub(other, win).items():
        hit = layer > 0
        if hit.any():
            w[hit] = model.quantum_weight(a[hit], layer[hit], material)
    return w


def _truth(
    defect: Defect,
    win: tuple[int, int, int, int],
    length: F64,
    alloy: F64,
    other: dict[str, F64],
    quanta: F64,
    weight_full: F64,
    model: TransmissionModel,
    detector: PanelModel,
    exposure: Exposure,
    geometry: Geometry,
    sdd: F64,
) -> DefectView | None:
    """Ideal-observer truth from the noise-free chain with and without this defect."""
    footprint = length > 0
    r0, r1, c0, c1 = win
    with_q = quanta[r0:r1, c0:c1]  # the view's own expected quanta, with every defect
    without_alloy = alloy.copy()
    without_alloy[r0:r1, c0:c1] += length
    without_other = {k: v.copy() for k, v in other.items()}
    if defect.material != "void":
        without_other[defect.material][r0:r1, c0:c1] -= length
    wo_q = _quanta(model, exposure, geometry, without_alloy, without_other, sdd, win)
    weight = weight_full[r0:r1, c0:c1]
    focal = _kernel(detector.focal_blur_sigma_px(geometry.magnification))
    scint = _kernel(detector.blur_sigma_px)
    g = detector.gain_adu_per_quantum
    mean_with = g * _blur(_blur(with_q, focal), scint)
    mean_wo = g * _blur(_blur(wo_q, focal), scint)
    variance = g**2 * _blur(_blur(with_q, focal) * weight, scint, square=True)
    variance += detector.electronic_noise_adu**2 + 1.0 / 12.0
    delta = mean_with - mean_wo
    d_prime = float(np.sqrt(np.sum(delta**2 / variance)))
    ys, xs = np.nonzero(footprint)
    if ys.size == 0:
        return None
    mask = footprint[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    bbox = (int(c0 + xs.min()), int(r0 + ys.min()), int(np.ptp(xs) + 1), int(np.ptp(ys) + 1))
    contrast = float(np.mean(delta[footprint] / np.maximum(mean_wo[footprint], 1e-9)))
    cnr = float(np.mean(delta[footprint]) / np.sqrt(np.mean(variance[footprint])))
    return DefectView(defect.defect_id, mask, bbox, contrast, cnr, d_prime)
