"""castsight info / convert / --version / --help as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom
from typer.testing import CliRunner

from castsight import __version__
from castsight.cli import app
from castsight.io import read_radiograph, write_radiograph
from tests.conftest import make_radiograph

runner = CliRunner()


def test_version_and_help() -> None:
    assert runner.invoke(app, ["--version"]).output.strip() == f"castsight {__version__}"
    help_text = runner.invoke(app, ["--help"]).output
    for command in ("info", "convert", "demo"):
        assert command in help_text


def test_info_reports_good_files_and_one_line_per_bad_one(tmp_path: Path) -> None:
    good = write_radiograph(make_radiograph(), tmp_path / "good.tif")
    bad = tmp_path / "bad.tif"
    bad.write_bytes(good.read_bytes()[:300])
    other = write_radiograph(make_radiograph(seed=1), tmp_path / "other.png")
    result = runner.invoke(app, ["info", str(good), str(bad), str(other)])
    assert result.exit_code == 2
    out_lines = result.stdout.strip().splitlines()
    err_lines = result.stderr.strip().splitlines()
    assert len(out_lines) == 2 and "good.tif" in out_lines[0] and "other.png" in out_lines[1]
    assert len(err_lines) == 1 and "bad.tif" in err_lines[0]
    assert "Traceback" not in result.output


def test_info_json(tmp_path: Path) -> None:
    r = make_radiograph()
    path = write_radiograph(r, tmp_path / "v.dcm")
    result = runner.invoke(app, ["info", "--json", str(path)])
    assert result.exit_code == 0
    facts = json.loads(result.stdout)
    assert facts["dtype"] == "uint16" and facts["max"] == float(r.pixels.max())
    assert facts["identity"]["part_serial"] == "P-0001"


def test_convert_to_diconde_keeps_pixels_and_spacing(tmp_path: Path) -> None:
    src = write_radiograph(make_radiograph(), tmp_path / "v.tif")
    result = runner.invoke(app, ["convert", str(src), str(tmp_path / "v.dcm")])
    assert result.exit_code == 0, result.output
    ds = pydicom.dcmread(tmp_path / "v.dcm")
    assert np.array_equal(ds.pixel_array, read_radiograph(src).pixels)
    assert float(ds.ImagerPixelSpacing[0]) == 0.139


def test_convert_puts_a_parts_views_in_one_series_unless_told(tmp_path: Path) -> None:
    series = []
    for k, view in enumerate(["V01", "V02"]):
        src = write_radiograph(make_radiograph(seed=k), tmp_path / f"{view}.tif")
        result = runner.invoke(app, ["convert", str(src), str(tmp_path / f"{view}.dcm")])
        assert result.exit_code == 0, result.output
        series.append(pydicom.dcmread(tmp_path / f"{view}.dcm").SeriesInstanceUID)
    assert series[0] == series[1]  # one part (P-0001), converted view by view
    src = tmp_path / "V01.tif"
    told = runner.invoke(
        app, ["convert", str(src), str(tmp_path / "x.dcm"), "--series-uid", "1.2.9"]
    )
    assert told.exit_code == 0, told.output
    assert pydicom.dcmread(tmp_path / "x.dcm").SeriesInstanceUID == "1.2.9"
    bad = runner.invoke(app, ["convert", str(src), str(tmp_path / "y.dcm"), "--series-uid", "x"])
    assert bad.exit_code == 2 and "not a valid DICOM UID" in bad.stderr
    assert not (tmp_path / "y.dcm").exists()


def test_convert_refuses_lossy_without_window(tmp_path: Path) -> None:
    src = write_radiograph(make_radiograph(), tmp_path / "v.tif")
    out = tmp_path / "v8.png"
    result = runner.invoke(app, ["convert", str(src), str(out), "--dtype", "uint8"])
    assert result.exit_code == 2 and not out.exists()
    assert "loses information" in result.stderr
    result = runner.invoke(
        app,
        [
            "convert",
            str(src),
            str(out),
            "--dtype",
            "uint8",
            "--allow-lossy",
            "--window",
            "0",
            "65535",
        ],
    )
    assert result.exit_code == 0 and read_radiograph(out).dtype == np.uint8


def test_convert_will_not_overwrite_silently(tmp_path: Path) -> None:
    src = write_radiograph(make_radiograph(), tmp_path / "v.tif")
    target = write_radiograph(make_radiograph(seed=3), tmp_path / "t.tif")
    before = target.read_bytes()
    result = runner.invoke(app, ["convert", str(src), str(target)])
    assert result.exit_code == 2 and target.read_bytes() == before


def test_demo_runs(tmp_path: Path) -> None:
    args = ["demo", "--out", str(tmp_path), "--parts", "2", "--views", "2", "--size", "256"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "true vs found" in result.output and "P0002" in result.output
    records = (tmp_path / "inspect" / "records.jsonl").read_text().splitlines()
    assert len(records) == 2
    assert (tmp_path / "inspect" / "report.html").exists()
    assert (tmp_path / "inspect" / "predictions.json").exists()
