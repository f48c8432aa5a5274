"""The foreign-part suite's data: castings castsight never saw, as an 8-bit archive holds them.

The project's proxy for users' archives (issue 14): series of a part imaged
from many angles, 8-bit greyscale PNG of 768 x 572 px, windowed, gamma-mapped
and filtered by the X-ray system (:mod:`castsight.simulate.archive`), with no
calibration frames and no metadata (the pixel size is unknown), of part
designs drawn from the families of :mod:`castsight.simulate.families`.

A *design* is one member of a family and the cell that images it: its pixel
size (the part fills 70-95 % of the image width), tube voltage, exposure and
archive look (window, gamma, filter; the filters cycle over the designs so
each appears). Design 0, of ``taught_family``, is the one the ``good`` series
show (what ``castsight teach --good`` may learn from); the first ``seen``
test series are further series of design 0, the others each show a design of
their own (the families in turn), so most test series are of parts nothing
was taught on. A *series* is one part of a design imaged from ``views``
angles (the design's nominal poses, each with a fixturing error); a
defective series carries 1-3 pores or shrinkage clusters of 16-60 px (the
held-out real set: boxes 16-82 px, median 23), placed inside metal.

Layout (``OUT/<suite>/data/<role>/``)::

    S01/S01_01.png ...     test series (G01/G01_01.png ... for ``good``); file names
                           carry no view meaning across series, as in archives
    truth.json             COCO: images (part, view, median residual), pore/shrinkage
                           annotations (box, size_px, contrast in grey levels)
    parts.json             per series: design, family, true sentence (NG when a marked
                           defect shows in at least one view)
    bench.json             the stamp compared before reusing the set

A defect whose footprint is mostly clipped to black or white in a view is not
marked there (no one reading the image could see it).

>>> s = get_foreign_suite("foreign")
>>> s.shape, s.test_series, s.views, s.good_series
((572, 768), 8, 7, 3)
>>> [(x.serial, x.design, x.defective) for x in plan_series(s, "test")][:3]
[('S01', 0, True), ('S02', 0, False), ('S03', 1, True)]
>>> sum(x.defective for x in plan_series(s, "test")), len(plan_series(s, "good"))
(5, 3)
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from castsight.errors import InputError
from castsight.io.files import atomic_write_bytes
from castsight.physics import TransmissionModel, tube_spectrum
from castsight.simulate.archive import (
    FILTERS,
    ArchiveLook,
    archive_image,
    displayed_contrast,
    draw_look,
    median_residual,
    window,
    write_archive_png,
)
from castsight.simulate.dataset import CATEGORIES, CATEGORY_ID
from castsight.simulate.defects import Defect, place_defect
from castsight.simulate.families import FAMILIES, make_family_part, part_extent_mm
from castsight.simulate.geometry import Geometry
from castsight.simulate.panel import PanelModel
from castsight.simulate.phantoms import Phantom
from castsight.simulate.render import Exposure, render_view
from castsight.simulate.solids import pack

ROLES = ("test", "good")
STAMP = "bench.json"
DATA_VERSION = 1
"""Bumped whenever the data a suite's definition gives changes (stamps then differ)."""
KVS = (90.0, 110.0, 130.0, 150.0)
KINDS = ("pore", "shrinkage")
CLIPPED_SHARE = 0.5
"""A defect is not marked in a view where this share of its footprint is 0 or 255 ..."""
MIN_MARKED_GREY = 2.0
"""... or where it changes the grey level by less than this (the real set's 10th
percentile of marked contrast is 2 grey levels)."""


