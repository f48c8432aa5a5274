"""castsight bench: the quick suite end to end, a stand-in peer, the BENCHMARKS section."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from castsight.bench import CONFIGURATIONS, Context, External, replace_section
from castsight.bench.podset import POD_SIZES_MM, WALL_BANDS_MM
from castsight.cli import app
from castsight.errors import InputError

runner = CliRunner()

# A stand-in for benchmarks/peer/run_peer.py: perfect boxes from the truth, the true
# sentences, and a fixed timing; it checks that it got the contract's arguments.
FAKE_PEER = """
import argparse, json, pathlib
ap = argparse.ArgumentParser()
ap.add_argument("--train"); ap.add_argument("--test"); ap.add_argument("--out")
a = ap.parse_args()
train, test, out = (pathlib.Path(p) for p in (a.train, a.test, a.out))
assert (train / "truth.json").is_file() and (test / "parts.json").is_file()
truth = json.loads((test / "truth.json").read_text())
files = {i["id"]: i["file_name"] for i in truth["images"]}
preds = [{"file_name": files[x["image_id"]], "bbox": x["bbox"], "score": 0.9,
          "category_id": x["category_id"]} for x in truth["annotations"]]
out.mkdir(parents=True, exist_ok=True)
(out / "predictions.json").write_text(json.dumps(preds))
parts = json.loads((test / "parts.json").read_text())["parts"]
(out / "records.jsonl").write_text("".join(json.dumps({"serial": p["serial"],
    "sentence": p["sentence_imaged"], "timings": {"total_s": 0.5}}) + "\\n" for p in parts))
