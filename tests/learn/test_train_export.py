"""A tiny model trains in seconds, exports to ONNX that agrees with PyTorch, and round-trips."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from castsight.detect.learned import LearnedDetector, LearnedSettings, _spans
from castsight.detect.normalise import normalise
from castsight.errors import InputError
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


def _tiny_maker() -> SampleMaker:
    rng = np.random.default_rng(0)
    crops = [c for k in range(2) for c in cut_crops(prepare(good_image(k, (96, 96))), TINY, rng)]
    return SampleMaker(crops, TINY, seed=1)


def test_worker_processes_make_a_repeatable_stream() -> None:
    settings = replace(TINY_TRAIN, workers=1, seed=4)
    first = train(_tiny_maker(), settings).losses
    assert train(_tiny_maker(), settings).losses == first
    assert train(_tiny_maker(), replace(settings, workers=0)).losses != first  # another stream


def test_checkpoint_round_trip_and_fine_tuning(tmp_path: Path) -> None:
    from castsight.learn.train import checkpoint_bytes, load_checkpoint, save_checkpoint

    net = _tiny_net()
    save_checkpoint(tmp_path / "w.pt", net, {"steps": 3, "torch": torch.__version__})
    back, summary = load_checkpoint(tmp_path / "w.pt")
    assert summary == {"steps": 3, "torch": str(torch.__version__)}
    x = torch.from_numpy(np.random.default_rng(1).normal(size=(1, 2, 32, 32)).astype(np.float32))
    with torch.no_grad():
        assert torch.equal(net.eval()(x), back(x))
    assert checkpoint_bytes(net, {}) == checkpoint_bytes(back, {})
    tuned = train(_tiny_maker(), replace(TINY_TRAIN, widths=(8, 8, 8, 8)), init=back).net
    assert tuned.widths == back.widths  # the initial network's architecture wins
    assert not torch.equal(tuned.state_dict()["head.weight"], back.state_dict()["head.weight"])
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(Exception):  # noqa: B017 (torch's own unpickling error)
        load_checkpoint(tmp_path / "bad.pt")


def test_a_model_with_weights_names_them_and_hashes_them(tmp_path: Path) -> None:
    from castsight.learn.network import initial_network
    from castsight.learn.train import checkpoint_bytes

    net = _tiny_net()
    settings = LearnedSettings(threshold=0.6, multiple=net.multiple)
    part = LearnedPart(export_onnx(net), settings, {}, None, checkpoint_bytes(net, {}))
    model = save_artifact(tmp_path / "m", reference=None, learned=part)
    assert model.weights_path == tmp_path / "m" / "learned" / "weights.pt"
    again = initial_network(tmp_path / "m")
    assert again is not None and again.widths == net.widths
    bare = save_artifact(tmp_path / "bare", reference=None, learned=replace(part, weights=None))
    assert bare.weights_path is None and bare.content_sha256 != model.content_sha256
    with pytest.raises(InputError, match="no learned weights"):
        initial_network(tmp_path / "bare")


def test_design_features_change_the_image_but_stay_sound() -> None:
    rng = np.random.default_rng(0)
    crops = cut_crops(prepare(good_image(0, (96, 96))), TINY, rng)
    plain = replace(TINY, defect_patch_fraction=0.0, augment=False)
    changed = 0
    for seed in range(8):  # the first sample of each: the same crop, with and without
        x1, y1 = SampleMaker(crops, replace(plain, design_negatives=1.0), seed=seed).sample()
        x0, y0 = SampleMaker(crops, plain, seed=seed).sample()
        assert float(y1.sum()) == 0.0 == float(y0.sum())  # a designed feature is not a defect
        changed += int(float(np.abs(x1 - x0).max()) > 0.5)
    assert changed >= 3
