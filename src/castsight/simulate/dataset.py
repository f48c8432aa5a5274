"""Simulated line runs: parts with defects, every view rendered, COCO truth and sentences.

Layout written by :func:`write_dataset` (the contract ``castsight simulate`` keeps)::

    DIR/<part>/<view>.tif     16-bit radiographs with castsight metadata
    DIR/_calibration/dark.tif averaged dark (offset) frame, float32
    DIR/_calibration/flat.tif averaged open-beam (gain) frame, float32
    DIR/truth.json            COCO: images, categories, annotations (RLE masks,
                              boxes, size_mm, d', contrast, CNR, part, view)
    DIR/parts.json            per part: true sentence (OK / NG + reasons) from every
                              defect, ``sentence_imaged`` from the defects that
                              project into at least one view, and the defects

Every part draws from its own child of ``SeedSequence(seed)``, so the same
seed gives the same bytes, and part k does not depend on how many parts come
before it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from castsight.accept.plan import InspectionPlan, Rules, Zone, load_plan
from castsight.accept.rules import WHOLE, zone_at, zones_of
from castsight.io import write_radiograph
from castsight.io.files import atomic_write_bytes
from castsight.physics import TransmissionModel, tube_spectrum
from castsight.radiograph import Acquisition, Radiograph
from castsight.simulate.defects import KINDS, Defect, place_defect
from castsight.simulate.geometry import DEFAULT_GEOMETRY, Geometry, projection_matrix
from castsight.simulate.panel import PanelModel, dark_frame, flat_frame
from castsight.simulate.phantoms import Phantom, make_phantom
from castsight.simulate.render import DefectView, Exposure, render_view, sdd_map
from castsight.simulate.solids import pack
from castsight.simulate.truth import judge, projected_area_mm2, true_flaws

CATEGORIES = [{"id": i + 1, "name": k, "supercategory": "defect"} for i, k in enumerate(KINDS)]
CATEGORY_ID = {k: i + 1 for i, k in enumerate(KINDS)}
_KIND_WEIGHTS = {"pore": 0.4, "shrinkage": 0.25, "crack": 0.15, "inclusion": 0.2}


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate. ``defect_rate``: fraction of parts with a rejectable defect."""

    part_type: str = "giga-underbody"
    n_parts: int = 4
    n_views: int = 28
    size: int = 1536
    defect_rate: float = 0.5
    seed: int = 0
    exposure: Exposure = field(default_factory=Exposure)
    gain_adu_per_quantum: float = 3.0
    small_pores_per_part: float = 1.0
    """Mean number of acceptable (below-limit) pores every part carries."""
    series: int | None = None
    """None: every part has its own jittered dimensions (a family of parts). A number:
    every part is the same nominal part, drawn once from this series number, as on a
    production line; parts then differ only in defects, fixturing and noise, and two
    datasets with the same series (and part type) show the same part."""
    fixture_deg: float = 0.5
    """Fixturing error per view: rotation ~ N(0, fixture_deg) about each axis."""
    fixture_mm: float = 0.5
    """Fixturing error per view: translation ~ N(0, fixture_mm) per axis."""
    detector_seed: int | None = None
    """The flat panel's fixed pattern (gain, offset, bad pixels); None: ``seed``. Datasets
    imaged in one inspection cell (good parts to teach from, parts to inspect) share it."""

    def geometry(self) -> Geometry:
        """The default cell geometry scaled to ``size`` pixels (same field of view)."""
        base = DEFAULT_GEOMETRY
        pitch = base.pixel_pitch_mm * base.cols / self.size
        return dataclasses.replace(base, pixel_pitch_mm=pitch, rows=self.size, cols=self.size)

    def panel(self) -> PanelModel:
        """The simulated flat panel for this geometry."""
        g = self.geometry()
        return PanelModel(
            pixel_pitch_mm=g.pixel_pitch_mm,
            rows=g.rows,
            cols=g.cols,
            # a coarser pixel collects more quanta: keep the ADU scale of the full panel
            gain_adu_per_quantum=self.gain_adu_per_quantum
            * (self.size / DEFAULT_GEOMETRY.cols) ** 2,
            seed=self.seed if self.detector_seed is None else self.detector_seed,
        )


