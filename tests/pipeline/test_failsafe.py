"""The fail-safe users rely on: a part the system could not inspect is never OK."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from castsight.accept.plan import load_plan, parse_plan
from castsight.detect.base import Judged
from castsight.io import write_radiograph
from castsight.io.parts import discover_parts
from castsight.pipeline import Inspector
from castsight.radiograph import Acquisition, Radiograph

ACQ = Acquisition(pixel_pitch_mm=0.139, sod_mm=1000.0, sdd_mm=1100.0, bit_depth=16)


def _plate(level: float = 20000.0, seed: int = 0, size: int = 128) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.full((size, size), level)
    img[:, size // 2 :] *= 0.6  # a wall step
    return np.minimum(rng.poisson(img), 65535).astype(np.uint16)


def _part(root: Path, name: str, views: dict[str, np.ndarray | bytes]) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    for view, data in views.items():
        if isinstance(data, bytes):
            (folder / f"{view}.tif").write_bytes(data)
        else:
            write_radiograph(Radiograph(data, ACQ), folder / f"{view}.tif")
    return folder


def _inspect(root: Path, plan_text: str | None = None) -> dict[str, str]:
    plan = parse_plan(plan_text) if plan_text else load_plan("generic")
    inspector = Inspector(plan)
    return {p.serial: inspector.inspect(p).sentence for p in discover_parts([root])}


def test_clean_part_is_ok(tmp_path: Path) -> None:
    _part(tmp_path, "P1", {"V01": _plate(), "V02": _plate(seed=1)})
    assert _inspect(tmp_path) == {"P1": "OK"}


def test_corrupt_view_is_never_ok(tmp_path: Path) -> None:
    _part(tmp_path, "P1", {"V01": _plate(), "V02": b"II*\x00garbage"})
    assert _inspect(tmp_path) == {"P1": "REVIEW"}


def test_over_exposed_view_is_never_ok(tmp_path: Path) -> None:
    hot = _plate(level=90000.0)  # clips at 65535 over most of the part
    hot = np.minimum(hot.astype(np.int64), 65535).astype(np.uint16)
    _part(tmp_path, "P1", {"V01": _plate(), "V02": hot})
    assert _inspect(tmp_path) == {"P1": "REVIEW"}


def test_under_exposed_view_is_never_ok(tmp_path: Path) -> None:
    _part(tmp_path, "P1", {"V01": _plate(), "V02": _plate(level=300.0)})
    assert _inspect(tmp_path) == {"P1": "REVIEW"}


@pytest.mark.parametrize("on_fail", ["REVIEW", "NG"])
def test_plan_chooses_the_uninspectable_sentence(tmp_path: Path, on_fail: str) -> None:
    _part(tmp_path, "P1", {"V01": _plate(), "V02": b"\x89PNG broken"})
    text = f"part_type: t\nunits: px\non_uninspectable: {on_fail}\n"
    assert _inspect(tmp_path, text) == {"P1": on_fail}


def test_missing_expected_view(tmp_path: Path) -> None:
    _part(tmp_path, "P1", {"V01": _plate()})
    text = "part_type: t\nunits: px\nexpected_views: [V01, V02]\n"
    assert _inspect(tmp_path, text) == {"P1": "REVIEW"}


def test_mm_plan_without_geometry_is_review(tmp_path: Path) -> None:
    folder = tmp_path / "P1"
    folder.mkdir()
    write_radiograph(Radiograph(_plate()), folder / "V01.tif")  # no pixel size
    plan = load_plan("giga-underbody")
    rec = Inspector(plan).inspect(discover_parts([tmp_path])[0])
    assert rec.sentence == "REVIEW"
    assert rec.findings[0].rule == "units"


def test_big_pore_is_ng_and_cited(tmp_path: Path) -> None:
    img = _plate(seed=3).astype(np.float64)
    yy, xx = np.mgrid[:128, :128]
    img[(yy - 40) ** 2 + (xx - 30) ** 2 <= 36] *= 1.15  # 12 px pore: 15 % brighter
    _part(tmp_path, "P1", {"V01": img.astype(np.uint16)})
    rec = Inspector(load_plan("generic")).inspect(discover_parts([tmp_path])[0])
    assert rec.sentence == "NG"
    assert rec.findings[0].rule == "max_pore"
    ind = rec.views[0].indications[0]
    x, y, w, h = ind.bbox
    assert x <= 30 < x + w and y <= 40 < y + h
    assert rec.views[0].measurements[0].kind == "pore"
    record = rec.to_dict()
    assert record["plan"]["sha256"] and record["software"]["castsight"]


class _HalfBlind:
    """A detector that finds nothing and judges only half of the part."""

    name = "half-blind"

    def detect(self, image: object) -> list[object]:
        return []

    def detect_judged(self, image: object) -> Judged:
        return Judged([], 0.5, None)


def test_a_part_the_detector_judged_only_in_part_is_never_ok(tmp_path: Path) -> None:
    _part(tmp_path, "P1", {"V01": _plate(), "V02": _plate(seed=1)})
    plan = load_plan("generic")
    inspector = Inspector(plan, detector_for=lambda view: _HalfBlind())  # type: ignore[arg-type,return-value]
    record = inspector.inspect(discover_parts([tmp_path])[0])
    assert record.sentence == plan.on_uninspectable
    assert [v.judged_pct for v in record.views] == [50.0, 50.0]
    assert {f.rule for f in record.findings} == {"quality.min_judged_pct"}
    lenient = plan.model_copy(update={"quality": plan.quality.model_copy(
        update={"min_judged_pct": 40.0})})  # fmt: skip
    again = Inspector(lenient, detector_for=lambda view: _HalfBlind())  # type: ignore[arg-type,return-value]
    assert again.inspect(discover_parts([tmp_path])[0]).sentence == "OK"


class _Unlike:
    """A detector with a reference that finds the view unlike its good parts."""

    name = "unlike"

    def detect(self, image: object) -> list[object]:
        return []

    def detect_judged(self, image: object) -> Judged:
        return Judged([], 0.97, 0.05)  # 5 % of the judged part deviates: no taught pose


def test_a_view_unlike_the_taught_good_parts_is_never_ok(tmp_path: Path) -> None:
    _part(tmp_path, "P1", {"V01": _plate()})
    plan = load_plan("generic")
    inspector = Inspector(plan, detector_for=lambda view: _Unlike())  # type: ignore[arg-type,return-value]
    record = inspector.inspect(discover_parts([tmp_path])[0])
    assert record.sentence == plan.on_uninspectable
    assert record.views[0].deviating_pct == 5.0
    assert {f.rule for f in record.findings} == {"quality.max_deviating_pct"}
    assert "posed outside" in record.findings[0].message
    assert record.to_dict()["views"][0]["deviating_pct"] == 5.0


def test_a_detector_that_judges_the_whole_part_says_so(tmp_path: Path) -> None:
    _part(tmp_path, "P1", {"V01": _plate()})
    record = Inspector(load_plan("generic")).inspect(discover_parts([tmp_path])[0])
    assert record.views[0].judged_pct == 100.0
