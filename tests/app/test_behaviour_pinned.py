"""Behaviour pinned: the records of a seeded run are byte-identical across refactors.

The quick bench suite (``local`` and ``reference``), ``castsight teach`` +
``inspect`` on its data and ``castsight demo`` each write records and COCO
predictions; a digest of them, less what changes from run to run (times,
timings, temporary paths, the model's path and hash, which covers its
creation time), is pinned here. A change of behaviour changes a digest: when
it is meant, say so in the commit and paste the new digest the failure prints.

Floats enter the digest at 5 significant digits: the last bits of a float differ
between CPUs (numpy's and OpenCV's AVX-512 and AVX2 kernels sum in other orders),
and a session's machine is not always the last one's. A candidate on a threshold can
still flip; then the digests are those of CI's machine, which runs this file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from castsight.cli import app

runner = CliRunner()

PINNED = {
    "bench/local": "a8e000b1d33c6e4950782f41ab846ddf524e5cfa59fdf53b89cdff88f89e5fb1",
    "bench/reference": "2fd556cf837d818f3bbdb544e2bf349fa2829c9a4cae7185b0f4beec2860e858",
    "inspect/local": "a8e000b1d33c6e4950782f41ab846ddf524e5cfa59fdf53b89cdff88f89e5fb1",
    "inspect/model": "2fd556cf837d818f3bbdb544e2bf349fa2829c9a4cae7185b0f4beec2860e858",
    "demo/reference": "8cc0584a8b56eef075074af78806c55880e91cca28a4566128d51953ee3fd6dc",
}
"""sha256 of the normalised records and predictions of each run (see :func:`digest`)."""


def normalised_record(record: dict[str, Any], root: Path) -> dict[str, Any]:
    """A record less what differs between two identical runs: the time, the timings, the
    model's path and hash (its manifest holds its creation time), and the temporary root
    in view paths."""
    out = {k: v for k, v in record.items() if k not in ("inspected_at", "timings")}
    if out.get("model"):
        out["model"] = {k: v for k, v in out["model"].items() if k not in ("path", "sha256")}
    out["views"] = [
        {**{k: v for k, v in view.items() if k != "timings"},
         "path": view["path"].replace(str(root), "<tmp>")}
        for view in record["views"]
    ]  # fmt: skip
    return out


def rounded(value: Any) -> Any:
    """``value`` with every float at 5 significant digits (lists and dicts walked)."""
    if isinstance(value, float):
        return float(f"{value:.5g}")
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


def digest(folder: Path, root: Path) -> str:
    """sha256 over ``folder``'s normalised records (in order) and its predictions."""
    lines = (folder / "records.jsonl").read_text(encoding="utf-8").splitlines()
    records = [normalised_record(json.loads(line), root) for line in lines]
    predictions = json.loads((folder / "predictions.json").read_text(encoding="utf-8"))
    text = json.dumps(rounded({"records": records, "predictions": predictions}), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _ok(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code in (0, 1), result.output


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("pinned")
    bench = root / "bench"
    _ok(["bench", "--suite", "quick", "--detectors", "local,reference", "--out", str(bench),
         "--no-write-markdown"])  # fmt: skip
    quick = bench / "quick"
    data = quick / "data"
    model = root / "model"
    _ok(["teach", "--good", str(data / "good"), "--plan", "giga-underbody", "--out", str(model)])
    common = [str(data / "test"), "--plan", "giga-underbody", "--no-report"]
    _ok(["inspect", *common, "--out", str(root / "inspect-local")])
    _ok(["inspect", *common, "--model", str(model), "--out", str(root / "inspect-model")])
    demo = root / "demo"
    _ok(["demo", "--out", str(demo), "--parts", "3", "--good", "4", "--views", "2",
         "--size", "192"])  # fmt: skip
    return {
        "bench/local": digest(quick / "local", root),
        "bench/reference": digest(quick / "reference", root),
        "inspect/local": digest(root / "inspect-local", root),
        "inspect/model": digest(root / "inspect-model", root),
        "demo/reference": digest(demo / "inspect", root),
    }


@pytest.mark.parametrize("run", list(PINNED))
def test_records_are_as_pinned(runs: dict[str, str], run: str) -> None:
    assert runs[run] == PINNED[run], f"{run}: records changed; now {runs[run]!r}"
