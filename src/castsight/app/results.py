"""Typed, frozen results of the use cases (``to_dict`` only at the edges)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from castsight.evaluate.report import Evaluation


@dataclass(frozen=True)
class NetworkSummary:
    """A network taught into a model, as its validation measured it."""

    name: str
    """``learned`` or ``guided``."""
    threshold: float
    recall: float
    """Validation recall of superimposed defects."""
    a90_px: float | None
    """Size found with 90 % probability (px), when measured."""
    false_per_good_image: float


@dataclass(frozen=True)
class TeachResult:
    """What ``teach`` wrote: the model folder and what it holds."""

    model: Path
    size_bytes: int
    images_per_view: dict[str, int] = field(default_factory=dict)
    """Good images per taught view (empty: no reference could be learned)."""
    networks: tuple[NetworkSummary, ...] = ()
    warnings: tuple[str, ...] = ()
    """Images left out, views with few images, why no reference was learned."""

    @property
    def views(self) -> int:
        """Views with a reference."""
        return len(self.images_per_view)


@dataclass(frozen=True)
class EvaluateResult:
    """A scored run: the figures, where the report is, and what the rates miss."""

    evaluation: Evaluation
    report: Path
    """The report's folder (metrics.json, report.html)."""
    incomplete: str | None = None
    """Why the part rates do not cover every part, or None."""


__all__ = ["EvaluateResult", "NetworkSummary", "TeachResult"]
