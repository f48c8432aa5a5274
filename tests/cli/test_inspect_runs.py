"""`castsight inspect` writes one whole run: never over another, never mixed, never
half-landed; odd inputs get one line, a record and an exit code (issue 15, items 9-13)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from castsight.app import image_root
from castsight.cli import app
from castsight.io import write_radiograph
from castsight.radiograph import Radiograph

runner = CliRunner()


def _parts(root: Path, names: tuple[str, ...] = ("P1", "P2")) -> Path:
    rng = np.random.default_rng(len(names))
    for name in names:
        for view in ("V01", "V02"):
            px = rng.poisson(np.full((64, 64), 20000.0)).astype(np.uint16)
            write_radiograph(Radiograph(px), root / name / f"{view}.tif")
    return root


def _records(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]


def _inspect(*args: str) -> Result:
    return runner.invoke(app, ["inspect", *args, "--no-report", "--workers", "1"])


def test_overwrite_replaces_the_whole_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = _inspect(str(_parts(tmp_path / "a")), "--out", str(out))
    assert first.exit_code == 0, first.output
    (out / "report_files").mkdir()
    (out / "report_files" / "P1_V01.png").write_bytes(b"an old run's picture")
    again = _inspect(str(_parts(tmp_path / "b", ("Q1",))), "--out", str(out), "--overwrite")
    assert again.exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "predictions.json",
        "records.jsonl",
        "run.json",
    ]
    assert [r["serial"] for r in _records(out)] == ["Q1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "out"]  # nothing left aside


def test_overwrite_never_replaces_a_folder_castsight_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "home"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    result = _inspect(str(_parts(tmp_path / "a")), "--out", str(out), "--overwrite")
    assert result.exit_code == 2 and "did not write" in result.stderr
    assert (out / "thesis.tex").read_text() == "precious"


def test_ctrl_c_keeps_the_partial_run_aside_marked_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from castsight.pipeline import Inspector

    out = tmp_path / "out"
    real = Inspector.inspect
    seen: list[str] = []

    def interrupted(self: Inspector, part: object) -> object:
        seen.append("x")
        if len(seen) == 2:
            raise KeyboardInterrupt
        return real(self, part)  # type: ignore[arg-type]

    monkeypatch.setattr(Inspector, "inspect", interrupted)
    result = _inspect(str(_parts(tmp_path / "a")), "--out", str(out))
    assert result.exit_code == 130
    assert "interrupted (Ctrl-C) after 1 of 2 parts" in result.stderr
    assert not out.exists()
    [kept] = tmp_path.glob("out.incomplete-*")
    status = json.loads((kept / "run.json").read_text())
    assert status["complete"] is False and "interrupted" in status["why_incomplete"]
    assert [r["serial"] for r in _records(kept)] == ["P1"]


KILLED_RUN = """
import os, signal, sys
from castsight.cli import app
from castsight.pipeline import Inspector
real, seen = Inspector.inspect, []
def killed(self, part):
    seen.append(part)
    if len(seen) == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(self, part)
Inspector.inspect = killed
app(sys.argv[1:])
"""


def test_a_killed_rerun_leaves_the_previous_run_whole(tmp_path: Path) -> None:
    out = tmp_path / "out"
    root = _parts(tmp_path / "a")
    assert _inspect(str(root), "--out", str(out)).exit_code == 0
    before = (out / "records.jsonl").read_text()
    args = ["inspect", str(root), "--out", str(out), "--overwrite", "--no-report"]
    killed = subprocess.run([sys.executable, "-c", KILLED_RUN, *args], capture_output=True)
    assert killed.returncode == -9
    assert (out / "records.jsonl").read_text() == before
    assert json.loads((out / "run.json").read_text())["complete"] is True
    [hidden] = tmp_path.glob(".out.run-*")
    assert json.loads((hidden / "run.json").read_text())["complete"] is False


def test_a_single_part_folder_is_one_part_keeping_its_serial(tmp_path: Path) -> None:
    root = _parts(tmp_path / "in", ("P0042",))
    result = _inspect(str(root / "P0042"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0
    [record] = _records(tmp_path / "out")
    assert record["serial"] == "P0042" and len(record["views"]) == 2  # type: ignore[arg-type]
    assert image_root([root / "P0042"]) == root and image_root([root]) == root


def test_an_empty_part_folder_is_recorded_said_and_coded(tmp_path: Path) -> None:
    root = _parts(tmp_path / "in")
    (root / "P3").mkdir()
    result = _inspect(str(root), "--out", str(tmp_path / "out"))
    assert result.exit_code == 3
    assert "part P3: part has no views" in result.stderr
    assert {r["serial"]: r["sentence"] for r in _records(tmp_path / "out")} == {
        "P1": "OK", "P2": "OK", "P3": "REVIEW"
    }  # fmt: skip


def test_non_utf8_names_are_inspected_and_reported(tmp_path: Path) -> None:
    root = _parts(tmp_path / "in", ("P1",))
    odd = Path(os.fsdecode(bytes(root / "P1") + b"/V\xff3.tif"))
    os.rename(root / "P1" / "V02.tif", odd)
    out = tmp_path / "out"
    result = runner.invoke(app, ["inspect", str(root), "--out", str(out), "--plan", "generic"])
    assert result.exit_code == 0, result.output
    [record] = _records(out)
    assert [v["view"] for v in record["views"]] == ["V01", "V\\xff3"]  # type: ignore[index]
    (out / "records.jsonl").read_bytes().decode("utf-8")  # valid UTF-8
    assert (out / "report.html").is_file()


@pytest.mark.parametrize("where", ["file", "under-file"])
def test_an_out_that_cannot_be_written_is_one_line(tmp_path: Path, where: str) -> None:
    (tmp_path / "f").write_text("x")
    out = tmp_path / "f" if where == "file" else tmp_path / "f" / "out"
    result = _inspect(str(_parts(tmp_path / "in")), "--out", str(out))
    assert result.exit_code == 2 and result.exception is not None
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_an_unknown_detector_is_refused(tmp_path: Path) -> None:
    result = _inspect(str(_parts(tmp_path / "in")), "--out", str(tmp_path / "o"), "--detector",
                      "bogus")  # fmt: skip
    assert result.exit_code == 2 and "bogus" in result.stderr
    assert not (tmp_path / "o").exists()