@dataclass(frozen=True)
class ForeignSuite:
    """The foreign-part suite's definition (see the module docstring)."""

    name: str
    description: str
    test_series: int = 8
    """Test series; the first ``seen`` are of the taught design, a third of the rest good."""
    good_series: int = 3
    """Good series of the taught design, to teach from."""
    views: int = 7
    seen: int = 2
    shape: tuple[int, int] = (572, 768)
    """Rows, columns of the archive images."""
    defect_px: tuple[float, float] = (16.0, 60.0)
    """Range of defect sizes (pore diameter, cluster extent) in pixels, log-uniform."""
    defects_per_series: tuple[int, int] = (1, 3)
    kinds: tuple[str, ...] = KINDS
    """Defect kinds drawn (pores 70 %, shrinkage 30 % when both)."""
    taught_family: str = "housing"
    node_share: float = 1.0
    """Share of the defects placed at the design's thick nodes (where large ones form); the
    rest anywhere in metal. Below 1 only for training data (castsight.bench.archive_training)."""
    seed: int = 2026_14_0
    detectors: tuple[str, ...] = ("untaught", "taught")

    def __post_init__(self) -> None:
        if self.test_series < 1 or self.good_series < 0 or self.views < 1:
            raise InputError("--suite", "a foreign suite needs test series and views")
        if self.taught_family not in FAMILIES:
            raise InputError("--suite", f"unknown part family {self.taught_family!r}")

    def variant(
        self, *, parts: int | None = None, views: int | None = None, seed: int = 0
    ) -> ForeignSuite:
        """The suite with other test series counts, views or seeds (its own name, so its
        data and summary never mix with the suite's).

        >>> get_foreign_suite("foreign").variant(parts=12, seed=1).name
        'foreign-parts12-seed1'
        """
        if parts in (None, self.test_series) and views in (None, self.views) and seed == 0:
            return self
        name = self.name + (f"-parts{parts}" if parts not in (None, self.test_series) else "")
        name += f"-views{views}" if views not in (None, self.views) else ""
        name += f"-seed{seed}" if seed else ""
        return dataclasses.replace(
            self, name=name, test_series=parts or self.test_series, views=views or self.views,
            seen=min(self.seen, parts or self.test_series), seed=self.seed + 100 * seed,
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready definition."""
        return dataclasses.asdict(self)


FOREIGN = ForeignSuite(
    name="foreign",
    description=(
        "8 test series (5 with defects, 3 good; 2 of them of the taught design, 6 of six "
        "other designs of four families) and 3 good series of the taught design to teach "
        "from, 7 views each, 8-bit PNG of 768 x 572 px, filtered, no calibration, no metadata"
    ),
)
FOREIGN_QUICK = ForeignSuite(
    name="foreign-quick",
    description="the foreign path on a tiny set: 2 test series (1 defective) and 3 good "
    "series of 2 views, 192 x 143 px, one large pore",
    test_series=2,
    good_series=3,
    views=2,
    seen=2,
    shape=(143, 192),
    defect_px=(15.0, 18.0),
    defects_per_series=(1, 1),
    kinds=("pore",),
)
FOREIGN_SUITES = {s.name: s for s in (FOREIGN, FOREIGN_QUICK)}


def get_foreign_suite(name: str) -> ForeignSuite:
    """The foreign suite called ``name``; :class:`~castsight.errors.InputError` if unknown."""
    try:
        return FOREIGN_SUITES[name]
    except KeyError:
        known = ", ".join(FOREIGN_SUITES)
        raise InputError("--suite", f"unknown foreign suite {name!r} (known: {known})") from None


@dataclass(frozen=True)
class SeriesSpec:
    """One series to simulate: its serial, role, design, whether it carries defects."""

    serial: str
    role: str
    index: int
    design: int
    defective: bool

    def seen(self) -> bool:
        """Whether the series shows the taught design."""
        return self.design == 0


def plan_series(suite: ForeignSuite, role: str) -> tuple[SeriesSpec, ...]:
    """The series of one data set (``test`` or ``good``), in order."""
    if role not in ROLES:
        raise InputError("role", f"unknown data set {role!r} (known: {', '.join(ROLES)})")
    if role == "good":
        return tuple(SeriesSpec(f"G{k + 1:02d}", role, k, 0, False)
                     for k in range(suite.good_series))  # fmt: skip
    out = []
    for i in range(suite.test_series):
        if i < suite.seen:  # the taught design: defective, good, defective, ...
            design, defective = 0, i % 2 == 0
        else:  # a design of its own; two of every three defective
            j = i - suite.seen
            design, defective = j + 1, j % 3 != 2
        out.append(SeriesSpec(f"S{i + 1:02d}", role, i, design, defective))
    return tuple(out)


def family_of(suite: ForeignSuite, design: int) -> str:
    """The family of design ``design``: ``taught_family`` for 0, else the families in turn.

    >>> [family_of(FOREIGN, d) for d in range(5)]
    ['housing', 'ribbed-plate', 'housing', 'bracket', 'knuckle']
    """
    if design == 0:
        return suite.taught_family
    names = list(FAMILIES)
    return names[(design - 1) % len(names)]


@dataclass(frozen=True)
class Cell:
    """A design and the cell that images it: part, geometry, panel, exposure, look."""

    design: int
    phantom: Phantom
    geometry: Geometry
    panel: PanelModel
    exposure: Exposure
    look: ArchiveLook
    open_beam: float
    """The open-beam level at the panel centre (ADU above the offset)."""

    @property
    def pixel_mm(self) -> float:
        """Pixel size at the part (mm): what the archive does not say."""
        return self.geometry.pixel_size_at_object_mm

    def to_dict(self) -> dict[str, Any]:
        """What parts.json says about the design and its cell."""
        return {
            "design": self.design,
            "family": self.phantom.name,
            "dimensions_mm": dict(self.phantom.dimensions_mm),
            "pixel_mm": round(self.pixel_mm, 4),
            "kv": self.exposure.kv,
            "mas": round(self.exposure.mas, 4),
            "look": dataclasses.asdict(self.look),
        }


@functools.lru_cache(maxsize=16)
def cell_of(suite: ForeignSuite, design: int) -> Cell:
    """Design ``design`` of the suite and its cell (the same for every series of it)."""
    rng = np.random.default_rng(np.random.SeedSequence([suite.seed, 0, design]))
    phantom = make_family_part(family_of(suite, design), rng)
    rows, cols = suite.shape
    pixel_mm = part_extent_mm(phantom) / (cols * rng.uniform(0.85, 1.3))
    magnification = 1.1
    geometry = Geometry(1000.0, 1000.0 * magnification, pixel_mm * magnification, rows, cols)
    # the standard panel's ADU scale at this pitch; the system has corrected its own fixed
    # pattern and bad pixels before it archived the image
    panel = PanelModel(pixel_pitch_mm=geometry.pixel_pitch_mm, rows=rows, cols=cols,
                       gain_adu_per_quantum=3.0 * (0.139 / geometry.pixel_pitch_mm) ** 2,
                       gain_nonuniformity_pct=0.0, offset_nonuniformity_adu=0.0,
                       bad_pixel_fraction=0.0, seed=suite.seed + design)  # fmt: skip
    mas = float(np.exp(rng.uniform(math.log(0.003), math.log(0.05))))
    exposure = Exposure(kv=float(rng.choice(KVS)), mas=mas)
    look = draw_look(rng, filter=FILTERS[design % len(FILTERS)])
    model = _transmission(exposure)
    q0 = model.open_beam_quanta(mas, geometry.pixel_pitch_mm, geometry.sdd_mm)
    open_beam = q0 * panel.gain_adu_per_quantum
    return Cell(design, phantom, geometry, panel, exposure, look, open_beam)


def _defects(suite: ForeignSuite, cell: Cell, rng: np.random.Generator) -> tuple[Defect, ...]:
    """1-3 pores or shrinkage clusters of ``defect_px`` placed inside the part's metal."""
    lo, hi = suite.defects_per_series
    out: list[Defect] = []
    for _ in range(int(rng.integers(lo, hi + 1))):
        kind = "pore" if rng.random() < 0.7 else "shrinkage"
        kind = kind if kind in suite.kinds else suite.kinds[0]
        small, large = suite.defect_px
        size_px = math.exp(rng.uniform(math.log(small), math.log(large)))
        # no draw at the default: the suites' data stay as they were
        at_nodes = suite.node_share >= 1.0 or bool(rng.random() < suite.node_share)
        try:
            out.append(place_defect(cell.phantom, kind, size_px * cell.pixel_mm, rng,
                                    defect_id=len(out), at_nodes=at_nodes))  # fmt: skip
        except ValueError:  # no room anywhere in this design: fewer defects (ids stay
            continue  # their positions in the tuple, which the truth's defect_id indexes)
    return tuple(out)


@dataclass(frozen=True)
class ArchiveView:
    """One archive image of a series and the defects marked on it."""

    name: str
    pixels: NDArray[np.uint8]
    annotations: tuple[dict[str, Any], ...]


def render_series(suite: ForeignSuite, spec: SeriesSpec) -> tuple[tuple[ArchiveView, ...],
                                                                  tuple[Defect, ...]]:  # fmt: skip
    """The archive images of one series and its defects (deterministic for the suite)."""
    cell = cell_of(suite, spec.design)
    role_key = ROLES.index(spec.role) + 1
    rng = np.random.default_rng(np.random.SeedSequence([suite.seed, role_key, spec.index]))
    defects = _defects(suite, cell, rng) if spec.defective else ()
    packed = pack(cell.phantom.solids)
    model = _transmission(cell.exposure)
    views = []
    for v, pose in enumerate(cell.phantom.views(suite.views, rng)):
        raw, truths = render_view(packed, defects, cell.geometry, pose, model, cell.panel,
                                  cell.exposure, rng)  # fmt: skip
        intensity = raw.astype(np.float64) - cell.panel.offset_adu
        pixels = archive_image(intensity, open_beam=cell.open_beam, look=cell.look)
        lo, hi = window(intensity, open_beam=cell.open_beam, look=cell.look)
        annotations = []
        for t in truths:
            x, y, w, h = t.bbox
            footprint = pixels[y : y + h, x : x + w][t.mask]
            clipped = float(np.mean((footprint == 0) | (footprint == 255)))
            level = float(footprint.mean())
            grey = displayed_contrast(level, t.contrast, lo=lo, hi=hi, look=cell.look)
            if clipped >= CLIPPED_SHARE or abs(grey) < MIN_MARKED_GREY:
                continue  # no one reading the image could see it
            defect = defects[t.defect_id]
            annotations.append({"defect_id": t.defect_id, "kind": defect.kind,
                                "bbox": [x, y, w, h], "area": int(t.mask.sum()),
                                "size_px": max(w, h), "size_mm": round(defect.size_mm, 3),
                                "contrast_grey": round(grey, 2),
                                "contrast_rel": round(grey / max(level, 1.0), 4)})  # fmt: skip
        views.append(ArchiveView(f"{spec.serial}_{v + 1:02d}", pixels, tuple(annotations)))
    return tuple(views), defects


def stamp(suite: ForeignSuite, role: str) -> dict[str, Any]:
    """What makes a data set what it is (compared before reusing one)."""
    return {"suite": suite.to_dict(), "role": role, "version": DATA_VERSION}


def write_set(
    suite: ForeignSuite,
    role: str,
    folder: Path,
    *,
    fresh: bool = False,
    progress: Callable[[int], None] | None = None,
) -> tuple[bool, dict[str, Any]]:
    """Simulate (or reuse, when its stamp matches and not ``fresh``) one data set into
    ``folder``; whether it was reused, and its figures (:func:`set_figures`)."""
    wanted = stamp(suite, role)
    stamp_path = folder / STAMP
    if not fresh and stamp_path.is_file():
        try:
            if json.loads(stamp_path.read_text(encoding="utf-8")) == wanted:
                return True, set_figures(folder)
        except ValueError:
            pass
    if folder.exists():
        shutil.rmtree(folder)
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for spec in plan_series(suite, role):
        views, defects = render_series(suite, spec)
        marked: set[int] = set()
        for view in views:
            rel = f"{spec.serial}/{view.name}.png"
            write_archive_png(view.pixels, folder / rel)
            image_id = len(images) + 1
            rows, cols = view.pixels.shape
            images.append({"id": image_id, "file_name": rel, "width": cols, "height": rows,
                           "part": spec.serial, "view": view.name,
                           "median_residual": median_residual(view.pixels)})  # fmt: skip
            for ann in view.annotations:
                marked.add(ann["defect_id"])
                annotations.append({**ann, "id": len(annotations) + 1, "image_id": image_id,
                                    "category_id": CATEGORY_ID[ann["kind"]], "iscrowd": 0,
                                    "part": spec.serial})  # fmt: skip
            if progress is not None:
                progress(1)
        sentence = "NG" if marked else "OK"
        parts.append({"serial": spec.serial, "design": spec.design, "seen": spec.seen(),
                      "family": cell_of(suite, spec.design).phantom.name,
                      "defective": spec.defective, "sentence": sentence,
                      "sentence_imaged": sentence, "views": [v.name for v in views],
                      "defects": [{"defect_id": d.defect_id, "kind": d.kind,
                                   "size_mm": round(d.size_mm, 3),
                                   "marked": d.defect_id in marked} for d in defects]})  # fmt: skip
    designs = sorted({p["design"] for p in parts})
    categories = [c for c in CATEGORIES if c["name"] in KINDS]
    truth = {"info": {"description": f"castsight {suite.name} suite, {role}", "version": 1},
             "images": images, "categories": categories, "annotations": annotations}  # fmt: skip
    _write_json(folder / "truth.json", truth)
    cells = [cell_of(suite, d).to_dict() for d in designs]
    _write_json(folder / "parts.json", {"parts": parts, "designs": cells})
    stamp_path.write_text(json.dumps(wanted, indent=1) + "\n", encoding="utf-8")
    return False, set_figures(folder)


def set_figures(folder: Path) -> dict[str, Any]:
    """Series, images, marked defects and how the images and defects look (box size,
    contrast, the share of images whose 3x3-median residual is zero)."""
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    parts = json.loads((folder / "parts.json").read_text(encoding="utf-8"))["parts"]
    anns = truth["annotations"]
    sizes = [a["size_px"] for a in anns]
    grey = [a["contrast_grey"] for a in anns]
    rel = [a["contrast_rel"] for a in anns]
    images = truth["images"]
    zero = sum(i["median_residual"] == 0 for i in images)

    def median(values: list[float]) -> float | None:
        return float(np.median(values)) if values else None

    return {
        "path": str(folder),
        "series": len(parts),
        "ng_series": sum(p["sentence"] == "NG" for p in parts),
        "images": len(images),
        "annotations": len(anns),
        "annotations_by_kind": {k: sum(a["kind"] == k for a in anns) for k in KINDS},
        "box_px": {
            "min": min(sizes, default=None),
            "median": median(sizes),
            "max": max(sizes, default=None),
        },
        "contrast_grey_median": median(grey),
        "contrast_rel_median": median(rel),
        "median_residual_zero_share": zero / len(images) if images else None,
        "families": sorted({p["family"] for p in parts}),
        "designs": len({p["design"] for p in parts}),
    }


@functools.lru_cache(maxsize=8)
def _transmission(exposure: Exposure) -> TransmissionModel:
    return TransmissionModel(tube_spectrum(exposure.kv, dict(exposure.filters)))


def _write_json(path: Path, data: Any) -> None:
    text = json.dumps(data, indent=1, allow_nan=False, default=_finite)
    atomic_write_bytes(path, (text + "\n").encode("utf-8"))


def _finite(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")


__all__ = [
    "FOREIGN",
    "FOREIGN_QUICK",
    "FOREIGN_SUITES",
    "ArchiveView",
    "Cell",
    "ForeignSuite",
    "SeriesSpec",
    "cell_of",
    "family_of",
    "get_foreign_suite",
    "plan_series",
    "render_series",
    "set_figures",
    "write_set",
]
