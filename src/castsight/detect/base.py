"""What every detector returns, and the one interface they share.

A detector takes a :class:`~castsight.preprocess.prepare.PreparedImage` and
returns :class:`Indication` objects: where something deviates from sound
metal, which way (less material: pores, shrinkage, cracks, light inclusions;
more material: dense inclusions), how much, and how surely.

``significance`` is in calibrated noise sigmas: on defect-free images of the
same kind its distribution is that of the noise, so a threshold means the
same thing on every image. ``score`` maps it to 0..1 for COCO results and
precision-recall curves.

>>> import numpy as np
>>> ind = Indication(
...     bbox=(10, 20, 3, 2), mask=np.ones((2, 3), bool), polarity=1,
...     depth=0.05, significance=9.0, detector="local")
>>> ind.area_px, ind.centroid, round(ind.score, 3)
(6, (11.0, 20.5), 0.881)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from castsight.preprocess.prepare import PreparedImage

SCORE_MIDPOINT = 6.0
"""Significance (sigmas) that maps to score 0.5."""
SCORE_SLOPE = 1.5
"""Sigmas per e-fold of the score's odds."""


def significance_to_score(significance: float) -> float:
    """Map calibrated significance (noise sigmas) to a 0..1 score (logistic)."""
    return 1.0 / (1.0 + math.exp(-(significance - SCORE_MIDPOINT) / SCORE_SLOPE))


@dataclass(frozen=True, eq=False)
class Profile:
    """The unsmoothed deviation around an indication, to size it without the blur
    (:mod:`castsight.measure.sizing`)."""

    deviation: NDArray[np.float32] = field(repr=False)
    """Deviation (ln units), signed so the indication is positive, over the indication's
    box grown by ``margin`` px on each side (clipped at the image's edge)."""
    origin: tuple[int, int]
    """x, y of ``deviation``'s first pixel in the image."""
    smooth_sigma_px: float
    """The Gaussian (5 x 5 kernel) the detector smoothed with before cutting the footprint."""
    fraction: float
    """The share of the peak deviation at which the footprint was cut."""


@dataclass(frozen=True, eq=False)
class Indication:
    """One candidate defect in one view, in image pixels."""

    bbox: tuple[int, int, int, int]
    """x, y, width, height (COCO order)."""
    mask: NDArray[np.bool_] = field(repr=False)
    """Footprint, ``height x width``, aligned with ``bbox``."""
    polarity: int
    """+1 less material than its surroundings (brighter), -1 more (darker)."""
    depth: float
    """Peak attenuation change against the estimated background (ln units, > 0)."""
    significance: float
    """Peak calibrated significance, in noise sigmas."""
    detector: str
    extras: dict[str, float] = field(default_factory=dict)
    """Detector-specific evidence (e.g. enclosure, scale), for the record."""
    profile: Profile | None = field(default=None, repr=False)
    """The deviation around it, when the detector can give it (sizing without the blur)."""

    @property
    def score(self) -> float:
        """0..1 confidence from the significance."""
        return significance_to_score(self.significance)

    @property
    def area_px(self) -> int:
        """Pixels in the footprint."""
        return int(self.mask.sum())

    @property
    def centroid(self) -> tuple[float, float]:
        """x, y of the footprint's centre of mass (image pixels)."""
        ys, xs = np.nonzero(self.mask)
        if xs.size == 0:
            x, y, w, h = self.bbox
            return x + (w - 1) / 2.0, y + (h - 1) / 2.0
        return float(self.bbox[0] + xs.mean()), float(self.bbox[1] + ys.mean())


class Detector(Protocol):
    """Prepared image in, indications out, and how much of the part was judged.

    A detector that judges only part of the image (``reference``: the pixels
    its good parts covered, away from the frame's edge) says so in
    :meth:`detect_judged`; one that judges the whole part returns
    :func:`judged_whole`. What was not judged was not inspected: the plan's
    quality gate sets how much may be left.
    """

    name: str

    def detect(self, image: PreparedImage) -> list[Indication]:
        """Find indications in one prepared view."""
        ...

    def detect_judged(self, image: PreparedImage) -> Judged:
        """:meth:`detect`, the share of the part judged and the share deviating."""
        ...


