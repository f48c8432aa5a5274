"""What a model's views mean to inspection: the views a part must show
(:func:`taught_views`) and the detector of an image whose view name the model was not
taught (:class:`ViewMatcher`). Which detector judges which view is decided by the
registry of detector modes, :mod:`castsight.app.detectors`."""

from __future__ import annotations

import re

from castsight.detect.base import Detector, Indication, Judged
from castsight.detect.guided import GuidedDetector
from castsight.detect.reference import ReferenceDetector
from castsight.preprocess.prepare import PreparedImage


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
            return self.fallback.detect_judged(image)
        return self.reference.detect_judged(image, view, registration)


__all__ = ["ViewMatcher", "taught_views"]
