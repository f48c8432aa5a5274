"""Part folders, loose files and manifests group files into parts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from castsight.errors import InputError
from castsight.io import discover_parts


def _touch(root: Path, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x")


def test_subdirectories_are_parts_in_natural_order(tmp_path: Path) -> None:
    _touch(tmp_path, "P10/V1.tif", "P2/V10.tif", "P2/V2.tif", "P2/V2.json", "truth.json")
    parts = discover_parts([tmp_path])
    assert [p.serial for p in parts] == ["P2", "P10"]
    assert [v.name for v in parts[0].views] == ["V2", "V10"]


def test_loose_files_are_one_part_each(tmp_path: Path) -> None:
    _touch(tmp_path, "a.png", "b.dcm", "c.txt")
    parts = discover_parts([tmp_path / "a.png", tmp_path / "b.dcm"])
    assert [(p.serial, len(p.views)) for p in parts] == [("a", 1), ("b", 1)]


def test_manifest_groups_files(tmp_path: Path) -> None:
    _touch(tmp_path, "x/1.tif", "y/2.tif")
    manifest = {
        "parts": [
            {
                "serial": "S9",
                "type": "wheel",
                "views": [{"view": "front", "path": "x/1.tif"}, "y/2.tif"],
            }
        ]
    }
    (tmp_path / "m.json").write_text(json.dumps(manifest))
    [part] = discover_parts([tmp_path / "m.json"])
    assert part.serial == "S9" and part.part_type == "wheel"
    assert [v.name for v in part.views] == ["front", "2"]
    assert part.views[1].path == (tmp_path / "y/2.tif").resolve()


@pytest.mark.parametrize(
    "body", ['{"parts": 3}', "[1, 2]", "{not json", '{"parts": [{"serial": "A", "views": []}]}']
)
def test_bad_manifest_is_named(tmp_path: Path, body: str) -> None:
    (tmp_path / "m.json").write_text(body)
    with pytest.raises(InputError, match=r"m\.json"):
        discover_parts([tmp_path / "m.json"])


def test_missing_input_and_duplicate_serials(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such"):
        discover_parts([tmp_path / "nope"])
    _touch(tmp_path, "d/P1/V1.tif", "e/P1/V1.tif")
    with pytest.raises(InputError, match="twice"):
        discover_parts([tmp_path / "d", tmp_path / "e"])


def test_a_part_folder_given_alone_is_one_part_with_its_serial(tmp_path: Path) -> None:
    _touch(tmp_path, "P7/V01.tif", "P7/V02.tif", "P7/notes.txt")
    [part] = discover_parts([tmp_path / "P7"])
    assert part.serial == "P7" and [v.name for v in part.views] == ["V01", "V02"]


def test_a_part_folder_without_images_is_still_a_part(tmp_path: Path) -> None:
    _touch(tmp_path, "P1/V01.tif", "P2/notes.txt")
    (tmp_path / "P3").mkdir()
    parts = discover_parts([tmp_path])
    assert [(p.serial, len(p.views)) for p in parts] == [("P1", 1), ("P2", 0), ("P3", 0)]


def test_anything_named_like_an_image_is_a_view(tmp_path: Path) -> None:
    _touch(tmp_path, "P1/V01.tif")
    (tmp_path / "P1/V02.tif").symlink_to(tmp_path / "gone.tif")
    (tmp_path / "P1/V03.tif").mkdir()
    (tmp_path / "P1/V04.tif").symlink_to(tmp_path / "P1/V04.tif")  # a link loop
    [part] = discover_parts([tmp_path])
    assert part.serial == "P1"
    assert [v.name for v in part.views] == ["V01", "V02", "V03", "V04"]


def test_names_that_are_not_utf8_are_kept_printable(tmp_path: Path) -> None:
    folder = Path(os.fsdecode(bytes(tmp_path) + b"/P\xff1"))
    folder.mkdir()
    (folder / os.fsdecode(b"V\xfe.tif")).write_bytes(b"x")
    [part] = discover_parts([tmp_path])
    assert part.serial == "P\\xff1" and part.views[0].name == "V\\xfe"
    assert part.views[0].path.exists()


def test_a_manifest_keeps_a_view_named_twice(tmp_path: Path) -> None:
    _touch(tmp_path, "a.tif", "b.tif")
    views = [{"view": "V01", "path": "a.tif"}, {"view": "V01", "path": "b.tif"}]
    (tmp_path / "m.json").write_text(json.dumps({"parts": [{"serial": "S", "views": views}]}))
    [part] = discover_parts([tmp_path / "m.json"])
    assert [v.name for v in part.views] == ["V01", "V01"]  # the pipeline sentences it
