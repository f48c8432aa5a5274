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


class NotAuthenticatedError(CastsightError):
    """No valid session cookie or cell token: log in first (pages redirect to /login)."""


class ForbiddenError(CastsightError):
    """Logged in, but the role (or the cell's token) does not allow this."""


class CsrfError(CastsightError):
    """A write with a session cookie but without its CSRF token."""


class ModelNotFoundError(CastsightError):
    """No registered model of that id."""


class UserNotFoundError(CastsightError):
    """No user of that id."""


class ActivationRefusedError(InputError):
    """A model the station does not activate: its folder changed, it does not fit a
    cell's plan or detector, it is already active, or it passed a challenge part."""


class ReviewRefusedError(InputError):
    """A review the station does not take (no reason for an overturn, a part not sentenced)."""


__all__ = [
    "ActivationRefusedError",
    "CsrfError",
    "ForbiddenError",
    "ModelNotFoundError",
    "NotAuthenticatedError",
    "ReviewRefusedError",
    "UnknownCellError",
    "UnsupportedViewError",
    "UserNotFoundError",
    "ViewTooLargeError",
]
