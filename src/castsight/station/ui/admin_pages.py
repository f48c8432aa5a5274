"""The engineer's and the admin's pages: models (register a folder, activate a model for
a part type) and users (create, disable, enable, new password). Every act is audited by
the services; every form carries the session's CSRF token; a refused act shows the page
again with the reason (422)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from castsight.errors import InputError
from castsight.station.accounts import User
from castsight.station.api.deps import AdminDep, CsrfDep, EngineerDep, StationDep
from castsight.station.auth.cookies import COOKIE
from castsight.station.auth.roles import Role
from castsight.station.lifecycle import Station
from castsight.station.ui.render import page

router = APIRouter(include_in_schema=False)

DONE = {
    "registered": "model registered",
    "activated": "model activated: parts arriving from now on are inspected with it",
    "created": "user created",
    "disabled": "user disabled",
    "enabled": "user enabled",
    "password": "password changed",
}
"""What a redirect's ``done`` says on the page."""


def _csrf(request: Request, station: Station) -> str:
    return station.signer.csrf(request.cookies.get(COOKIE, ""))


def _models_page(
    request: Request,
    station: Station,
    user: User,
    *,
    done: str | None = None,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    found = station.models.models()
    return page(
        "models.html.j2",
        status=status,
        title="models",
        user=user,
        csrf=_csrf(request, station),
        models=found,
        active={t: m for m in found for t in m.active_for},
        history=station.models.history(limit=50),
        part_types=station.models.part_types(),
        flash=DONE.get(done or ""),
        message=message,
    )


@router.get("/ui/models")
def models_page(
    request: Request, station: StationDep, user: EngineerDep, done: str | None = None
) -> HTMLResponse:
    """Registered models, which is active for each part type, the activations."""
    return _models_page(request, station, user, done=done)


@router.post("/ui/models", dependencies=[CsrfDep])
async def register_model(
    request: Request, station: StationDep, user: EngineerDep, path: Annotated[str, Form()]
) -> Response:
    """Register a model folder (verified by its content sha256)."""
    try:
        await run_in_threadpool(station.models.register, path.strip(), by=user)
    except InputError as err:
        return _models_page(request, station, user, message=str(err), status=422)
    return RedirectResponse("/ui/models?done=registered", status_code=303)


@router.post("/ui/models/{model_id}/activate", dependencies=[CsrfDep])
async def activate_model(
    request: Request,
    station: StationDep,
    user: EngineerDep,
    model_id: int,
    part_type: Annotated[str, Form()],
) -> Response:
    """Activate a model for a part type (checked first; refused with the reason)."""
    try:
        await run_in_threadpool(station.models.activate, model_id, part_type, by=user)
    except InputError as err:
        return _models_page(request, station, user, message=str(err), status=422)
    return RedirectResponse("/ui/models?done=activated", status_code=303)


def _users_page(
    request: Request,
    station: Station,
    user: User,
    *,
    done: str | None = None,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    return page(
        "users.html.j2",
        status=status,
        title="users",
        user=user,
        csrf=_csrf(request, station),
        accounts=station.accounts.accounts(by=user),
        roles=[r.value for r in Role],
        flash=DONE.get(done or ""),
        message=message,
    )


@router.get("/ui/users")
def users_page(
    request: Request, station: StationDep, user: AdminDep, done: str | None = None
) -> HTMLResponse:
    """Every user, with forms to create, disable, enable and give a new password."""
    return _users_page(request, station, user, done=done)


@router.post("/ui/users", dependencies=[CsrfDep])
def create_user(
    request: Request,
    station: StationDep,
    user: AdminDep,
    name: Annotated[str, Form()],
    role: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> Response:
    """Create a user with a role."""
    try:
        station.accounts.create_user(
            name=name.strip(), role=Role.parse(role), password=password, by=user
        )
    except InputError as err:
        return _users_page(request, station, user, message=str(err), status=422)
    return RedirectResponse("/ui/users?done=created", status_code=303)


@router.post("/ui/users/{user_id}/disable", dependencies=[CsrfDep])
def disable_user(station: StationDep, user: AdminDep, user_id: int) -> RedirectResponse:
    """Disable a user: no login, open sessions end (never deleted)."""
    station.accounts.set_active(user_id, False, by=user)
    return RedirectResponse("/ui/users?done=disabled", status_code=303)


@router.post("/ui/users/{user_id}/enable", dependencies=[CsrfDep])
def enable_user(station: StationDep, user: AdminDep, user_id: int) -> RedirectResponse:
    """Enable a disabled user again."""
    station.accounts.set_active(user_id, True, by=user)
    return RedirectResponse("/ui/users?done=enabled", status_code=303)


@router.post("/ui/users/{user_id}/password", dependencies=[CsrfDep])
def reset_password(
    request: Request,
    station: StationDep,
    user: AdminDep,
    user_id: int,
    password: Annotated[str, Form()],
) -> Response:
    """Give a user a new password."""
    try:
        station.accounts.reset_password(user_id, password, by=user)
    except InputError as err:
        return _users_page(request, station, user, message=str(err), status=422)
    return RedirectResponse("/ui/users?done=password", status_code=303)


__all__ = ["DONE", "router"]
