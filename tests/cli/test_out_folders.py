"""--out that cannot be written is one line and exit 2 for every command that writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from castsight.cli import app

runner = CliRunner()


def _command(name: str, good: Path, out: Path) -> list[str]:
    return {
        "simulate": ["simulate", "--parts", "1", "--views", "1", "--size", "64", "--out", str(out)],
        "teach": ["teach", "--good", str(good), "--out", str(out)],
        "inspect": ["inspect", str(good), "--out", str(out)],
    }[name]


@pytest.mark.parametrize("name", ["simulate", "teach", "inspect"])
@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_an_out_that_cannot_be_written_is_one_line(tmp_path: Path, name: str, where: str) -> None:
    good = tmp_path / "good"
    (good / "P1").mkdir(parents=True)
    (good / "P1" / "V01.tif").write_bytes(b"x")
    (tmp_path / "f").write_text("x")
    out = tmp_path / "f" if where == "a file" else tmp_path / "f" / "out"
    result = runner.invoke(app, _command(name, good, out))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert (
        len(lines) == 1
        and lines[0].startswith("castsight: error: ")
        and str(out.parent) in lines[0]
    )
    assert (tmp_path / "f").read_text() == "x"
