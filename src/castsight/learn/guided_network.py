"""Teach the ``guided`` detector's network from the good images a reference was learned from.

As :mod:`castsight.learn.network` does for the ``learned`` detector: the good
images are split (training, calibration, validation; seeded), training crops
carry each image's leave-one-out comparison with the reference
(:mod:`castsight.learn.comparisons`), defects are superimposed, the network is
trained (by default fine-tuned from the shipped starting weights,
``castsight/data/guided-init.pt``), exported to ONNX and checked, its
threshold is calibrated on the calibration images' leave-one-out
comparisons (regions of the network only; the reference's own test keeps
its threshold), and the validation report superimposes the simulator's
defects on the raw validation images and runs the whole guided detector
(reference plus network) on their leave-one-out comparisons.

Every image here was learned into the reference; leave-one-out makes each
look like a new good part (see :func:`castsight.learn.comparisons.leave_one_out`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from castsight.detect.base import Indication
from castsight.detect.guided import GUIDED_NORMALISATION, GuidedDetector, guided_input
from castsight.detect.learned import LearnedDetector, LearnedSettings
from castsight.detect.reference import ReferenceDetector, ReferenceScore, ReferenceView
from castsight.errors import InputError
from castsight.learn.calibrate import choose_threshold, region_peaks, validate
from castsight.learn.comparisons import GuidedCrop, GuidedSampleMaker, guided_crops_of, loo_score
from castsight.learn.export import export_onnx, verify_onnx
from castsight.learn.net import DefectNet
from castsight.learn.network import (
    Calibrations,
    Progress,
    TeachSettings,
    _calibration_for,
    _noop,
    load_weights,
    read_good,
    split,
)
from castsight.learn.synth import SynthSettings
from castsight.learn.train import checkpoint_bytes, train
from castsight.model.artifact import LearnedPart
from castsight.preprocess.prepare import PreparedImage, prepare

GUIDED_INIT = Path(__file__).resolve().parent.parent / "data" / "guided-init.pt"
"""Starting weights shipped with castsight (``tools/train_guided.py`` on the standard
bench's good parts, trained on a GPU)."""


def initial_guided_network(source: str | Path | None) -> DefectNet | None:
    """Weights to fine-tune: ``"default"`` the shipped ones (None when this installation
    has none), ``"none"`` or None random ones, else a model folder's guided weights.

    >>> initial_guided_network("none") is None
    True
    """
    from castsight.model import learned_weights

    if source is None or str(source) == "none":
        return None
    if str(source) == "default":
        weights = GUIDED_INIT
        if not weights.is_file():
            return None
    else:
        weights = learned_weights(source, "guided")
    return load_weights(weights)


class _Comparer:
    """Compares good images with the reference, leave-one-out."""

    def __init__(self, refs: Mapping[str, ReferenceView]) -> None:
        self.refs = dict(refs)
        self.reference = ReferenceDetector(self.refs)

    def score(self, image: PreparedImage) -> ReferenceScore | None:
        """The image against the reference of its view (by name, else by registration)."""
        view = image.radiograph.view
        registration = None
        if view not in self.refs:
            view, _, registration = self.reference.match_registered(image)
            if view is None:
                return None
        return self.reference.zscore(image, view, registration)

    def loo(self, score: ReferenceScore, clean: ReferenceScore | None = None) -> ReferenceScore:
        """``score`` as against the reference without this image."""
        n = self.refs[score.view].n_images
        return loo_score(score, n, self.reference.floor,
                         None if clean is None else clean.deviation)  # fmt: skip


def training_crops(
    images: Sequence[tuple[str, Path]],
    refs: Mapping[str, ReferenceView],
    calibration: Calibrations,
    synth: SynthSettings,
    rng: np.random.Generator,
    *,
    notes: list[str],
    progress: Progress | None = None,
) -> list[GuidedCrop]:
    """Crops of the good ``images`` with their leave-one-out comparisons (read one at a
    time); images that cannot be read or match no taught view are noted."""
    return _crops(_Comparer(refs), images, calibration, synth, rng, notes, progress)


def _crops(
    compare: _Comparer,
    images: Sequence[tuple[str, Path]],
    calibration: Calibrations,
    synth: SynthSettings,
    rng: np.random.Generator,
    notes: list[str],
    progress: Progress | None,
) -> list[GuidedCrop]:
    crops: list[GuidedCrop] = []
    for radiograph, path in read_good(images, notes, progress, "comparing good images"):
        image = prepare(radiograph, _calibration_for(calibration, path))
        score = compare.score(image)
        if score is None:
            notes.append(f"{path}: matches no taught view; not trained on")
            continue
        blur = float(image.quality.noise.blur_sigma_px)
        n = compare.refs[score.view].n_images
        crops += guided_crops_of(image.attenuation, score, n, compare.reference.floor, blur,
                                 synth, rng)  # fmt: skip
    return crops


def teach_guided(
    images: Sequence[tuple[str, Path]],
    refs: Mapping[str, ReferenceView],
    calibration: Calibrations,
    settings: TeachSettings | None = None,
    *,
    progress: Progress | None = None,
    init: DefectNet | None = None,
) -> LearnedPart:
    """Learn the guided network from the good ``images`` (label, path) the reference
    ``refs`` was learned from; see the module docstring."""
    cfg = settings or TeachSettings()
    tell = progress or _noop
    if not images or not refs:
        raise InputError(None, "the guided detector needs good images and their reference")
    t0 = time.perf_counter()
    compare = _Comparer(refs)
    train_set, calib_set, valid_set = split(images, cfg)
    notes: list[str] = []
    rng = np.random.default_rng(cfg.seed)
    crops = _crops(compare, train_set, calibration, cfg.synth, rng, notes, tell)
    if not crops:
        raise InputError(None, "no good image compared with the reference: nothing to train on")
    t_prep = time.perf_counter() - t0
    total = cfg.train.steps
    result = train(
        GuidedSampleMaker(crops, cfg.synth, seed=cfg.seed + 1),
        cfg.train,
        progress=lambda step, loss: tell("training", step, total, f"loss {loss:.3f}"),
        init=init,
    )
    t1 = time.perf_counter()
    net = result.net.eval().cpu()
    onnx = export_onnx(net)
    diff = verify_onnx(net, onnx)
    base_settings = LearnedSettings(multiple=net.multiple, normalisation=GUIDED_NORMALISATION)
    network = LearnedDetector(onnx, base_settings)
    peaks = []
    for radiograph, path in read_good(calib_set, notes, tell, "calibrating threshold"):
        image = prepare(radiograph, _calibration_for(calibration, path))
        found = compare.score(image)
        if found is not None:
            s = compare.loo(found)
            prob = network.probability(guided_input(image.attenuation, s.deviation, s.scale,
                                                    s.valid))  # fmt: skip
            peaks.append(region_peaks(network, prob, s.deviation, s.valid))
    choice = choose_threshold(peaks, cfg.target_false_per_image)
    network = network.with_settings(replace(base_settings, threshold=choice.threshold))
    guided = GuidedDetector(compare.reference, network)

    clean_scores: dict[int, ReferenceScore | None] = {}  # validate judges clean, then superimposed

    def judge(image: PreparedImage, clean: PreparedImage | None) -> list[Indication]:
        good = clean if clean is not None else image
        if id(good) not in clean_scores:
            clean_scores.clear()
            clean_scores[id(good)] = compare.score(good)
        base = clean_scores[id(good)]
        if base is None:
            return []
        if clean is None:
            return guided.judge(image, compare.loo(base))
        score = compare.reference.zscore(image, base.view, base.registration)
        return guided.judge(image, compare.loo(score, clean=base))

    valid = list(read_good(valid_set, notes, tell, "reading validation images"))
    figures, files = validate(
        network,
        [radiograph for radiograph, _ in valid],
        [_calibration_for(calibration, path) for _, path in valid],
        seed=cfg.seed + 2,
        defects_per_image=cfg.validation_defects,
        progress=lambda k: tell("validating", k, len(valid), ""),
        judge=judge,
        label="guided detector",
    )
    summary: dict[str, Any] = {
        "normalisation": GUIDED_NORMALISATION,
        "images": {"train": len(train_set), "calibration": len(calib_set),
                   "validation": len(valid_set), "n_validation_unseen": len(valid_set)},
        "crops": len(crops),
        "training": result.summary(cfg.train) | {"fine_tuned": init is not None},
        "synthesis": {k: list(v) if isinstance(v, tuple) else v
                      for k, v in asdict(cfg.synth).items()},
        "onnx_max_abs_logit_diff": diff,
        "calibration": choice.to_dict(),
        "validation": figures,
        "seconds": {"prepare": round(t_prep, 1), "train": round(result.seconds, 1),
                    "finish": round(time.perf_counter() - t1, 1),
                    "total": round(time.perf_counter() - t0, 1)},
        "notes": notes,
    }  # fmt: skip
    summary = json.loads(json.dumps(summary, default=float))
    files["validation.json"] = (json.dumps(summary, indent=2) + "\n").encode()
    return LearnedPart(onnx, network.settings, summary, files, checkpoint_bytes(net, summary))
