"""A tiny model trains in seconds, exports to ONNX that agrees with PyTorch, and round-trips."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from castsight.detect.learned import LearnedDetector, LearnedSettings, _spans
from castsight.detect.normalise import normalise
from castsight.learn.calibrate import choose_threshold
from castsight.learn.export import export_onnx, verify_onnx
from castsight.learn.synth import SampleMaker, SynthSettings, cut_crops
from castsight.learn.train import TrainSettings, learning_rate, train
from castsight.model import LearnedPart, load_artifact, save_artifact
from castsight.preprocess.prepare import prepare
from tests.learn.conftest import good_image

TINY = SynthSettings(patch_px=32, margin_px=16, crops_per_image=8, size_px=(2.0, 8.0))
TINY_TRAIN = TrainSettings(steps=3, batch=2, widths=(4, 4, 4, 4), stem=2, time_budget_s=None)


def _tiny_net() -> torch.nn.Module:
    rng = np.random.default_rng(0)
    crops = [c for k in range(2) for c in cut_crops(prepare(good_image(k, (96, 96))), TINY, rng)]
    maker = SampleMaker(crops, TINY, seed=1)
    x, y = maker.batch(3)
    assert x.shape == (3, 2, 32, 32) and y.shape == (3, 1, 32, 32) and x.dtype == np.float32
    return train(maker, TINY_TRAIN).net


def test_samples_carry_exact_defect_masks() -> None:
    rng = np.random.default_rng(0)
    crops = cut_crops(prepare(good_image(0, (96, 96))), TINY, rng)
    maker = SampleMaker(crops, replace(TINY, defect_patch_fraction=1.0, peak_sigmas=(10, 20)), 3)
    labels = [maker.sample()[1] for _ in range(6)]
    assert sum(float(lab.sum()) > 0 for lab in labels) >= 4
    assert all(set(np.unique(lab)) <= {0.0, 1.0} for lab in labels)


def test_tiny_train_export_agree_and_round_trip(tmp_path: Path) -> None:
    net = _tiny_net()
    onnx = export_onnx(net)
    assert verify_onnx(net, onnx) < 1e-4
    settings = LearnedSettings(threshold=0.6, multiple=net.multiple, tile_px=256, overlap_px=32)
    part = LearnedPart(onnx, settings, {"steps": 3}, {"validation.json": b"{}\n"})
    save_artifact(tmp_path / "m", reference=None, learned=part)
    model = load_artifact(tmp_path / "m")
    back = model.learned()
    assert back is not None and back.settings == settings and back.onnx == onnx
    assert (tmp_path / "m" / "learned" / "report" / "validation.json").is_file()
    image = prepare(good_image(5, (150, 170)))
    x = normalise(image.attenuation)
    detector = LearnedDetector(back.onnx, back.settings)
    prob = detector.probability(x)  # one tile: the image padded to a multiple of 16
    pad = np.pad(x, ((0, 0), (0, 10), (0, 6)), mode="reflect")  # the same, in torch
    with torch.no_grad():
        logit = net(torch.from_numpy(pad)[None]).numpy()[0, 0, :150, :170]
    ref = 1.0 / (1.0 + np.exp(-logit))
    assert float(np.abs(prob - ref).max()) < 1e-4
    tiled = detector.with_settings(replace(settings, tile_px=96, overlap_px=32)).probability(x)
    assert float(np.abs(tiled - ref).mean()) < 0.02  # tiles see less context near their edges


def test_tiles_cover_the_image_once() -> None:
    for length in (7, 64, 150, 1536, 3001):
        spans = _spans(length, 1024, 96, 32)
        kept = [hi - lo for _, _, lo, hi in spans]
        assert sum(kept) == length and spans[0][2] == 0 and spans[-1][3] == length
        assert all(size % 32 == 0 and size <= max(1024, length + 32) for _, size, _, _ in spans)


def test_threshold_rule() -> None:
    assert choose_threshold([[0.3], [0.99]], 0.01).threshold > 0.99
    assert choose_threshold([[]] * 5).threshold == pytest.approx(0.1)
    many = [[0.9]] + [[0.6]] * 199
    assert choose_threshold(many, 0.01).threshold == pytest.approx(0.6)


def test_learning_rate_decays_by_time_or_steps() -> None:
    assert learning_rate(1.0, 0.0) == pytest.approx(0.1)
    assert learning_rate(1.0, 0.1) == pytest.approx(1.0)
    assert learning_rate(1.0, 1.0) == pytest.approx(0.02)
