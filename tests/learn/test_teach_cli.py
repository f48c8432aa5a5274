"""``castsight teach`` end to end with the learned detector, and Ctrl-C leaving no model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from castsight.detect.learned import LearnedDetector
from castsight.io import write_radiograph
from castsight.learn import network as network_module
from castsight.model import load_artifact
from castsight.preprocess.prepare import prepare
from tests.learn.conftest import good_image, write_good_parts
from tests.teach import teach_app

FAST = ["--learned", "--network", "learned", "--steps", "4", "--minutes", "1"]
GUIDED = ["--learned", "--steps", "4", "--minutes", "1"]  # aligned views: guided (auto)


_app = teach_app


def test_teach_writes_learned_model_with_report(tmp_path: Path) -> None:
    good = write_good_parts(tmp_path / "good", 5)
    out = tmp_path / "model"
    result = CliRunner().invoke(_app(), ["teach", "--good", str(good), "--out", str(out), *FAST])
    assert result.exit_code == 0, result.output
    assert "learned detector: threshold" in result.stdout
    model = load_artifact(out)
    assert model.views == ("V01",)  # five aligned views of one part: reference too
    part = model.learned()
    assert part is not None and 0.1 <= part.settings.threshold < 1.0
    summary = part.summary
    assert summary["images"] == {"train": 3, "calibration": 1, "validation": 1,
                                 "n_validation_unseen": 1}  # fmt: skip
    assert summary["onnx_max_abs_logit_diff"] < 1e-3
    report = out / "learned" / "report"
    assert {p.name for p in report.iterdir()} == {"validation.json", "pod.png", "overlay.png"}
    figures = json.loads((report / "validation.json").read_text())["validation"]
    assert figures["defects"] > 0 and figures["false_per_good_image"] >= 0
    found = LearnedDetector(part.onnx, part.settings).detect(prepare(good_image(9)))
    assert isinstance(found, list)


def test_teach_on_aligned_views_writes_guided_model(tmp_path: Path) -> None:
    from castsight.accept.plan import load_plan
    from castsight.app.detectors import model_detectors
    from castsight.detect.guided import GuidedDetector

    good = write_good_parts(tmp_path / "good", 6)
    out = tmp_path / "model"
    result = CliRunner().invoke(_app(), ["teach", "--good", str(good), "--out", str(out), *GUIDED])
    assert result.exit_code == 0, result.output
    assert "guided detector: threshold" in result.stdout
    model = load_artifact(out)
    assert model.learned() is None
    part = model.guided()
    assert part is not None and 0.1 <= part.settings.threshold < 1.0
    summary = part.summary
    assert summary["training"]["fine_tuned"]  # from the shipped starting weights
    assert summary["onnx_max_abs_logit_diff"] < 1e-3
    assert summary["validation"]["defects"] > 0
    report = out / "guided" / "report"
    assert {p.name for p in report.iterdir()} == {"validation.json", "pod.png", "overlay.png"}
    assert (out / "guided" / "weights.pt").is_file()
    detector = model_detectors(out, load_plan("generic")).detector_for("V01")
    assert isinstance(detector, GuidedDetector)
    found, judged, deviating = detector.detect_judged(prepare(good_image(9)))[:3]
    assert isinstance(found, list) and 0.5 < judged <= 1.0 and deviating is not None


def test_guided_needs_aligned_views(tmp_path: Path) -> None:
    good = tmp_path / "good"
    for k in range(2):  # too few images to learn a reference from
        folder = good / f"P{k:04d}"
        folder.mkdir(parents=True)
        write_radiograph(good_image(k), folder / f"V0{k}.tif")
    args = ["teach", "--good", str(good), "--out", str(tmp_path / "m"), *GUIDED]
    result = CliRunner().invoke(_app(), [*args, "--network", "guided"])
    assert result.exit_code == 2 and "needs aligned views" in result.stderr
    assert not (tmp_path / "m").exists()


def test_interrupted_teach_leaves_no_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = write_good_parts(tmp_path / "good", 3)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(network_module, "train", interrupted)
    out = tmp_path / "model"
    result = CliRunner().invoke(_app(), ["teach", "--good", str(good), "--out", str(out), *FAST])
    assert result.exit_code != 0  # click turns Ctrl-C into "Aborted!", exit 1
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good"]  # no hidden temporary folder


def test_a_bad_init_fails_before_any_learning(tmp_path: Path) -> None:
    from castsight.model import save_artifact

    good = write_good_parts(tmp_path / "good", 3)
    bare = tmp_path / "bare"
    save_artifact(bare, reference=None)  # a model without learned weights
    for init, says in ((tmp_path / "nope", "no such model folder"),
                       (bare, "no learned or guided weights")):  # fmt: skip
        args = ["teach", "--good", str(good), "--out", str(tmp_path / "m"), *FAST]
        result = CliRunner().invoke(_app(), [*args, "--init", str(init)])
        assert result.exit_code == 2 and says in result.stderr
        assert not (tmp_path / "m").exists()