WEAK = "weak"
"""Key of :attr:`Indication.extras`: 1.0 on a candidate below the detector's threshold
that other views confirmed (:attr:`Judged.weak`)."""
EDGE_EXPLAINED = "edge_explained"
"""``Indication.extras`` key: 1.0 when the indication's peak falls below the threshold
once the good part's edges may lie a little elsewhere (the reference detector's
``edge_tolerance_px``): what the pose modes do not follow of a part posed beyond the
taught range, or a defect on an edge; 0.0 otherwise. Such an indication counts only
where other views confirm it (``multiview.edge_min_views`` of the plan)."""
BELOW_CALL = "below_call"
"""``Indication.extras`` key: 1.0 on a candidate the detector scores below its call
(score under 0.5), reported so precision-recall curves and a person see it, and counted
towards no rule: it never makes a part NG or REVIEW."""
FRAME_LINE = "frame_line"
"""``Indication.extras`` key: 1.0 on an indication that runs along the frame's edge
(:func:`along_frame`): structure the fixturing error moves into or out of the field,
counted, like :data:`EDGE_EXPLAINED`, only where other views confirm it."""
FRAME_REACH_PX = 4
"""An indication within this many pixels of the frame's edge touches it."""
FRAME_LINE_RATIO = 3.0
"""... and runs along it when it is this many times longer along the edge than across."""


def along_frame(bbox: tuple[int, int, int, int], shape: tuple[int, int]) -> bool:
    """Does an indication's box touch the frame's edge and run along it?

    A part posed a fraction of a degree otherwise moves structure into or out of
    the field: at the frame's edge it leaves a thin line along the edge, which no
    good part taught puts there (on the standard suite's second seed, lines 3-7 px
    wide and 44-218 px long along the top row made 5 good parts NG;
    docs/notes/2026-12-03-views-off-the-taught-range.md). A pore or an inclusion
    there is compact, so it is not such a line.

    >>> along_frame((100, 0, 120, 5), (768, 768)), along_frame((100, 0, 8, 6), (768, 768))
    (True, False)
    >>> along_frame((0, 300, 3, 14), (768, 768)), along_frame((100, 300, 120, 5), (768, 768))
    (True, False)
    """
    x, y, w, h = bbox
    rows, cols = shape
    r = FRAME_REACH_PX
    across_rows = (y < r or y + h > rows - r) and w >= FRAME_LINE_RATIO * h
    across_cols = (x < r or x + w > cols - r) and h >= FRAME_LINE_RATIO * w
    return across_rows or across_cols


DETECTABLE_BLOCK = 8
"""Side (px) of the blocks of :attr:`Judged.detectable`."""


def block_max(a: NDArray[np.float32], block: int = DETECTABLE_BLOCK) -> NDArray[np.float32]:
    """Largest value of each ``block`` x ``block`` block (edge blocks padded with ``inf``).

    >>> block_max(np.arange(16, dtype=np.float32).reshape(4, 4), 2).tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    """
    rows, cols = -(-a.shape[0] // block), -(-a.shape[1] // block)
    grid = np.asarray(a, np.float32)
    if grid.shape != (rows * block, cols * block):
        grid = np.asarray(cv2.copyMakeBorder(grid, 0, rows * block - a.shape[0], 0,
                                             cols * block - a.shape[1], cv2.BORDER_CONSTANT,
                                             value=float("inf")), np.float32)  # fmt: skip
    # each pixel's block x block maximum below and to its right, read at the blocks' corners
    spread = cv2.dilate(grid, np.ones((block, block), np.uint8), anchor=(0, 0),
                        borderType=cv2.BORDER_REPLICATE)  # fmt: skip
    return np.ascontiguousarray(spread[::block, ::block], np.float32)


class Judged(NamedTuple):
    """What a detector found in a view, and how much of the view it could judge."""

    indications: list[Indication]
    share: float
    """Share (0..1) of the part's pixels the detector judged."""
    deviating: float | None = None
    """Share (0..1) of the judged pixels that deviate from the learned good parts past
    ``DEVIATING_SIGMAS`` (detectors with a reference; None for the others). Defects
    cover a small share; a view posed outside the taught range, or another part,
    deviates along every edge."""
    detectable: NDArray[np.float32] | None = None
    """The smallest deviation depth (ln units) the detector would have called, per block
    of :data:`DETECTABLE_BLOCK` x :data:`DETECTABLE_BLOCK` pixels (the block's largest;
    ``inf`` where it judged nothing), so other views can tell whether this one could
    have seen a defect they found (:mod:`castsight.measure.multiview`); None: unknown."""
    weak: tuple[Indication, ...] = ()
    """Candidates past the detector's confirmation threshold but not its own (marked
    :data:`WEAK`): too faint to call in one view, they count where another view sees the
    same point of the part (the pipeline's multi-view confirmation)."""


def judged_whole(found: list[Indication]) -> Judged:
    """:class:`Judged` of a detector that judges the whole part and has no reference.

    >>> judged_whole([])
    Judged(indications=[], share=1.0, deviating=None, detectable=None, weak=())
    """
    return Judged(found, 1.0)
