"""Providers for the routes (overridable in tests with ``app.dependency_overrides``):
the station, a session, the logged-in user, role and CSRF checks, the uploading cell."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from castsight.station.accounts import User
from castsight.station.auth.cookies import COOKIE
from castsight.station.auth.roles import Role, allows
from castsight.station.exceptions import CsrfError, ForbiddenError, NotAuthenticatedError
from castsight.station.lifecycle import Station

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf"


def get_station(request: Request) -> Station:
    """The running station."""
    station: Station = request.app.state.station
    return station


StationDep = Annotated[Station, Depends(get_station)]


def get_session(station: StationDep) -> Iterator[Session]:
    """A session for one request."""
    with station.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_user(request: Request, station: StationDep) -> User | None:
    """The user of the request's valid session cookie, or None (also when the user's
    password was reset after the session was issued)."""
    value = request.cookies.get(COOKIE)
    claims = station.signer.claims(value) if value else None
    if claims is None:
        return None
    return station.accounts.user(claims.user_id, generation=claims.generation)


MaybeUserDep = Annotated[User | None, Depends(get_user)]


def require(role: Role) -> Callable[..., object]:
    """A dependency: the logged-in user, allowed what ``role`` is.

    Raises
    ------
    NotAuthenticatedError, ForbiddenError
    """

    def check(user: MaybeUserDep) -> User:
        if user is None:
            raise NotAuthenticatedError(None, "log in first")
        if not allows(user.role, role):
            raise ForbiddenError(None, f"{user.name} ({user.role}) may not: needs {role}")
        return user

    return check


async def check_csrf(request: Request, station: StationDep) -> None:
    """Refuse a write whose CSRF token (header or form field) is not its session's."""
    value = request.cookies.get(COOKIE) or ""
    token = request.headers.get(CSRF_HEADER)
    if token is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        field = (await request.form()).get(CSRF_FIELD)
        token = field if isinstance(field, str) else None
    if not value or token is None or not station.signer.csrf_ok(value, token):
        raise CsrfError(None, "missing or wrong CSRF token: reload the page")


OperatorDep = Annotated[User, Depends(require(Role.OPERATOR))]
InspectorDep = Annotated[User, Depends(require(Role.INSPECTOR))]
EngineerDep = Annotated[User, Depends(require(Role.ENGINEER))]
AdminDep = Annotated[User, Depends(require(Role.ADMIN))]
CsrfDep = Depends(check_csrf)


def get_uploading_cell(request: Request, station: StationDep) -> str:
    """The cell whose token the request carries (``Authorization: Bearer TOKEN``).

    Raises
    ------
    NotAuthenticatedError
        No token, or none of a cell's.
    """
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        for cell in station.settings.cells:
            if cell.token is not None and hmac.compare_digest(
                cell.token.get_secret_value().encode(), token.encode()
            ):
                return cell.name
    raise NotAuthenticatedError(None, "a cell's upload token is needed (Authorization: Bearer)")


UploadingCellDep = Annotated[str, Depends(get_uploading_cell)]

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "AdminDep",
    "CsrfDep",
    "EngineerDep",
    "InspectorDep",
    "MaybeUserDep",
    "OperatorDep",
    "SessionDep",
    "StationDep",
    "UploadingCellDep",
    "check_csrf",
    "get_session",
    "get_station",
    "get_uploading_cell",
    "get_user",
    "require",
]
