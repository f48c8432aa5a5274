"""A part is sentenced on its whole set of views: missing, doubled, copied or unread
views, and empty parts, are never OK (issue 15, items 1-6)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from castsight.accept.plan import load_plan
from castsight.io import write_radiograph
from castsight.io.parts import discover_parts
from castsight.pipeline import InspectionRecord, Inspector
from castsight.radiograph import Radiograph


def _plate(seed: int = 0, size: int = 64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.full((size, size), 20000.0)
    img[:, size // 2 :] *= 0.6
    return rng.poisson(img).astype(np.uint16)


def _part(root: Path, name: str = "P1", views: tuple[str, ...] = ("V01", "V02")) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    for k, view in enumerate(views):
        write_radiograph(Radiograph(_plate(seed=hash((name, k)) % 1000)), folder / f"{view}.tif")
    return folder


def _records(root: Path, **kwargs: object) -> dict[str, InspectionRecord]:
    inspector = Inspector(load_plan("generic"), **kwargs)  # type: ignore[arg-type]
    return {p.serial: inspector.inspect(p) for p in discover_parts([root])}


def _rules(record: InspectionRecord) -> set[str]:
    return {f.rule for f in record.findings}


def test_a_clean_part_with_its_expected_views_is_ok(tmp_path: Path) -> None:
    _part(tmp_path)
    [rec] = _records(tmp_path, expected_views=["V01", "V02"]).values()
    assert rec.sentence == "OK"


def test_a_view_the_model_taught_that_the_part_lacks_is_review(tmp_path: Path) -> None:
    _part(tmp_path, views=("V01",))
    [rec] = _records(tmp_path, expected_views=["V01", "V02"]).values()
    assert rec.sentence == "REVIEW" and _rules(rec) == {"expected_views"}
    assert "view V02 is missing" in rec.findings[0].message


def test_a_byte_identical_copy_of_a_view_is_review(tmp_path: Path) -> None:
    folder = _part(tmp_path, views=("V01",))
    (folder / "V02.tif").write_bytes((folder / "V01.tif").read_bytes())
    [rec] = _records(tmp_path).values()
    assert rec.sentence == "REVIEW" and _rules(rec) == {"duplicate_image"}
    assert rec.views[0].sha256 == rec.views[1].sha256


def test_the_same_pixels_in_another_format_are_review(tmp_path: Path) -> None:
    folder = _part(tmp_path, views=("V01",))
    write_radiograph(Radiograph(_plate(seed=hash(("P1", 0)) % 1000)), folder / "V02.png")
    [rec] = _records(tmp_path).values()
    assert rec.views[0].sha256 != rec.views[1].sha256
    assert rec.sentence == "REVIEW" and "identical pixels" in rec.findings[0].message


def test_another_parts_view_copied_in_is_review(tmp_path: Path) -> None:
    first = _part(tmp_path, "P1")
    second = _part(tmp_path, "P2", views=("V01",))
    (second / "V02.tif").write_bytes((first / "V01.tif").read_bytes())
    records = _records(tmp_path)
    assert records["P1"].sentence == "OK"
    assert records["P2"].sentence == "REVIEW" and _rules(records["P2"]) == {"duplicate_image"}
    assert "of part P1" in records["P2"].findings[0].message


@pytest.mark.parametrize("kind", ["dangling", "loop", "folder", "fifo"])
def test_a_view_that_cannot_be_opened_is_in_the_record_and_review(
    tmp_path: Path, kind: str
) -> None:
    folder = _part(tmp_path)
    bad = folder / "V03.tif"
    {
        "dangling": lambda: bad.symlink_to(tmp_path / "gone.tif"),
        "loop": lambda: bad.symlink_to(bad),
        "folder": bad.mkdir,
        "fifo": lambda: os.mkfifo(bad),
    }[kind]()
    [rec] = _records(tmp_path).values()
    assert [v.view for v in rec.views] == ["V01", "V02", "V03"]
    assert rec.views[2].status == "unreadable" and rec.sentence == "REVIEW"


def test_a_multi_page_tiff_with_another_shaped_page_is_review(tmp_path: Path) -> None:
    import tifffile

    folder = _part(tmp_path, views=("V01",))
    with tifffile.TiffWriter(folder / "V02.tif") as tif:
        tif.write(_plate(seed=5))
        tif.write(_plate(seed=6, size=32))
    [rec] = _records(tmp_path).values()
    assert rec.views[1].status == "unreadable" and rec.sentence == "REVIEW"
    assert "multi-page" in (rec.views[1].error or "")


def test_a_view_named_twice_in_a_manifest_is_review(tmp_path: Path) -> None:
    folder = _part(tmp_path)
    views = [{"view": "V01", "path": "P1/V01.tif"}, {"view": "V01", "path": "P1/V02.tif"}]
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"parts": [{"serial": "S1", "views": views}]}))
    inspector = Inspector(load_plan("generic"))
    rec = inspector.inspect(discover_parts([manifest])[0])
    assert folder.is_dir() and rec.sentence == "REVIEW"
    assert _rules(rec) == {"duplicate_view"}


def test_an_empty_part_folder_gets_a_review_record(tmp_path: Path) -> None:
    _part(tmp_path)
    (tmp_path / "P2").mkdir()
    (tmp_path / "P3").mkdir()
    (tmp_path / "P3" / "notes.txt").write_text("no image here")
    records = _records(tmp_path)
    assert {s: r.sentence for s, r in records.items()} == {
        "P1": "OK", "P2": "REVIEW", "P3": "REVIEW"
    }  # fmt: skip
    assert _rules(records["P2"]) == {"views"}


class _Broken:
    name = "broken"

    def detect(self, image: object) -> list[object]:
        raise ZeroDivisionError("a bug")

    def detect_judged(self, image: object) -> tuple[list[object], float, None]:
        return self.detect(image), 1.0, None


def test_an_unexpected_error_is_a_review_record_not_a_crash(tmp_path: Path) -> None:
    _part(tmp_path)
    [rec] = _records(tmp_path, detector_for=lambda view: _Broken()).values()
    assert rec.sentence == "REVIEW" and {v.status for v in rec.views} == {"error"}
    assert "ZeroDivisionError" in rec.findings[0].message
