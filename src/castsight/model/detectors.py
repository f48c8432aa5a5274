"""Detectors for an inspection from a model folder: which detector judges which view.

>>> from castsight.accept.plan import load_plan
>>> from castsight.model import default_model
>>> shipped = default_model()
>>> kwargs = model_detectors(shipped, load_plan("generic"), "learned") if shipped else None
>>> shipped is None or kwargs["detector_for"]("V01").name == "learned"
True
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from castsight.accept.plan import InspectionPlan
from castsight.detect.base import Detector, Indication, Judged, detect_judged
from castsight.detect.guided import GuidedDetector
from castsight.detect.reference import ReferenceDetector
from castsight.errors import CastsightError
from castsight.model.artifact import load_artifact
from castsight.preprocess.prepare import PreparedImage

DETECTOR_MODES = ("auto", "local", "reference", "learned", "cascade")
CASCADE_FIRST_SIGMAS = 5.0
"""The cascade's ``local`` first stage is more sensitive than ``local`` alone (7 sigma):
the network confirms its candidates."""


def model_detectors(model: Path, plan: InspectionPlan, mode: str = "auto") -> dict[str, Any]:
    """``detector_for`` and ``model_info`` for an Inspector from a model artifact.

    ``auto``: views the model has a reference for use the ``reference``
    detector (the ``guided`` one when the model has its network); a view of
    another name is matched to a taught view by registration
    (:class:`ViewMatcher`: loose images, renamed files) and otherwise uses
    the ``learned`` detector when the model has one, else ``local`` (each
    view's record and indication names its detector). ``cascade`` runs
    ``local`` at :data:`CASCADE_FIRST_SIGMAS` and keeps the candidates the
    learned network confirms. A model taught for another part type is refused.
    ``expected_views`` are the views every part must show (:func:`taught_views`).
    """
    from castsight.detect import LocalDetector, LocalSettings
    from castsight.detect.learned import CascadeDetector, LearnedDetector

    if mode not in DETECTOR_MODES:
        raise CastsightError(None, f"detector {mode!r}: expected one of {DETECTOR_MODES}")
    artifact = load_artifact(model)
    taught = artifact.part_type
    if taught not in (None, "generic", plan.part_type) and plan.part_type != "generic":
        raise CastsightError(
            model, f"was taught for part type {taught!r}, the plan inspects {plan.part_type!r}"
        )
    refs = artifact.reference() if mode in ("auto", "reference") else {}
    part = artifact.learned() if mode in ("auto", "learned", "cascade") else None
    guided = artifact.guided() if mode == "auto" and refs else None
    if mode in ("learned", "cascade") and part is None:
        raise CastsightError(model, "has no learned detector; teach it with --learned")
    local = LocalDetector()
    reference: Any = ReferenceDetector(refs) if refs else None
    if reference is not None and guided is not None:
        reference = GuidedDetector(reference, LearnedDetector(guided.onnx, guided.settings))
    learned = LearnedDetector(part.onnx, part.settings) if part is not None else None
    fallback: Any = local
    if learned is not None:
        first = LocalDetector(LocalSettings(threshold_sigmas=CASCADE_FIRST_SIGMAS))
        fallback = CascadeDetector(first, learned) if mode == "cascade" else learned

    matcher = ViewMatcher(reference, fallback) if reference is not None else None

    def detector_for(view: str) -> Any:
        if reference is not None and view in refs:
            return reference
        return matcher if matcher is not None else fallback

    info = {"path": str(model), "sha256": artifact.content_sha256, "part_type": taught or ""}
    return {
        "detector_for": detector_for,
        "model_info": info,
        "expected_views": taught_views(artifact.views),
    }


def taught_views(views: tuple[str, ...]) -> list[str]:
    """The model's views a part must show: those taught by name. Views found by
    registration among loose images (``pose01``, ...) have no name a part carries.

    >>> taught_views(("V01", "V02")), taught_views(("pose01", "pose02"))
    (['V01', 'V02'], [])
    """
    return [v for v in views if not re.fullmatch(r"pose\d+", v)]


class ViewMatcher:
    """The ``reference`` detector for an image whose view name it was not taught, when the
    image registers to one of its views; else the fallback detector."""

    def __init__(self, reference: ReferenceDetector | GuidedDetector, fallback: Detector) -> None:
        self.reference, self.fallback = reference, fallback
        self.name = f"{reference.name}|{fallback.name}"

    def detect(self, image: PreparedImage) -> list[Indication]:
        """Indications of whichever detector judges ``image``."""
        return self.detect_judged(image)[0]

    def detect_judged(self, image: PreparedImage) -> Judged:
        """:meth:`detect` and the share of the part judged (see ``detect_judged``)."""
        view, _, registration = self.reference.match_registered(image)
        if view is None:
            return detect_judged(self.fallback, image)
        return self.reference.detect_judged(image, view, registration)


__all__ = [
    "CASCADE_FIRST_SIGMAS",
    "DETECTOR_MODES",
    "ViewMatcher",
    "model_detectors",
    "taught_views",
]
