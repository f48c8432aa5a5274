"""Teach the learned detector from good images: split, synthesise, train, calibrate, validate.

The good images are shuffled (seeded) and split three ways: most for
training, some held out for the threshold calibration, and others held out
for the validation report (never seen by training or calibration). The
result is a :class:`~castsight.model.artifact.LearnedPart` ready for
:func:`~castsight.model.artifact.save_artifact`; nothing is written here, so
an interrupted teach leaves no model behind.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
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
from castsight.learn.synth import Crop, SampleMaker, SynthSettings, cut_crops
from castsight.learn.train import TrainSettings, train
from castsight.model.artifact import LearnedPart
from castsight.preprocess.prepare import Calibration, prepare
from castsight.radiograph import Radiograph

Progress = Callable[[str, int, int, str], None]
"""``progress(stage, done, total, note)``: called as each stage advances."""


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


def teach_learned(
    images: Sequence[tuple[str, Path]],
    calibration: Calibration | None,
    settings: TeachSettings | None = None,
    *,
    progress: Progress | None = None,
) -> LearnedPart:
    """Learn the defect network from good images ``(label, path)``; see the module doc."""
    cfg = settings or TeachSettings()
    tell = progress or _noop
    if not images:
        raise InputError(None, "no good images to learn from")
    t0 = time.perf_counter()
    train_set, calib_set, valid_set = split(images, cfg)
    rng = np.random.default_rng(cfg.seed)
    crops: list[Crop] = []
    notes: list[str] = []
    for i, (label, path) in enumerate(train_set):
        try:
            crops += cut_crops(prepare(read_radiograph(path), calibration), cfg.synth, rng)
        except CastsightError as err:
            notes.append(f"{label}: {short_reason(err)}")
        tell("preparing good images", i + 1, len(train_set), "")
    if not crops:
        raise InputError(None, f"no usable good image of at least {cfg.synth.crop_px} px a side")
    t_prep = time.perf_counter() - t0
    maker = SampleMaker(crops, cfg.synth, seed=cfg.seed + 1)
    total = cfg.train.steps

    def on_step(step: int, loss: float) -> None:
        tell("training", step, total, f"loss {loss:.3f}")

    result = train(maker, cfg.train, progress=on_step)
    onnx = export_onnx(result.net)
    diff = verify_onnx(result.net, onnx)
    detector = LearnedDetector(onnx, LearnedSettings(multiple=result.net.multiple))
    radiographs = {"calibration": calib_set, "validation": valid_set}
    loaded: dict[str, list[Radiograph]] = {}
    for stage, group in radiographs.items():
        loaded[stage] = []
        for label, path in group:
            try:
                loaded[stage].append(read_radiograph(path))
            except CastsightError as err:
                notes.append(f"{label}: {short_reason(err)}")
    peaks = []
    for i, rad in enumerate(loaded["calibration"]):
        peaks.append(false_peaks(detector, prepare(rad, calibration)))
        tell("calibrating threshold", i + 1, len(loaded["calibration"]), "")
    choice = choose_threshold(peaks, cfg.target_false_per_image)
    detector = detector.with_settings(
        LearnedSettings(threshold=choice.threshold, multiple=result.net.multiple)
    )
    n_val = len(loaded["validation"])
    figures, files = validate(
        detector,
        loaded["validation"],
        calibration,
        seed=cfg.seed + 2,
        defects_per_image=cfg.validation_defects,
        progress=lambda k: tell("validating", k, n_val, ""),
    )
    unseen = len({p for _, p in valid_set} - {p for _, p in train_set})
    summary: dict[str, Any] = {
        "normalisation": NORMALISATION,
        "images": {
            "train": len(train_set),
            "calibration": len(calib_set),
            "validation": len(valid_set),
            "n_validation_unseen": unseen,
        },
        "crops": len(crops),
        "training": result.summary(cfg.train),
        "synthesis": {
            k: list(v) if isinstance(v, tuple) else v for k, v in asdict(cfg.synth).items()
        },
        "onnx_max_abs_logit_diff": diff,
        "calibration": choice.to_dict(),
        "validation": figures,
        "seconds": {"prepare": round(t_prep, 1), "total": round(time.perf_counter() - t0, 1)},
        "notes": notes,
    }
    files["validation.json"] = (json.dumps(summary, indent=2, default=float) + "\n").encode()
    return LearnedPart(onnx, detector.settings, summary, files)
