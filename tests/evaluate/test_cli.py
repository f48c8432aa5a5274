"""castsight evaluate end to end on a tiny generated run."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from castsight.cli.evaluate_cmd import register
from castsight.io import write_radiograph
from tests.conftest import make_radiograph
from tests.evaluate.fixtures import ann, pred, truth

runner = CliRunner()
app = typer.Typer()
register(app)


@app.callback()
def _root() -> None:
    """Test app holding only ``evaluate``."""


def _run_dir(tmp_path: Path) -> tuple[Path, Path]:
    data = truth(ann(1, 1, [10, 10, 8, 8], 1.2), ann(2, 2, [30, 30, 6, 6], 0.4, category_id=4))
    sim = tmp_path / "sim"
    for image in data["images"]:
        write_radiograph(make_radiograph(shape=(64, 64)), sim / image["file_name"])
    (sim / "truth.json").write_text(json.dumps(data))
    parts = {"parts": [{"serial": "P0001", "sentence": "NG", "sentence_imaged": "NG"}]}
    (sim / "parts.json").write_text(json.dumps(parts))
    run = tmp_path / "run"
    run.mkdir()
    preds = [
        {**pred(0, [10, 10, 8, 8], 0.95), "file_name": "P0001/V01.tif"},
        {**pred(0, [50, 2, 6, 6], 0.7), "file_name": "/line/P0001/V02.tif"},
    ]
    for p in preds:
        del p["image_id"]
    (run / "predictions.json").write_text(json.dumps(preds))
    record = {"serial": "P0001", "sentence": "NG", "timings": {"total_s": 0.8}}
    (run / "records.jsonl").write_text(json.dumps(record) + "\n")
    return sim, run


def test_evaluate_writes_metrics_and_report(tmp_path: Path) -> None:
    sim, run = _run_dir(tmp_path)
    out = tmp_path / "eval"
    args = ["evaluate", "--pred", str(run / "predictions.json"), "--truth", str(sim / "truth.json")]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "AP50" in result.stdout and "report.html" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    det = metrics["detection"]
    assert (det["true_positives"], det["false_positives"], det["misses"]) == (1, 1, 1)
    assert metrics["parts"]["escapes"]["n"] == 1 and metrics["parts"]["escapes"]["k"] == 0
    assert metrics["worst_misses"][0]["thumbnail"] == "thumbs/miss000.png"
    html = (out / "report.html").read_text()
    assert "Worst misses" in html and "pr_curve.png" in html
    assert (out / "thumbs" / "false000.png").is_file() and (out / "pod_size_mm.png").is_file()


def test_bad_input_exits_2_with_one_line(tmp_path: Path) -> None:
    sim, run = _run_dir(tmp_path)
    base = ["evaluate", "--truth", str(sim / "truth.json"), "--out", str(tmp_path / "o")]
    missing = runner.invoke(app, [*base, "--pred", str(run / "nope.json")])
    assert missing.exit_code == 2
    assert missing.stderr.strip().splitlines() == [
        f"castsight: error: {run / 'nope.json'}: no such file"
    ]
    (run / "bad.json").write_text("[{")
    bad = runner.invoke(app, [*base, "--pred", str(run / "bad.json")])
    assert bad.exit_code == 2 and "not valid JSON" in bad.stderr
    (run / "other.json").write_text(
        json.dumps([{**pred(0, [1, 1, 2, 2]), "file_name": "P9/V1.tif"}])
    )
    other = runner.invoke(app, [*base, "--pred", str(run / "other.json")])
    assert other.exit_code == 2 and "matches no truth image" in other.stderr
    mode = runner.invoke(app, [*base, "--pred", str(run / "predictions.json"), "--match", "x"])
    assert mode.exit_code == 2 and "Traceback" not in mode.output


def _args(sim: Path, run: Path, out: Path) -> list[str]:
    pred_path = str(run / "predictions.json")
    return ["evaluate", "--pred", pred_path, "--truth", str(sim / "truth.json"), "--out", str(out)]


def test_an_existing_report_is_kept_unless_overwrite(tmp_path: Path) -> None:
    sim, run = _run_dir(tmp_path)
    out = tmp_path / "inspected"
    out.mkdir()
    (out / "report.html").write_text("the inspection report")
    refused = runner.invoke(app, _args(sim, run, out))
    assert refused.exit_code == 2 and "--overwrite" in refused.stderr
    assert (out / "report.html").read_text() == "the inspection report"
    again = runner.invoke(app, [*_args(sim, run, out), "--overwrite"])
    assert again.exit_code == 0, again.output
    assert "Worst misses" in (out / "report.html").read_text()
    assert json.loads((out / "run.json").read_text())["complete"] is True


def test_out_may_not_hold_the_inputs_or_be_a_file(tmp_path: Path) -> None:
    sim, run = _run_dir(tmp_path)
    inside = runner.invoke(app, [*_args(sim, run, run), "--overwrite"])
    assert inside.exit_code == 2 and "holds the input" in inside.stderr
    assert (run / "predictions.json").is_file()
    (tmp_path / "file").write_text("x")
    is_file = runner.invoke(app, _args(sim, run, tmp_path / "file"))
    assert is_file.exit_code == 2 and "not a folder" in is_file.stderr
    assert "Traceback" not in is_file.output


def test_partial_records_are_said_on_stdout_and_coded(tmp_path: Path) -> None:
    sim, run = _run_dir(tmp_path)
    parts = {
        "parts": [{"serial": "P0001", "sentence": "NG"}, {"serial": "P0002", "sentence": "OK"}]
    }
    (sim / "parts.json").write_text(json.dumps(parts))
    (run / "records.jsonl").write_text(json.dumps({"serial": "P0002", "sentence": "OK"}) + "\n")
    result = runner.invoke(app, _args(sim, run, tmp_path / "eval"))
    assert result.exit_code == 3, result.output
    assert "1 of 2 parts have no record (P0001)" in result.stdout
    assert "no NG part has a record" in result.stdout and "0/0" not in result.stdout