@dataclass(frozen=True)
class SimulatedView:
    """One rendered view and the truth of each defect visible in it."""

    name: str
    radiograph: Radiograph
    defects: tuple[DefectView, ...]


@dataclass(frozen=True)
class SimulatedPart:
    """A part: serial, phantom, defects and (when rendered) views; its true sentence is
    judged from them when it is written (:func:`write_dataset`, parts.json)."""

    serial: str
    phantom: Phantom
    defects: tuple[Defect, ...]
    views: tuple[SimulatedView, ...] = ()


def _sizes(kind: str, rules: Rules, rng: np.random.Generator, reject: bool) -> float:
    limit = {
        "pore": rules.max_pore,
        "shrinkage": rules.max_shrinkage,
        "inclusion": rules.max_inclusion,
        "crack": None,
    }[kind]
    if kind == "crack":
        return float(rng.uniform(2.0, 20.0))
    assert limit is not None
    factor = rng.uniform(1.15, 2.5) if reject else rng.uniform(0.3, 0.85)
    return float(limit * factor)


def plan_defects(
    phantom: Phantom, rules: Rules, rng: np.random.Generator, defective: bool
) -> tuple[Defect, ...]:
    """Draw a part's defects: rejectable ones if ``defective``, and small acceptable pores."""
    wanted: list[tuple[str, float]] = []
    if defective:
        kinds = list(_KIND_WEIGHTS)
        weights = np.array(list(_KIND_WEIGHTS.values()))
        for _ in range(int(rng.integers(1, 3))):
            kind = str(rng.choice(kinds, p=weights / weights.sum()))
            wanted.append((kind, _sizes(kind, rules, rng, reject=True)))
    small_pores = int(rng.poisson(1.0))
    wanted += [("pore", _sizes("pore", rules, rng, reject=False)) for _ in range(small_pores)]
    if rng.random() < 0.3:
        wanted.append(("inclusion", _sizes("inclusion", rules, rng, reject=False)))
    return tuple(
        place_defect(phantom, kind, size, rng, defect_id=i) for i, (kind, size) in enumerate(wanted)
    )


def make_part(config: SimulationConfig, index: int, rules: Rules) -> SimulatedPart:
    """Phantom and defects of part ``index`` (no rendering)."""
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, index]))
    if config.series is None:
        phantom = make_phantom(config.part_type, rng)
    else:
        phantom = _series_phantom(config.part_type, config.series)
    defective = bool(rng.random() < config.defect_rate)
    defects = plan_defects(phantom, rules, rng, defective)
    return SimulatedPart(f"P{index + 1:04d}", phantom, defects)


_SERIES_KEY = 0x5E41E5  # keeps series phantoms apart from every (seed, part) stream


@functools.lru_cache(maxsize=8)
def _series_phantom(part_type: str, series: int) -> Phantom:
    rng = np.random.default_rng(np.random.SeedSequence([_SERIES_KEY, series]))
    return make_phantom(part_type, rng)


