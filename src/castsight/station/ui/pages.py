"""The review pages: login, the queue, a part with its views, the verdict."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from castsight.station.accounts import User
from castsight.station.api.deps import (
    CsrfDep,
    InspectorDep,
    MaybeUserDep,
    OperatorDep,
    StationDep,
)
from castsight.station.auth.cookies import COOKIE
from castsight.station.auth.roles import Role, allows
from castsight.station.exceptions import ReviewRefusedError
from castsight.station.lifecycle import Station
from castsight.station.reviews import Verdict
from castsight.station.ui.render import page

router = APIRouter(include_in_schema=False)


def _csrf(request: Request, station: Station) -> str:
    return station.signer.csrf(request.cookies.get(COOKIE, ""))


def _safe_next(target: str) -> str:
    """Only a page of this UI (no redirect elsewhere)."""
    return target if target.startswith("/ui") and not target.startswith("//") else "/ui"


@router.get("/")
def root() -> RedirectResponse:
    """The review UI."""
    return RedirectResponse("/ui", status_code=303)


@router.get("/login")
def login_page(user: MaybeUserDep, next: str = "/ui") -> Response:
    """The login form (a logged-in user goes on)."""
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return page("login.html.j2", title="log in", user=None, message=None, next=next)


@router.post("/login")
async def login(
    request: Request,
    station: StationDep,
    name: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/ui",
) -> Response:
    """Check the password; on success a session cookie, on failure the form again (401)."""
    client = request.client.host if request.client else None
    user = await run_in_threadpool(station.accounts.login, name, password, client=client)
    if user is None:
        return page(
            "login.html.j2",
            status=401,
            title="log in",
            user=None,
            message="unknown user or wrong password",
            next=next,
        )
    answer = RedirectResponse(_safe_next(next), status_code=303)
    answer.set_cookie(
        COOKIE,
        station.signer.issue(user.id, user.session_generation),
        max_age=station.signer.max_age_s,
        httponly=True,
        samesite="strict",
        secure=station.settings.auth.cookie_secure,
    )
    return answer


@router.post("/logout", dependencies=[CsrfDep])
def logout(station: StationDep, user: OperatorDep) -> RedirectResponse:
    """End the session."""
    station.accounts.logout(user)
    answer = RedirectResponse("/login", status_code=303)
    answer.delete_cookie(COOKIE)
    return answer


@router.get("/ui")
def queue_page(
    request: Request, station: StationDep, user: OperatorDep, done: str | None = None
) -> HTMLResponse:
    """Parts waiting for review."""
    items = station.reviews.queue()
    flash = f"review of part {done} stored" if done else None
    return page(
        "queue.html.j2",
        title="review queue",
        user=user,
        csrf=_csrf(request, station),
        items=items,
        flash=flash,
        alarms=station.statistics.current().alarms,
    )


def _part_page(
    request: Request,
    station: Station,
    user: User,
    part_id: int,
    *,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    found = station.reviews.page(part_id)
    return page(
        "part.html.j2",
        status=status,
        title=f"part {found.serial}",
        user=user,
        csrf=_csrf(request, station),
        page=found,
        can_review=allows(user.role, Role.INSPECTOR),
        message=message,
    )


@router.get("/ui/parts/{part_id}")
def part_page(request: Request, station: StationDep, user: OperatorDep, part_id: int) -> Response:
    """A part's views with their indications, and the verdict form."""
    return _part_page(request, station, user, part_id)


@router.get("/ui/parts/{part_id}/views/{position}.png")
def view_png(station: StationDep, user: OperatorDep, part_id: int, position: int) -> Response:
    """A view as the viewer reads it (16 bits packed in R and G)."""
    png = station.reviews.view_png(part_id, position)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@router.post("/ui/parts/{part_id}/review", dependencies=[CsrfDep])
def review(
    request: Request,
    station: StationDep,
    user: InspectorDep,
    part_id: int,
    verdict: Annotated[Verdict, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Store the verdict and go on to the next part of the queue (or the queue)."""
    following = station.reviews.page(part_id).next_id
    try:
        station.reviews.submit(part_id, user=user, verdict=verdict, reason=reason)
    except ReviewRefusedError as err:
        return _part_page(request, station, user, part_id, message=str(err), status=422)
    target = f"/ui/parts/{following}" if following else f"/ui?done={part_id}"
    return RedirectResponse(target, status_code=303)


__all__ = ["router"]
