"""The application layer: the one detector registry, options, streaming inspection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from castsight import app
from castsight.cli import app as cli
from castsight.errors import CastsightError, InputError
from castsight.io import write_radiograph
from castsight.io.parts import discover_parts
from castsight.radiograph import Radiograph


def _parts(root: Path, n: int = 3, broken: bool = False) -> Path:
    rng = np.random.default_rng(0)
    clean = np.full((96, 96), 20000.0)
    clean[20:60, 40:] = 12000.0
    for k in range(n):
        (root / f"P{k}").mkdir(parents=True)
        px = rng.poisson(clean).astype(np.uint16)
        write_radiograph(Radiograph(px, view="V01"), root / f"P{k}" / "V01.tif")
    if broken:
        (root / "P0" / "V02.tif").write_bytes(b"not an image")
    return root


def test_one_registry_lists_every_mode_and_the_cli_and_bench_use_it() -> None:
    from castsight.bench import CONFIGURATIONS
    from castsight.bench.configs import InProcess

    assert list(app.DETECTORS) == ["auto", "local", "reference", "guided", "learned", "cascade"]
    in_process = [n for n, c in CONFIGURATIONS.items() if isinstance(c, InProcess)]
    assert set(in_process) <= set(app.DETECTORS)
    result = CliRunner().invoke(cli, ["inspect", "--help"], terminal_width=200)
    assert "guided" in result.output


def test_options_are_checked_when_made() -> None:
    with pytest.raises(InputError, match="expected one of auto, local, reference, guided"):
        app.InspectOptions(detector="yolo")
    with pytest.raises(InputError, match="--network"):
        app.TeachOptions((Path("good"),), Path("model"), network="resnet")
    with pytest.raises(InputError, match="--match"):
        app.EvaluateOptions(Path("p"), Path("t"), Path("o"), match="circle")


@pytest.mark.parametrize("mode", ["reference", "guided"])
def test_a_mode_that_needs_a_model_says_so(mode: str) -> None:
    with pytest.raises(CastsightError, match=f"--detector {mode} needs --model"):
        app.build_inspector(app.InspectOptions(detector=mode))


def test_guided_is_refused_for_a_model_without_its_network(tmp_path: Path) -> None:
    good = _parts(tmp_path / "good", 4)
    model = app.teach(app.TeachOptions((good,), tmp_path / "model")).model
    reference = app.build_inspector(app.InspectOptions(model=model, detector="reference"))
    assert reference.detector_for("V01").name == "reference"
    with pytest.raises(CastsightError, match="has no guided detector"):
        app.build_inspector(app.InspectOptions(model=model, detector="guided"))
    result = CliRunner().invoke(cli, ["inspect", str(good), "--model", str(model), "--detector",
                                      "guided", "--out", str(tmp_path / "out")])  # fmt: skip
    assert result.exit_code == 2 and "has no guided detector" in result.output


def test_inspect_parts_streams_records_written_before_each_is_yielded(tmp_path: Path) -> None:
    root = _parts(tmp_path / "parts", 3, broken=True)
    parts = discover_parts([root])
    seen: list[tuple[str, int, int]] = []
    inspector = app.build_inspector(app.InspectOptions(detector="local"))
    out = tmp_path / "run"
    stream = app.inspect_parts(parts, inspector, out=out, image_root=root,
                               progress=lambda s, d, t, n="": seen.append((s, d, t)))  # fmt: skip
    first = next(stream)
    assert len((out / "records.jsonl").read_text().splitlines()) == 1
    assert not (out / "predictions.json").exists()  # written once the last part is done
    rest = list(stream)
    assert [r.serial for r in [first, *rest]] == ["P0", "P1", "P2"]
    assert (out / "predictions.json").is_file()
    assert seen == [("inspecting parts", d, 3) for d in range(4)]
    assert app.record_errors(first) and first.sentence == "REVIEW"
    assert all(app.record_errors(r) == [] for r in rest)
