"""Detectors: a prepared image in, indications out (``local``; ``reference`` for series)."""

from castsight.detect.base import Detector, Indication
from castsight.detect.local import LocalDetector, LocalSettings

__all__ = ["Detector", "Indication", "LocalDetector", "LocalSettings"]
