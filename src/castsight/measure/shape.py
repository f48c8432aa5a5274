"""The shape of a footprint: longest extent (Feret) and width across it.

>>> import numpy as np
>>> feret_and_width(np.ones((2, 6), bool))
(6.324555320336759, 2.0)
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray


def feret_and_width(mask: NDArray[np.bool_]) -> tuple[float, float]:
    """Longest extent (px, Feret) and width across it, from the footprint's pixel corners."""
    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        return 1.0, 1.0
    pts = np.concatenate(
        [np.column_stack([xs + dx, ys + dy]) for dx in (0, 1) for dy in (0, 1)]
    ).astype(np.float32)
    hull = cv2.convexHull(pts).reshape(-1, 2).astype(np.float64)
    d = hull[:, None, :] - hull[None, :, :]
    length = float(np.sqrt((d**2).sum(-1)).max()) if len(hull) > 1 else 1.0
    (_, _), (w, h), _ = cv2.minAreaRect(pts)
    return max(length, 1.0), max(min(w, h), 1.0)
