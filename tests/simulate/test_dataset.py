"""Simulated datasets: seeded bytes, COCO truth that pycocotools reads, d' physics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from castsight.accept import load_plan
from castsight.accept.rules import Flaw
from castsight.io import discover_parts, read_radiograph
from castsight.physics import TransmissionModel, tube_spectrum
from castsight.simulate.dataset import SimulationConfig, make_part, write_dataset
from castsight.simulate.defects import Defect
from castsight.simulate.geometry import Geometry, Pose
from castsight.simulate.panel import PanelModel
from castsight.simulate.render import Exposure, render_view
from castsight.simulate.solids import box, ellipsoid, pack
from castsight.simulate.truth import judge

SMALL = SimulationConfig(n_parts=2, n_views=2, size=128, defect_rate=1.0, seed=3)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    write_dataset(SMALL, out)
    return out


def test_layout_and_metadata(dataset: Path) -> None:
    parts = discover_parts([dataset])
    assert [p.serial for p in parts] == ["P0001", "P0002"]  # _calibration is not a part
    view = read_radiograph(parts[0].views[0].path)
    assert view.dtype == np.uint16 and view.shape == (128, 128)
    assert view.part_serial == "P0001" and view.view == "V01"
    assert view.acquisition.magnification == pytest.approx(1.1)
    assert (dataset / "_calibration" / "flat.tif").exists()


def test_same_seed_same_bytes(dataset: Path, tmp_path: Path) -> None:
    write_dataset(SMALL, tmp_path)
    for name in ("truth.json", "parts.json", "P0002/V02.tif", "_calibration/dark.tif"):
        assert (tmp_path / name).read_bytes() == (dataset / name).read_bytes(), name


def test_truth_loads_in_pycocotools_and_masks_match_boxes(dataset: Path) -> None:
    coco = COCO(str(dataset / "truth.json"))
    assert {c["name"] for c in coco.loadCats(coco.getCatIds())} == {
        "pore", "shrinkage", "crack", "inclusion"}  # fmt: skip
    for ann in coco.loadAnns(coco.getAnnIds()):
        m = mask_utils.decode(ann["segmentation"])
        ys, xs = np.nonzero(m)
        assert [xs.min(), ys.min(), np.ptp(xs) + 1, np.ptp(ys) + 1] == ann["bbox"]
        assert ann["area"] == int(m.sum()) and ann["d_prime"] >= 0


def test_sentences_follow_the_plan(dataset: Path) -> None:
    record = json.loads((dataset / "parts.json").read_text())
    rules = load_plan("giga-underbody").rules
    for part in record["parts"]:
        truth = [Flaw(d["kind"], d["size_mm"], tuple(d["center_mm"]), f"defect {d['defect_id']}",
                      area=d["area_mm2"]) for d in part["defects"]]  # fmt: skip
        assert judge(truth, rules) == (part["sentence"], part["reasons"])
    assert all(p["sentence"] == "NG" for p in record["parts"])  # defect_rate 1.0


def test_parts_do_not_depend_on_each_other() -> None:
    rules = load_plan("giga-underbody").rules
    a = make_part(SMALL, 1, rules)
    b = make_part(SimulationConfig(n_parts=9, seed=3), 1, rules)
    assert [d.center_mm for d in a.defects] == [d.center_mm for d in b.defects]


def test_series_parts_share_one_nominal_part_across_datasets() -> None:
    rules = load_plan("giga-underbody").rules
    series = SimulationConfig(n_parts=3, seed=3, series=1)
    a, b = make_part(series, 0, rules), make_part(series, 2, rules)
    other_seed = make_part(SimulationConfig(seed=99, series=1), 0, rules)
    assert a.phantom.dimensions_mm == b.phantom.dimensions_mm == other_seed.phantom.dimensions_mm
    other_series = make_part(SimulationConfig(seed=3, series=2), 0, rules)
    family = make_part(SimulationConfig(seed=3), 0, rules)
    assert other_series.phantom.dimensions_mm != a.phantom.dimensions_mm
    assert family.phantom.dimensions_mm != a.phantom.dimensions_mm


# --- physics of the ideal observer on a plate with one pore -----------------------------

DET = PanelModel(pixel_pitch_mm=0.2, rows=96, cols=96, gain_nonuniformity_pct=0.0,
                    offset_nonuniformity_adu=0.0, bad_pixel_fraction=0.0)  # fmt: skip
MODEL = TransmissionModel(tube_spectrum(150.0))


def _pore_view(diameter: float, wall: float, sod: float = 1000.0) -> tuple[float, int]:
    geometry = Geometry(sod, 1100.0, 0.2, 96, 96)
    plate = pack([box((0, 0, 0), (60, 60, wall / 2))])
    pore = Defect(0, "pore", "void", (0.0, 0.0, 0.0), diameter,
                  (ellipsoid((0, 0, 0), (diameter / 2,) * 3),))  # fmt: skip
    _, truths = render_view(plate, (pore,), geometry, Pose.identity(), MODEL, DET, Exposure(),
                            np.random.default_rng(0))  # fmt: skip
    return truths[0].d_prime, int(truths[0].mask.sum())


def test_d_prime_rises_with_pore_size() -> None:
    values = [_pore_view(d, 6.0)[0] for d in (0.4, 0.8, 1.6, 3.2)]
    assert values == sorted(values) and values[0] > 0


def test_d_prime_falls_with_wall_thickness() -> None:
    values = [_pore_view(1.0, w)[0] for w in (3.0, 10.0, 30.0)]
    assert values == sorted(values, reverse=True)


def test_pore_image_scales_with_magnification() -> None:
    # moving the part toward the source (smaller SOD) magnifies it: area ~ M^2
    _, area_far = _pore_view(3.0, 6.0, sod=1000.0)
    _, area_near = _pore_view(3.0, 6.0, sod=550.0)
    expected = (1100.0 / 550.0) ** 2 / (1100.0 / 1000.0) ** 2
    assert area_near / area_far == pytest.approx(expected, rel=0.15)
