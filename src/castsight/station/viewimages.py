"""A view's image for the review pages: the archived file as the HTML report's packed
16-bit PNG (:mod:`castsight.report.images`), its scale and auto window; kept in a small
cache by the file's digest (a page and its images ask for the same views)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from castsight.io import read_radiograph
from castsight.report import images

MAX_SIDE = 1024
"""The longer side of a view as sent to the browser (zoom shows it enlarged)."""


@dataclass(frozen=True)
class ViewImage:
    """A view as drawn: PNG bytes, display size, scale from file pixels, auto window."""

    png: bytes
    w: int
    h: int
    sx: float
    sy: float
    auto: tuple[float, float]


@functools.lru_cache(maxsize=64)
def _render(path: str, sha256: str) -> ViewImage:
    pixels = read_radiograph(path).pixels
    display, sx, sy = images.display_image(pixels, MAX_SIDE)
    rows, cols = display.shape
    lo, hi = images.percentile_window(display, 1.0, 99.0)
    return ViewImage(images.encode_packed16(display), int(cols), int(rows), sx, sy, (lo, hi))


def view_image(path: Path, sha256: str) -> ViewImage:
    """The archived view at ``path`` (named by its ``sha256``) ready to draw.

    Raises
    ------
    CastsightError
        The file cannot be read.
    """
    return _render(str(path), sha256)


__all__ = ["MAX_SIDE", "ViewImage", "view_image"]
