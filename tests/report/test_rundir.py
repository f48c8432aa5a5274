"""A run's output folder lands whole, or not at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from castsight.errors import InputError
from castsight.report.rundir import RunFolder, check_out, run_status


def test_a_finished_run_replaces_the_old_one_whole(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = RunFolder.start(out, overwrite=False, command="inspect")
    (first.path / "old.txt").write_text("old")
    first.finish()
    second = RunFolder.start(out, overwrite=True, command="inspect")
    (second.path / "new.txt").write_text("new")
    assert (out / "old.txt").is_file()  # the old run stays until the new one is complete
    second.finish(parts=3)
    assert sorted(p.name for p in out.iterdir()) == ["new.txt", "run.json"]
    status = run_status(out)
    assert status is not None and status["complete"] is True and status["parts"] == 3
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_an_incomplete_run_is_kept_aside_and_marked(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = RunFolder.start(out, overwrite=False, command="inspect")
    kept = run.keep_incomplete("interrupted", parts_done=1)
    assert not out.exists() and kept.name.startswith("out.incomplete-")
    status = json.loads((kept / "run.json").read_text())
    assert status["complete"] is False and status["why_incomplete"] == "interrupted"
    RunFolder.start(out, overwrite=False, command="simulate").discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == [kept.name]


def test_only_castsight_outputs_are_replaced(tmp_path: Path) -> None:
    legacy = tmp_path / "legacy"  # a run of a version without run.json
    (legacy / "report_files").mkdir(parents=True)
    (legacy / "records.jsonl").write_text("")
    check_out(legacy, overwrite=True)
    (legacy / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="did not write"):
        check_out(legacy, overwrite=True)
    with pytest.raises(InputError, match="not empty"):
        check_out(legacy, overwrite=False)


def test_the_current_folder_as_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path / "out")
    run = RunFolder.start(Path("."), overwrite=False, command="inspect")
    assert run.path.parent == tmp_path
    assert run.finish() == tmp_path / "out" and (tmp_path / "out" / "run.json").is_file()
