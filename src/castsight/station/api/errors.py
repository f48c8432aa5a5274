"""castsight's errors -> HTTP, once for the whole edge."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from castsight.errors import CastsightError, InputError
from castsight.station.exceptions import (
    CsrfError,
    ForbiddenError,
    ModelNotFoundError,
    NotAuthenticatedError,
    PartNotFoundError,
    UnknownCellError,
    UnsupportedViewError,
    UserNotFoundError,
    ViewTooLargeError,
)

STATUS: tuple[tuple[type[CastsightError], int], ...] = (
    (ViewTooLargeError, 413),
    (UnsupportedViewError, 415),
    (UnknownCellError, 422),
    (PartNotFoundError, 404),
    (ModelNotFoundError, 404),
    (UserNotFoundError, 404),
    (NotAuthenticatedError, 401),
    (ForbiddenError, 403),
    (CsrfError, 403),
    (InputError, 422),
    (CastsightError, 400),
)
"""The first class that matches gives the status."""


def status_of(err: CastsightError) -> int:
    """The HTTP status of ``err``.

    >>> status_of(ViewTooLargeError("V01.tif", "too large")), status_of(InputError(None, "x"))
    (413, 422)
    """
    return next(code for kind, code in STATUS if isinstance(err, kind))


async def _handle(request: Request, err: Exception) -> Response:
    assert isinstance(err, CastsightError)
    if isinstance(err, NotAuthenticatedError) and request.url.path.startswith("/ui"):
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    return JSONResponse({"detail": str(err)}, status_code=status_of(err))


def install(app: FastAPI) -> None:
    """Answer every :class:`CastsightError` with its status and one line (a page that
    needs a login redirects to the login page instead)."""
    app.add_exception_handler(CastsightError, _handle)


__all__ = ["STATUS", "install", "status_of"]
