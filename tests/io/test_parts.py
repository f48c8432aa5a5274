"""Part folders, loose files and manifests group files into parts."""

from __future__ import annotations

import json
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
