"""Detectors for an inspection from a model folder: which detector judges which view.

>>> from castsight.accept.plan import load_plan
>>> from castsight.model import default_model
>>> shipped = default_model()
>>> kwargs = model_detectors(shipped, load_plan("generic"), "learned") if shipped else None
>>> shipped is None or kwargs["detector_for"]("V01").name == "learned"
True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from castsight.accept.plan import InspectionPlan
from castsight.errors import CastsightError
from castsight.model.artifact import load_artifact

DETECTOR_MODES = ("auto", "local", "reference", "learned", "cascade")
CASCADE_FIRST_SIGMAS = 5.0
"""The cascade's ``local`` first stage is more sensitive than ``local`` alone (7 sigma):
the network confirms its candidates."""


def model_detectors(model: Path, plan: InspectionPlan, mode: str = "auto") -> dict[str, Any]:
    """``detector_for`` and ``model_info`` for an Inspector from a model artifact.

    ``auto``: views the model has a reference for use the ``reference``
    detector; the others use the ``learned`` detector when the model has one,
    else ``local`` (each view's record names its detector). ``cascade`` runs
    ``local`` at :data:`CASCADE_FIRST_SIGMAS` and keeps the candidates the
    learned network confirms. A model
    taught for another part type is refused.
    """
    from castsight.detect import LocalDetector, LocalSettings
    from castsight.detect.learned import CascadeDetector, LearnedDetector
    from castsight.detect.reference import ReferenceDetector

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
    if mode in ("learned", "cascade") and part is None:
        raise CastsightError(model, "has no learned detector; teach it with --learned")
    local = LocalDetector()
    reference = ReferenceDetector(refs) if refs else None
    learned = LearnedDetector(part.onnx, part.settings) if part is not None else None
    fallback: Any = local
    if learned is not None:
        first = LocalDetector(LocalSettings(threshold_sigmas=CASCADE_FIRST_SIGMAS))
        fallback = CascadeDetector(first, learned) if mode == "cascade" else learned

    def detector_for(view: str) -> Any:
        return reference if reference is not None and view in refs else fallback

    info = {"path": str(model), "sha256": artifact.content_sha256, "part_type": taught or ""}
    return {"detector_for": detector_for, "model_info": info}


__all__ = ["CASCADE_FIRST_SIGMAS", "DETECTOR_MODES", "model_detectors"]
