"""Validated options of the use cases: checked when made, one :class:`InputError` naming
the option, so a front end fails before any work.

>>> InspectOptions(detector="guided").detector
'guided'
>>> try:
...     InspectOptions(detector="yolo")
... except InputError as err:
...     print(err)
--detector 'yolo': expected one of auto, local, reference, guided, learned, cascade
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from castsight.app.detectors import check_detector
from castsight.errors import InputError

NETWORKS = ("auto", "guided", "learned")
"""What ``--learned`` teaches: ``auto`` (guided when the views are aligned, else learned)."""
MATCHES = ("box", "mask")
POD_MODELS = ("logit", "probit")


@dataclass(frozen=True)
class InspectOptions:
    """How parts are inspected: plan, model, detector mode, calibration, parallel views."""

    plan: str = "generic"
    """A shipped plan's name or a YAML path."""
    model: Path | None = None
    """A model folder from ``teach`` (``learned``/``cascade`` without one: the shipped one)."""
    detector: str = "auto"
    """A mode of :data:`~castsight.app.detectors.DETECTORS`."""
    calibration: Path | None = None
    """Folder with dark.tif/flat.tif."""
    workers: int = 2
    """Views inspected in parallel."""

    def __post_init__(self) -> None:
        check_detector(self.detector)
        if self.workers < 1:
            raise InputError(None, f"--workers {self.workers}: at least 1")


@dataclass(frozen=True)
class TeachOptions:
    """What is taught from good parts and where the model goes (``castsight teach``)."""

    good: tuple[Path, ...]
    """Folders of good parts (one subfolder per part)."""
    out: Path
    """The model folder to write."""
    plan: str = "generic"
    """Plan (name or YAML): its part type is the model's."""
    calibration: Path | None = None
    """Dark/flat folder (None: the first ``GOOD/_calibration``)."""
    learned: bool = False
    """Also teach a network (needs the ``train`` extra)."""
    network: str = "auto"
    """Which network: one of :data:`NETWORKS`."""
    steps: int = 100_000
    minutes: float = 10.0
    """Training time budget of the network."""
    false_rate: float = 0.01
    """Target false indications per good image (threshold calibration)."""
    seed: int = 0
    init: str = "default"
    """Starting weights: ``default`` (the shipped ones), ``none``, or a model folder."""
    workers: int = 1
    """Processes making training samples (0: none)."""
    overwrite: bool = False

    def __post_init__(self) -> None:
        if not self.good:
            raise InputError(None, "--good: at least one folder of good parts")
        if self.network not in NETWORKS:
            raise InputError(None, f"--network {self.network!r}: expected auto, guided or "
                                   "learned")  # fmt: skip
        if self.steps < 1 or self.minutes <= 0 or self.false_rate < 0 or self.workers < 0:
            raise InputError(None, "--steps, --minutes, --false-rate, --workers: out of range")


@dataclass(frozen=True)
class EvaluateOptions:
    """What is scored against what, how, and where the report goes (``castsight evaluate``)."""

    pred: Path
    """predictions.json (COCO results)."""
    truth: Path
    """truth.json (COCO data set)."""
    out: Path
    """Folder for metrics.json and report.html."""
    parts: Path | None = None
    """parts.json of true sentences (None: beside truth.json, if there)."""
    records: Path | None = None
    """records.jsonl of found sentences (None: beside ``pred``, if there)."""
    iou: float = 0.5
    score_threshold: float = 0.5
    match: str = "box"
    pod_model: str = "logit"
    imaged: bool = False
    """Judge parts by ``sentence_imaged`` (defects some view shows)."""
    overwrite: bool = False
    run_folder: bool = True
    """Write ``out`` as one run (:mod:`castsight.report.rundir`); False: into ``out`` as
    it is (the bench, whose inspection files are there)."""

    def __post_init__(self) -> None:
        if self.match not in MATCHES:
            raise InputError(None, f"--match {self.match!r}: use box or mask")
        if self.pod_model not in POD_MODELS:
            raise InputError(None, f"--pod-model {self.pod_model!r}: use logit or probit")
        if not 0.0 < self.iou <= 1.0 or not 0.0 <= self.score_threshold <= 1.0:
            raise InputError(None, "--iou, --score-threshold: out of range")


__all__ = ["EvaluateOptions", "InspectOptions", "TeachOptions"]