(out / "timing.json").write_text(json.dumps({"ms_per_view": 250.0, "s_per_part": 0.5}))
"""


def _fake_peer(root: Path) -> Path:
    python = root / ".venv-peer" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    script = root / "benchmarks" / "peer" / "run_peer.py"
    script.parent.mkdir(parents=True)
    script.write_text(FAKE_PEER)
    return root


def _in_unit(value: Any) -> bool:
    return value is None or 0.0 <= value <= 1.0


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str, Any]:
    tmp = tmp_path_factory.mktemp("bench")
    md = tmp / "BENCHMARKS.md"
    original = "# Benchmarks\n\n## Earlier section\n\nkept as it is.\n"
    md.write_text(original)
    peer = _fake_peer(tmp / "peer")
    args = ["bench", "--suite", "quick", "--out", str(tmp / "out"), "--markdown", str(md),
            "--peer-dir", str(peer), "--detectors", "local,reference,peer"]  # fmt: skip
    result = runner.invoke(app, args)
    return tmp, md, original, result


def test_quick_suite_runs_end_to_end(quick: tuple[Path, Path, str, Any]) -> None:
    tmp, _, _, result = quick
    assert result.exit_code == 0, result.output
    root = tmp / "out" / "quick"
    summary = json.loads((root / "summary.json").read_text())
    entries = {e["name"]: e for e in summary["configurations"]}
    assert [e["status"] for e in entries.values()] == ["ran", "ran", "ran"]
    for name in ("local", "reference"):
        d = root / name
        for f in ("records.jsonl", "predictions.json", "metrics.json", "report.html"):
            assert (d / f).is_file(), f"{name}/{f}"
        assert (d / "pod" / "metrics.json").is_file()
    assert (root / "reference" / "model").is_dir()
    assert "castsight bench --suite quick" in result.output


def test_figures_are_consistent_with_the_truth(quick: tuple[Path, Path, str, Any]) -> None:
    tmp, _, _, _ = quick
    root = tmp / "out" / "quick"
    summary = json.loads((root / "summary.json").read_text())
    parts = json.loads((root / "data" / "test" / "parts.json").read_text())["parts"]
    truth = json.loads((root / "data" / "test" / "truth.json").read_text())
    n_ng = sum(p["sentence_imaged"] == "NG" for p in parts)
    ds = summary["datasets"]["test"]
    assert (ds["parts"], ds["views"], ds["annotations"]) == (8, 16, len(truth["annotations"]))
    assert ds["ng_imaged"] == n_ng
    for e in summary["configurations"]:
        d, p = e["detection"], e["parts"]
        assert d["n_truth"] == len(truth["annotations"])
        assert sum(r["n"] for r in d["recall_by_category"].values()) == d["n_truth"]
        assert d["true_positives"] <= d["n_truth"] and d["false_positives"] >= 0
        for key in ("ap", "ap50", "precision", "recall"):
            assert _in_unit(d[key]), (e["name"], key, d[key])
        assert d["false_per_image"] >= 0.0
        assert p["escapes"]["n"] == n_ng and p["false_calls"]["n"] == len(parts) - n_ng
        assert sum(sum(row.values()) for row in p["confusion"].values()) == len(parts)
        for rate in (p["escapes"], p["false_calls"]):
            lo, hi = rate["clopper_pearson"]
            assert 0.0 <= lo <= rate["rate"] <= hi <= 1.0
        assert e["speed"]["ms_per_view"] > 0.0
    peer = next(e for e in summary["configurations"] if e["name"] == "peer")
    # the stand-in peer is perfect: every defect found, no escape, no false call
    assert peer["detection"]["recall"] == 1.0 and peer["detection"]["ap50"] == pytest.approx(1.0)
    assert peer["parts"]["escapes"]["k"] == 0 and peer["parts"]["false_calls"]["k"] == 0
    assert peer["speed"]["ms_per_view"] == 250.0
    goals = summary["goals"]
    assert set(goals) == {"local", "reference"}
    assert goals["reference"]["peer"]["status"] in ("met", "not met")


def test_pod_set_carries_graded_sizes_d_prime_and_wall(quick: tuple[Path, Path, str, Any]) -> None:
    tmp, _, _, _ = quick
    root = tmp / "out" / "quick"
    truth = json.loads((root / "data" / "pod" / "truth.json").read_text())
    anns = truth["annotations"]
    assert anns and all(a["size_mm"] in POD_SIZES_MM for a in anns)
    assert all(a["d_prime"] > 0 and a["wall_mm"] > 0 for a in anns)
    summary = json.loads((root / "summary.json").read_text())
    local = next(e for e in summary["configurations"] if e["name"] == "local")
    assert local["pod"]["set"] == "pod" and local["pod"]["size_mm"]["n"] == len(anns)
    overlap = local["pod"]["any_overlap"]["size_mm"]
    assert overlap["n"] == len(anns) and overlap["n_hits"] >= local["pod"]["size_mm"]["n_hits"]
    bands = {f"{lo:g}-{hi:g}" for lo, hi in WALL_BANDS_MM}
    assert set(local["pod"]["by_wall_size_mm"]) <= bands


def test_markdown_section_is_rewritten_in_place(quick: tuple[Path, Path, str, Any]) -> None:
    _, md, original, _ = quick
    text = md.read_text()
    assert text.startswith(original.rstrip("\n"))
    start, end = "<!-- bench:quick:start -->", "<!-- bench:quick:end -->"
    assert text.count(start) == 1 and text.count(end) == 1
    section = text[text.index(start) : text.index(end)]
    assert "castsight bench --suite quick" in section and "| local |" in section
    assert "zero escapes" in section and "cores" in section
    again = replace_section(text + "\ntrailing text\n", "quick", "new body")
    assert again.startswith(original.rstrip("\n")) and again.endswith("\ntrailing text\n")
    assert "new body" in again and "| local |" not in again


def test_one_marker_alone_is_refused() -> None:
    with pytest.raises(InputError):
        replace_section("a\n<!-- bench:standard:start -->\nb\n", "standard", "x")


def test_peer_is_skipped_with_a_how_to(tmp_path: Path) -> None:
    peer = CONFIGURATIONS["peer"]
    assert isinstance(peer, External)
    reason = peer.check(Context(None, {}, tmp_path, peer_dir=tmp_path))  # type: ignore[arg-type]
    assert reason is not None and "run_peer.py" in reason and "--peer-dir" in reason


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--suite", "huge"], "unknown suite 'huge'"),
        (["--suite", "quick", "--detectors", "local,yolo"], "unknown detector configuration"),
        (["--suite", "quick", "--detectors", ","], "none given"),
        (["--suite", "quick", "--markdown", "/nonexistent/B.md"], "not found"),
    ],
)
def test_bad_arguments_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["bench", "--out", str(tmp_path), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not any(tmp_path.iterdir())  # nothing was simulated


def test_bench_is_documented() -> None:
    root = Path(__file__).resolve().parents[2]
    doc = (root / "docs" / "bench.md").read_text()
    assert "castsight bench --suite standard" in doc and "make bench" in doc
    assert "castsight bench --suite standard" in (root / "Makefile").read_text()


def test_a_fixturing_variant_simulates_that_error_and_keeps_its_own_data() -> None:
    """``--fixture-deg``: the curve of figures against the fixturing error (issue 13)."""
    from castsight.bench import get_suite

    suite = get_suite("standard")
    tighter = suite.variant(fixture_deg=0.2)
    assert tighter.name == "standard-fixture0.2deg"
    assert tighter.config(tighter.test).fixture_deg == 0.2
    assert tighter.stamp(tighter.test)["fixture_deg"] == 0.2  # its data never mix
    assert "fixture_deg" not in suite.stamp(suite.test)  # the suite's own data stay reusable
    assert suite.config(suite.test).fixture_deg == 0.5
    assert suite.variant(fixture_deg=0.5) is suite
