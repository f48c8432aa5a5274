"""Teach the learned detector from good images: split, synthesise, train, calibrate, validate.

The good images are shuffled (seeded) and split three ways: most for
training, some held out for the threshold calibration, and others held out
for the validation report (never seen by training or calibration). The
result is a :class:`~castsight.model.artifact.LearnedPart` ready for
:func:`~castsight.model.artifact.save_artifact`; nothing is written here, so
an interrupted teach leaves no model behind.

Teaching has two halves that may run on different machines:
:func:`learn_network` (crops, superimposed defects, training: a GPU helps)
and :func:`finish_learned` (ONNX export and check, threshold, validation:
any CPU). :func:`teach_learned` runs both. Training starts from random
weights or fine-tunes given ones (:func:`initial_network`: the shipped
default model's, by default in ``castsight teach --learned``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from castsight.detect.learned import LearnedDetector, LearnedSettings
from castsight.detect.normalise import NORMALISATION
from castsight.errors import CastsightError, InputError
from castsight.io import read_radiograph
from castsight.io.files import short_reason
from castsight.learn.calibrate import choose_threshold, false_peaks, validate
from castsight.learn.export import export_onnx, verify_onnx
from castsight.learn.net import DefectNet
from castsight.learn.synth import Crop, SampleMaker, SynthSettings, cut_crops
from castsight.learn.train import TrainSettings, checkpoint_bytes, load_checkpoint, train
from castsight.model.artifact import LearnedPart
from castsight.preprocess.prepare import Calibration, prepare
from castsight.radiograph import Radiograph

Progress = Callable[[str, int, int, str], None]
"""``progress(stage, done, total, note)``: called as each stage advances."""
Calibrations = Calibration | None | Callable[[Path], Calibration | None]
"""One detector calibration for all images, none, or one looked up per image path
(images from detectors of several sizes)."""


def _calibration_for(calibration: Calibrations, path: Path) -> Calibration | None:
    return calibration(path) if callable(calibration) else calibration


@dataclass(frozen=True)
class TeachSettings:
    """Everything ``teach`` decides about the learned model."""

    synth: SynthSettings = field(default_factory=SynthSettings)
    train: TrainSettings = field(default_factory=TrainSettings)
    holdout: float = 0.2
    """Share of good images held out (half calibration, half validation)."""
    min_holdout: int = 1
    """At least this many images each for calibration and validation, when possible."""
    target_false_per_image: float = 0.01
    validation_defects: int = 12
    """Defects superimposed on each validation image."""
    seed: int = 0


FINE_TUNE_LR = 1e-3
"""Peak learning rate when fine-tuning trained weights (a fifth of the from-scratch one)."""


def initial_network(source: str | Path | None) -> DefectNet | None:
    """Weights to fine-tune: ``"default"`` the shipped default model's (None when this
    installation has none), ``"none"`` or None random ones, else a model folder's.

    >>> initial_network("none") is None
    True
    """
    from castsight.model import default_model, learned_weights

    if source is None or str(source) == "none":
        return None
    if str(source) == "default":
        folder = default_model()
        if folder is None:
            return None
    else:
        folder = Path(source)
    return load_weights(learned_weights(folder))


def load_weights(weights: Path) -> DefectNet:
    """The network of a weights file (:func:`~castsight.learn.train.save_checkpoint`);
    one :class:`InputError` when it cannot be read."""
    try:
        net, _ = load_checkpoint(weights)
    except (OSError, ValueError, RuntimeError, KeyError) as err:
        raise InputError(weights, f"unreadable network weights ({err})") from None
    return net


def split(items: Sequence[Any], settings: TeachSettings) -> tuple[list[Any], list[Any], list[Any]]:
    """(train, calibration, validation), shuffled with the seed.

    With fewer than 3 images all are used for training and calibration, and the
    validation uses them too (its figures then say so via ``n_validation_unseen``).
    """
    order = list(np.random.default_rng(settings.seed).permutation(len(items)))
    shuffled = [items[i] for i in order]
    n = len(shuffled)
    if n < 3:
        return shuffled, shuffled, shuffled
    each = max(settings.min_holdout, round(settings.holdout * n / 2))
    each = min(each, (n - 1) // 2)
    return shuffled[2 * each :], shuffled[:each], shuffled[each : 2 * each]


def _noop(stage: str, done: int, total: int, note: str) -> None:
    del stage, done, total, note


@dataclass(frozen=True)
class Trained:
    """A trained network and what went into it (the first half of teaching)."""

    net: DefectNet
    summary: dict[str, Any]
    """Training figures, the images and crops used, and notes on unusable images."""


def learn_network(
    images: Sequence[tuple[str, Path]],
    calibration: Calibrations,
    settings: TeachSettings | None = None,
    *,
    progress: Progress | None = None,
    checkpoint: Callable[[DefectNet, int], None] | None = None,
    init: DefectNet | None = None,
) -> Trained:
    """Cut crops of the good ``images`` and train the network on superimposed defects.

    ``init``: fine-tune these weights (say the shipped default model's) instead
    of starting from random ones.
    """
    cfg = settings or TeachSettings()
    tell = progress or _noop
    t0 = time.perf_counter()
    rng = np.random.default_rng(cfg.seed)
    crops: list[Crop] = []
    notes: list[str] = []
    for i, (label, path) in enumerate(images):
        try:
            good = prepare(read_radiograph(path), _calibration_for(calibration, path))
            crops += cut_crops(good, cfg.synth, rng)
        except CastsightError as err:
            notes.append(f"{label}: {short_reason(err)}")
        tell("preparing good images", i + 1, len(images), "")
    if not crops:
        raise InputError(None, f"no usable good image of at least {cfg.synth.crop_px} px a side")
    t_prep = time.perf_counter() - t0
    maker = SampleMaker(crops, cfg.synth, seed=cfg.seed + 1)
    total = cfg.train.steps

    def on_step(step: int, loss: float) -> None:
        tell("training", step, total, f"loss {loss:.3f}")

    result = train(maker, cfg.train, progress=on_step, checkpoint=checkpoint, init=init)
    summary: dict[str, Any] = {
        "normalisation": NORMALISATION,
        "images": {"train": len(images)},
        "crops": len(crops),
        "training": result.summary(cfg.train) | {"fine_tuned": init is not None},
        "synthesis": {
            k: list(v) if isinstance(v, tuple) else v for k, v in asdict(cfg.synth).items()
        },
        "seconds": {"prepare": round(t_prep, 1), "train": round(result.seconds, 1)},
        "notes": notes,
    }
    return Trained(result.net, summary)


def read_good(
    images: Sequence[tuple[str, Path]],
    notes: list[str],
    progress: Progress | None = None,
    stage: str = "",
) -> Iterator[tuple[Radiograph, Path]]:
    """The readable radiographs of ``images`` (label, path), one at a time; the others
    noted. ``progress(stage, ...)`` after each."""
    tell = progress or _noop
    for i, (label, path) in enumerate(images):
        try:
            yield read_radiograph(path), path
        except CastsightError as err:
            notes.append(f"{label}: {short_reason(err)}")
        tell(stage, i + 1, len(images), "")


def finish_learned(
    trained: Trained,
    calibration_images: Sequence[tuple[str, Path]],
    validation_images: Sequence[tuple[str, Path]],
    calibration: Calibrations,
    settings: TeachSettings | None = None,
    *,
    progress: Progress | None = None,
    trained_on: Collection[Path] = (),
) -> LearnedPart:
    """Export and check the network, calibrate its threshold, write its validation report.

    The second half of teaching; it may run on another machine than the
    training (a GPU trains, any CPU finishes), from a saved checkpoint.
    ``trained_on``: the training images, so the report can say how many
    validation images the network never saw.
    """
    cfg = settings or TeachSettings()
    tell = progress or _noop
    t0 = time.perf_counter()
    net = trained.net.eval().cpu()
    onnx = export_onnx(net)
    diff = verify_onnx(net, onnx)
    detector = LearnedDetector(onnx, LearnedSettings(multiple=net.multiple))
    summary = json.loads(json.dumps(trained.summary, default=float))  # a copy
    notes: list[str] = summary.setdefault("notes", [])
    calib = list(read_good(calibration_images, notes))
    valid = list(read_good(validation_images, notes))
    peaks = []
    for i, (radiograph, path) in enumerate(calib):
        good = prepare(radiograph, _calibration_for(calibration, path))
        peaks.append(false_peaks(detector, good))
        tell("calibrating threshold", i + 1, len(calib), "")
    choice = choose_threshold(peaks, cfg.target_false_per_image)
    detector = detector.with_settings(
        LearnedSettings(threshold=choice.threshold, multiple=net.multiple)
    )
    figures, files = validate(
        detector,
        [radiograph for radiograph, _ in valid],
        [_calibration_for(calibration, path) for _, path in valid],
        seed=cfg.seed + 2,
        defects_per_image=cfg.validation_defects,
        progress=lambda k: tell("validating", k, len(valid), ""),
    )
    seen = {str(p) for p in trained_on}
    summary["images"] = summary.get("images", {}) | {
        "calibration": len(calibration_images),
        "validation": len(validation_images),
        "n_validation_unseen": len({str(p) for _, p in validation_images} - seen),
    }
    summary["onnx_max_abs_logit_diff"] = diff
    summary["calibration"] = choice.to_dict()
    summary["validation"] = figures
    summary.setdefault("seconds", {})["finish"] = round(time.perf_counter() - t0, 1)
    files["validation.json"] = (json.dumps(summary, indent=2, default=float) + "\n").encode()
    weights = checkpoint_bytes(net, summary)
    return LearnedPart(onnx, detector.settings, summary, files, weights)


def teach_learned(
    images: Sequence[tuple[str, Path]],
    calibration: Calibrations,
    settings: TeachSettings | None = None,
    *,
    progress: Progress | None = None,
    init: DefectNet | None = None,
) -> LearnedPart:
    """Learn the defect network from good images ``(label, path)``; see the module doc.

    ``init``: fine-tune these weights instead of starting from random ones.
    """
    cfg = settings or TeachSettings()
    if not images:
        raise InputError(None, "no good images to learn from")
    t0 = time.perf_counter()
    train_set, calib_set, valid_set = split(images, cfg)
    trained = learn_network(train_set, calibration, cfg, progress=progress, init=init)
    part = finish_learned(
        trained,
        calib_set,
        valid_set,
        calibration,
        cfg,
        progress=progress,
        trained_on=[p for _, p in train_set],
    )
    part.summary["seconds"]["total"] = round(time.perf_counter() - t0, 1)
    return part
