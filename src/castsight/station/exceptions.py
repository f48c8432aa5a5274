"""What the station refuses, as plain errors; the HTTP edge maps each to a status once
(:mod:`castsight.station.api.errors`)."""

from __future__ import annotations

from castsight.errors import CastsightError, InputError


class UnknownCellError(InputError):
    """No cell of that name, or none (or several) inspecting that part type."""


class ViewTooLargeError(InputError):
    """An uploaded view is larger than ``max_view_bytes``."""


class UnsupportedViewError(InputError):
    """An uploaded view is not TIFF, PNG or DICONDE."""


class PartNotFoundError(CastsightError):
    """No part of that id or serial."""


__all__ = ["PartNotFoundError", "UnknownCellError", "UnsupportedViewError", "ViewTooLargeError"]
