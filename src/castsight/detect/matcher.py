"""The detector of an image whose view name the model was not taught: the ``reference``
detector of the view it registers to (loose images, renamed files), else a fallback."""

from __future__ import annotations

from castsight.detect.base import Detector, Indication, Judged
from castsight.detect.guided import GuidedDetector
from castsight.detect.reference import ReferenceDetector
from castsight.preprocess.prepare import PreparedImage


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
