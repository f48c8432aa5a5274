"""The one registry of detector modes: every name ``--detector`` takes, and how each is
built from a model artifact.

=============  ==============================================================
``auto``       reference where taught (guided when the model has its network),
               a view of another name matched by registration, else learned,
               else local; no model: local
``local``      no training (the model, if given, is not used)
``reference``  per-view statistics taught from good parts; other views: local
``guided``     reference plus the guided network; other views: local
``learned``    the image-only network (no model: the shipped one)
``cascade``    local at :data:`CASCADE_FIRST_SIGMAS`, confirmed by the learned network
=============  ==============================================================

Importing this module is light (the CLI lists the names in its help); detectors
load only when built.

>>> list(DETECTORS)
['auto', 'local', 'reference', 'guided', 'learned', 'cascade']
>>> DETECTORS["reference"].model
'required'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from castsight.errors import CastsightError, InputError

if TYPE_CHECKING:
    from castsight.accept.plan import InspectionPlan
    from castsight.detect.base import Detector
    from castsight.detect.guided import GuidedDetector
    from castsight.detect.reference import ReferenceDetector, ReferenceView
    from castsight.model.artifact import LearnedPart, ModelArtifact
    from castsight.pipeline import DetectorFor

CASCADE_FIRST_SIGMAS = 5.0
"""The cascade's ``local`` first stage is more sensitive than ``local`` alone (7 sigma):
the network confirms its candidates."""

ModelUse = Literal["none", "optional", "required", "shipped"]
"""What a mode needs of ``--model``: ``none`` (never used), ``optional`` (local without),
``required``, ``shipped`` (the shipped model when none is given)."""


@dataclass(frozen=True)
class DetectorMode:
    """One ``--detector`` mode: its name, a line of help, what it needs of the model, and
    how it builds the detector of each view from a model artifact."""

    name: str
    summary: str
    model: ModelUse
    build: Callable[[ModelArtifact], DetectorFor]


@dataclass(frozen=True)
class ModelDetectors:
    """What an :class:`~castsight.pipeline.Inspector` takes from a model artifact."""

    detector_for: DetectorFor
    """The detector of a view, by view name."""
    model_info: dict[str, str]
    """Path, content sha256 and part type, for each record."""
    expected_views: tuple[str, ...]
    """The views every part must show (:func:`taught_views`)."""


def _local() -> Detector:
    from castsight.detect.local import LocalDetector

    return LocalDetector()


def _reference_for(
    refs: dict[str, ReferenceView], network: LearnedPart | None, fallback: Detector
) -> DetectorFor:
    """The reference detector (guided when ``network`` is given) for the views ``refs``
    knows, a view of another name matched by registration
    (:class:`~castsight.detect.matcher.ViewMatcher`), else ``fallback``."""
    from castsight.detect.guided import GuidedDetector
    from castsight.detect.learned import LearnedDetector
    from castsight.detect.matcher import ViewMatcher
    from castsight.detect.reference import ReferenceDetector

    if not refs:
        return lambda _view: fallback
    reference: ReferenceDetector | GuidedDetector = ReferenceDetector(refs)
    if network is not None:
        reference = GuidedDetector(
            ReferenceDetector(refs), LearnedDetector(network.onnx, network.settings)
        )
    matcher = ViewMatcher(reference, fallback)

    def detector_for(view: str) -> Detector:
        return reference if view in refs else matcher

    return detector_for


def _network(artifact: ModelArtifact, *, cascade: bool) -> Detector:
    """The model's image-only network (or the cascade behind ``local``); refused if none."""
    part = artifact.learned()
    if part is None:
        raise CastsightError(artifact.path, "has no learned detector; teach it with --learned")
    return _network_of(part, cascade=cascade)


def _network_of(part: LearnedPart, *, cascade: bool) -> Detector:
    from castsight.detect.learned import CascadeDetector, LearnedDetector
    from castsight.detect.local import LocalDetector, LocalSettings

    learned = LearnedDetector(part.onnx, part.settings)
    if not cascade:
        return learned
    first = LocalDetector(LocalSettings(threshold_sigmas=CASCADE_FIRST_SIGMAS))
    return CascadeDetector(first, learned)