def render_part(config: SimulationConfig, part: SimulatedPart, index: int) -> SimulatedPart:
    """Render every view of ``part`` (deterministic for the config's seed and index)."""
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, index, 1]))
    geometry = config.geometry()
    detector = config.panel()
    exposure = config.exposure
    model = _model(exposure)
    packed = pack(part.phantom.solids)
    poses = part.phantom.views(
        config.n_views, rng, jitter_deg=config.fixture_deg, jitter_mm=config.fixture_mm
    )
    acq = Acquisition(
        pixel_pitch_mm=geometry.pixel_pitch_mm,
        sod_mm=geometry.sod_mm,
        sdd_mm=geometry.sdd_mm,
        kv=exposure.kv,
        ma=None,
        exposure_ms=None,
        filter=exposure.filter_text,
        bit_depth=16,
        detector_id=f"castsight-sim-{geometry.cols}",
    )
    # the nominal poses the cell's program fixes (no fixturing error): what a cell knows
    nominal = part.phantom.views(config.n_views, None)
    views = []
    for v, pose in enumerate(poses):
        pixels, truths = render_view(
            packed, part.defects, geometry, pose, model, detector, exposure, rng
        )
        name = f"V{v + 1:02d}"
        matrix = projection_matrix(geometry, nominal[v])
        view_acq = dataclasses.replace(acq, projection=tuple(tuple(map(float, r)) for r in matrix))
        rad = Radiograph(pixels, view_acq, part.serial, config.part_type, name)
        views.append(SimulatedView(name, rad, tuple(truths)))
    return dataclasses.replace(part, views=tuple(views))


PartMaker = Callable[[SimulationConfig, int, Rules], SimulatedPart]
"""``(config, index, rules) -> SimulatedPart`` without views (what :func:`make_part` is)."""

_MODELS: dict[Exposure, TransmissionModel] = {}


def _model(exposure: Exposure) -> TransmissionModel:
    if exposure not in _MODELS:
        _MODELS[exposure] = TransmissionModel(tube_spectrum(exposure.kv, dict(exposure.filters)))
    return _MODELS[exposure]


def write_dataset(
    config: SimulationConfig,
    out: Path,
    *,
    progress: Callable[[int], None] | None = None,
    make: PartMaker | None = None,
) -> dict[str, Any]:
    """Simulate ``config.n_parts`` parts into ``out``; returns a summary dict.

    ``progress`` is called with 1 after each view (for a progress bar). ``make``
    replaces :func:`make_part` (phantom and defects of part k), e.g. to place chosen
    defects for a POD set; rendering and truth stay the same.
    """
    make = make or make_part
    out = Path(out)
    plan = load_plan(config.part_type)
    rules = plan.rules
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    parts_record: list[dict[str, Any]] = []
    for index in range(config.n_parts):
        part = render_part(config, make(config, index, rules), index)
        for view in part.views:
            write_radiograph(view.radiograph, out / part.serial / f"{view.name}.tif")
            image_id = len(images) + 1
            rows, cols = view.radiograph.shape
            images.append({"id": image_id, "file_name": f"{part.serial}/{view.name}.tif",
                           "width": cols, "height": rows, "part": part.serial,
                           "view": view.name})  # fmt: skip
            for truth in view.defects:
                defect = part.defects[truth.defect_id]
                annotations.append(
                    _annotation(len(annotations) + 1, image_id, (rows, cols), truth, defect, part)
                )
            if progress is not None:
                progress(1)
        parts_record.append(_part_record(part, plan))
    _write_calibration(config, out)
    coco: dict[str, Any] = {
        "info": {"description": "castsight simulated radiographs", "seed": config.seed,
                 "part_type": config.part_type, "series": config.series, "version": 1},
        "images": images,
        "categories": CATEGORIES,
        "annotations": annotations,
    }  # fmt: skip
    _write_json(out / "truth.json", coco)
    _write_json(out / "parts.json", {"plan": config.part_type, "plan_sha256": plan.sha256,
                                     "parts": parts_record})  # fmt: skip
    n_ng = sum(1 for p in parts_record if p["sentence"] == "NG")
    return {"parts": config.n_parts, "views": len(images), "annotations": len(annotations),
            "ng_parts": n_ng}  # fmt: skip


