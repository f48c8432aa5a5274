"""Order statistics of a sample of grey levels from its histogram, exactly as numpy's.

An image of integer grey levels (8 or 16 bits) has at most 65536 distinct values, so
the median or a quantile of any selection of its pixels follows from the counts of
each level: no sort or partition of the pixels. The results are numpy's own
(:func:`numpy.median`, :func:`numpy.quantile` with linear interpolation) on the sample
the counts describe, bit for bit: the order statistics are picked from the cumulative
counts and numpy interpolates between them as it would in the whole sample.

>>> values = np.array([1.0, 2.0, 7.0])
>>> counts = np.array([3, 1, 2])
>>> sample = np.repeat(values, counts)
>>> float(counted_median(values, counts)) == float(np.median(sample))
True
>>> counted_quantile(values, counts, 0.9) == float(np.quantile(sample, 0.9))
True
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray


def level_counts(levels: NDArray[Any], mask: NDArray[np.bool_] | None = None) -> NDArray[np.intp]:
    """How many of the 8 or 16-bit ``levels`` (where ``mask``) are at each grey level.

    OpenCV's histogram where its float32 counts are exact (fewer than 2^24 pixels),
    numpy's elsewhere."""
    size = int(np.iinfo(levels.dtype).max) + 1
    if levels.size < 2**24:
        sel = None if mask is None else mask.view(np.uint8)
        hist = cv2.calcHist([levels], [0], sel, [size], [0, size])
        return np.asarray(hist.ravel(), np.intp)
    return np.bincount((levels if mask is None else levels[mask]).ravel(), minlength=size)


def ranked(values: NDArray[Any], counts: NDArray[Any], ranks: list[int]) -> NDArray[Any]:
    """The elements of 0-based ``ranks`` in the ascending sample holding ``values[i]``
    ``counts[i]`` times (``values`` ascending)."""
    return values[np.searchsorted(np.cumsum(counts), ranks, side="right")]


def counted_median(values: NDArray[Any], counts: NDArray[Any]) -> Any:
    """:func:`numpy.median` of the sample holding ``values[i]`` ``counts[i]`` times
    (``values`` ascending, at least one count): the mean of its one or two middle
    elements, in ``values``' dtype."""
    n = int(counts.sum())
    return np.median(ranked(values, counts, sorted({(n - 1) // 2, n // 2})))


def counted_quantile(values: NDArray[Any], counts: NDArray[Any], q: float) -> float:
    """:func:`numpy.quantile` (linear) at ``q`` of the sample holding ``values[i]``
    ``counts[i]`` times (``values`` ascending, at least one count).

    numpy interpolates between the elements at ranks ``floor(v)`` and ``floor(v) + 1``,
    ``v = (n - 1) q``, by ``v - floor(v)``; the quantile of those two elements at that
    fraction is the same interpolation.
    """
    n = int(counts.sum())
    virtual = (n - 1) * q
    lo = math.floor(virtual)
    pair = ranked(values, counts, [lo, min(lo + 1, n - 1)])
    return float(np.quantile(pair, virtual - lo))