def _build_auto(artifact: ModelArtifact) -> DetectorFor:
    refs = artifact.reference()
    network = artifact.guided() if refs else None
    part = artifact.learned()
    fallback = _network_of(part, cascade=False) if part is not None else _local()
    return _reference_for(refs, network, fallback)


def _build_local(artifact: ModelArtifact) -> DetectorFor:
    del artifact
    local = _local()
    return lambda _view: local


def _build_reference(artifact: ModelArtifact) -> DetectorFor:
    return _reference_for(artifact.reference(), None, _local())


def _build_guided(artifact: ModelArtifact) -> DetectorFor:
    refs = artifact.reference()
    network = artifact.guided() if refs else None
    if network is None:
        raise CastsightError(artifact.path, "has no guided detector; teach it with --learned "
                                            "on aligned views")  # fmt: skip
    return _reference_for(refs, network, _local())


def _build_learned(artifact: ModelArtifact) -> DetectorFor:
    learned = _network(artifact, cascade=False)
    return lambda _view: learned


def _build_cascade(artifact: ModelArtifact) -> DetectorFor:
    cascade = _network(artifact, cascade=True)
    return lambda _view: cascade


DETECTORS: dict[str, DetectorMode] = {
    mode.name: mode
    for mode in (
        DetectorMode("auto", "reference > guided > learned > local", "optional", _build_auto),
        DetectorMode("local", "no training", "none", _build_local),
        DetectorMode("reference", "views taught from good parts", "required", _build_reference),
        DetectorMode("guided", "reference + its network", "required", _build_guided),
        DetectorMode("learned", "image-only network", "shipped", _build_learned),
        DetectorMode("cascade", "local confirmed by the network", "shipped", _build_cascade),
    )
}
"""Every detector mode, by name, in the order the help lists them."""


def detector_help() -> str:
    """The ``--detector`` help line, from :data:`DETECTORS`.

    >>> detector_help().startswith("auto (reference > guided > learned > local), local")
    True
    """
    return ", ".join(f"{m.name} ({m.summary})" for m in DETECTORS.values()) + "."


def check_detector(name: str) -> DetectorMode:
    """The mode called ``name``; :class:`~castsight.errors.InputError` naming the known ones.

    >>> check_detector("guided").name
    'guided'
    """
    try:
        return DETECTORS[name]
    except KeyError:
        raise InputError(
            None, f"--detector {name!r}: expected one of {', '.join(DETECTORS)}"
        ) from None


def taught_views(views: tuple[str, ...]) -> list[str]:
    """The model's views a part must show: those taught by name. Views found by
    registration among loose images (``pose01``, ...) have no name a part carries.

    >>> taught_views(("V01", "V02")), taught_views(("pose01", "pose02"))
    (['V01', 'V02'], [])
    """
    return [v for v in views if not re.fullmatch(r"pose\d+", v)]


def model_detectors(model: Path, plan: InspectionPlan, mode: str = "auto") -> ModelDetectors:
    """The detectors of mode ``mode`` built from the model folder ``model``.

    A model taught for another part type than ``plan``'s is refused (a ``generic``
    plan or model goes with any).

    >>> from castsight.accept.plan import load_plan
    >>> from castsight.model import default_model
    >>> shipped = default_model()
    >>> found = model_detectors(shipped, load_plan("generic"), "learned") if shipped else None
    >>> shipped is None or found.detector_for("V01").name == "learned"
    True
    """
    from castsight.model.artifact import load_artifact

    chosen = check_detector(mode)
    artifact = load_artifact(model)
    taught = artifact.part_type
    if taught not in (None, "generic", plan.part_type) and plan.part_type != "generic":
        raise CastsightError(
            model, f"was taught for part type {taught!r}, the plan inspects {plan.part_type!r}"
        )
    return ModelDetectors(
        detector_for=chosen.build(artifact),
        model_info={
            "path": str(model),
            "sha256": artifact.content_sha256,
            "part_type": taught or "",
        },
        expected_views=tuple(taught_views(artifact.views)),
    )


__all__ = [
    "CASCADE_FIRST_SIGMAS",
    "DETECTORS",
    "DetectorMode",
    "ModelDetectors",
    "check_detector",
    "detector_help",
    "model_detectors",
]