def _annotation(
    ann_id: int,
    image_id: int,
    shape: tuple[int, int],
    truth: DefectView,
    defect: Defect,
    part: SimulatedPart,
) -> dict[str, Any]:
    full = np.zeros(shape, dtype=np.uint8)
    x, y, w, h = truth.bbox
    full[y : y + h, x : x + w] = truth.mask
    rle = mask_utils.encode(np.asfortranarray(full))
    rle["counts"] = rle["counts"].decode("ascii")
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": CATEGORY_ID[defect.kind],
        "segmentation": rle,
        "area": int(truth.mask.sum()),
        "bbox": [x, y, w, h],
        "iscrowd": 0,
        "defect_id": defect.defect_id,
        "part": part.serial,
        "material": defect.material,
        "size_mm": round(defect.size_mm, 4),
        "d_prime": round(truth.d_prime, 4),
        "contrast": round(truth.contrast, 6),
        "cnr": round(truth.cnr, 4),
    }


def _part_record(part: SimulatedPart, plan: InspectionPlan) -> dict[str, Any]:
    """parts.json's entry: the true sentence of every defect and of the imaged ones."""
    zones = defect_zones(part, plan)
    zone_rules = {z.name: z.rules for zs in zones.values() for z in zs}
    names = {i: [z.name for z in zs] for i, zs in zones.items()}
    flaws = true_flaws(part.defects, names)
    sentence, reasons = judge(flaws, plan.rules, zone_rules=zone_rules)
    seen = {f"defect {t.defect_id}" for v in part.views for t in v.defects}
    imaged = [f for f in flaws if f.ident in seen]
    sentence_imaged, reasons_imaged = judge(imaged, plan.rules, zone_rules=zone_rules)
    return {
        "serial": part.serial,
        "part_type": part.phantom.name,
        "sentence": sentence,
        "reasons": reasons,
        "sentence_imaged": sentence_imaged,
        "reasons_imaged": reasons_imaged,
        "views": [v.name for v in part.views],
        "defects": [
            {"defect_id": d.defect_id, "kind": d.kind, "material": d.material,
             "size_mm": round(d.size_mm, 4), "center_mm": [round(c, 3) for c in d.center_mm],
             "area_mm2": round(projected_area_mm2(d), 4), "zones": names.get(d.defect_id, [WHOLE]),
             "views": [v.name for v in part.views if any(t.defect_id == d.defect_id
                                                          for t in v.defects)]}
            for d in part.defects
        ],
        "dimensions_mm": {k: round(v, 3) for k, v in part.phantom.dimensions_mm},
    }  # fmt: skip


def defect_zones(part: SimulatedPart, plan: InspectionPlan) -> dict[int, list[Zone]]:
    """The plan zones each imaged defect lies in: in each view that images it, the zone
    holding its projection's box centre (:func:`~castsight.accept.rules.zone_at`).

    A defect no view images is in no zone here (the whole-part rules judge it).
    """
    out: dict[int, list[Zone]] = {}
    for view in part.views:
        rows, cols = view.radiograph.shape
        zones = zones_of(plan, view.name)
        for t in view.defects:
            x, y, w, h = t.bbox
            zone = zone_at(zones, plan.rules, (x + w / 2) / cols, (y + h / 2) / rows)
            if zone not in out.setdefault(t.defect_id, []):
                out[t.defect_id].append(zone)
    return out


def _write_calibration(config: SimulationConfig, out: Path) -> None:
    geometry = config.geometry()
    detector = config.panel()
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 10**6]))
    model = _model(config.exposure)
    open_beam = model.quanta(
        np.zeros((geometry.rows, geometry.cols)),
        mas=config.exposure.mas,
        pixel_pitch_mm=geometry.pixel_pitch_mm,
        sdd_mm=sdd_map(geometry),
    )
    frames = {
        "dark": dark_frame(detector, rng),
        "flat": flat_frame(detector, open_beam, rng),
    }
    for name, frame in frames.items():
        rad = Radiograph(frame.astype(np.float32), view=name, part_type=config.part_type)
        write_radiograph(rad, out / "_calibration" / f"{name}.tif")


def _write_json(path: Path, data: Any) -> None:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    atomic_write_bytes(path, text.encode("utf-8"))
