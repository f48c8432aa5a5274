"""`castsight inspect`: outputs, exit codes, a bad file does not stop the batch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from castsight.cli import app
from castsight.io import write_radiograph
from castsight.radiograph import Radiograph

runner = CliRunner()


def _parts(root: Path, broken: bool = True) -> Path:
    rng = np.random.default_rng(0)
    for name in ("P1", "P2"):
        (root / name).mkdir(parents=True)
        for view in ("V01", "V02"):
            px = rng.poisson(np.full((96, 96), 20000.0)).astype(np.uint16)
            write_radiograph(Radiograph(px), root / name / f"{view}.tif")
    bad = b"II*\x00broken" if broken else (root / "P1" / "V01.tif").read_bytes()
    (root / "P2" / "V02.tif").write_bytes(bad)  # unreadable, or a copy: REVIEW either way
    return root


def test_inspect_writes_outputs_and_goes_on_past_a_bad_file(tmp_path: Path) -> None:
    root = _parts(tmp_path / "in")
    out = tmp_path / "out"
    result = runner.invoke(app, ["inspect", str(root), "--out", str(out)])
    assert result.exit_code == 3, result.output  # a file errored: said, recorded, and coded
    assert "P2/V02.tif" in result.stderr
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    assert {r["serial"]: r["sentence"] for r in records} == {"P1": "OK", "P2": "REVIEW"}
    assert records[1]["views"][1]["status"] == "unreadable"
    assert records[0]["schema"] == "castsight.record/1" and records[0]["plan"]["sha256"]
    assert json.loads((out / "predictions.json").read_text()) == []
    assert (out / "report.html").exists()


def test_fail_on_review_sets_exit_1(tmp_path: Path) -> None:
    root = _parts(tmp_path / "in", broken=False)
    args = ["inspect", str(root), "--out", str(tmp_path / "o"), "--fail-on", "review"]
    assert runner.invoke(app, args).exit_code == 1
    args = ["inspect", str(root), "--out", str(tmp_path / "o2"), "--fail-on", "ng"]
    assert runner.invoke(app, args).exit_code == 0


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    missing = ["inspect", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]
    assert runner.invoke(app, missing).exit_code == 2
    root = _parts(tmp_path / "in")
    bad_plan = ["inspect", str(root), "--out", str(tmp_path / "o3"), "--plan", "nosuch.yaml"]
    assert runner.invoke(app, bad_plan).exit_code == 2
