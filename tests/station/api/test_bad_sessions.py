"""Unknown users and sessions that are no longer good (expired, tampered, of a user
disabled or never there) get a clear 4xx and change nothing: no model registered, no
review stored (the upload token cases are in test_auth.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from castsight.station.auth.cookies import COOKIE
from castsight.station.auth.roles import Role
from castsight.station.main import create_app
from castsight.station.store.tables import AuditRow, ModelRow, ReviewRow, UserRow
from tests.station.builders import ADMIN, seed_part, station_settings


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = station_settings(tmp_path, f"sqlite:///{tmp_path / 's.db'}")
    seed_part(settings, serial="P-NG", sentence="NG")
    with TestClient(create_app(settings), follow_redirects=False) as client:
        yield client


def _count(client: TestClient, table: type[ModelRow | ReviewRow | UserRow]) -> int:
    with client.app.state.station.sessions() as session:  # type: ignore[attr-defined]
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def _writes_refused(client: TestClient, cookie: str, status: int, said: str) -> None:
    """With session ``cookie`` and its own CSRF token: reading the models, registering
    one and reviewing a part are refused with ``status``; nothing is stored."""
    station = client.app.state.station  # type: ignore[attr-defined]
    client.cookies.set(COOKIE, cookie)
    csrf = {"X-CSRF-Token": station.signer.csrf(cookie)}
    listed = client.get("/api/models")
    assert listed.status_code == status and said in listed.text, listed.text
    posted = client.post("/api/models", json={"path": "/nowhere"}, headers=csrf)
    assert posted.status_code == status and said in posted.text, posted.text
    review = client.post(
        "/ui/parts/1/review",
        data={"verdict": "rejected", "reason": "", "csrf": station.signer.csrf(cookie)},
    )
    assert review.status_code == 303 and review.headers["location"].startswith("/login")
    assert _count(client, ModelRow) == 0 and _count(client, ReviewRow) == 0


def test_an_unknown_user_cannot_log_in(client: TestClient) -> None:
    answer = client.post("/login", data={"name": "nobody", "password": "whatever-1"})
    assert answer.status_code == 401 and "unknown user or wrong password" in answer.text
    assert COOKIE not in client.cookies and _count(client, UserRow) == 1
    with client.app.state.station.sessions() as session:  # type: ignore[attr-defined]
        failed = session.scalars(select(AuditRow).where(AuditRow.action == "login_failed")).all()
    assert [a.actor for a in failed] == ["nobody"]


def test_an_expired_session_is_refused(client: TestClient) -> None:
    station = client.app.state.station  # type: ignore[attr-defined]
    admin = station.accounts.login(*ADMIN)
    assert admin is not None
    then = time.time() - station.signer.max_age_s - 1  # issued a session's length ago
    _writes_refused(client, station.signer.issue(admin.id, now=then), 401, "log in first")


def test_a_tampered_session_is_refused(client: TestClient) -> None:
    station = client.app.state.station  # type: ignore[attr-defined]
    admin = station.accounts.login(*ADMIN)
    assert admin is not None
    value = station.signer.issue(admin.id)
    user, expires, rest = value.split(".", 2)
    forged = f"{int(user) + 1}.{expires}.{rest}"  # another user, the old signature
    _writes_refused(client, forged, 401, "log in first")


def _with_erin(client: TestClient) -> tuple[Any, Any, Any]:
    """The station, its admin, and a new engineer "erin" (password "erin-pass-1")."""
    station = client.app.state.station  # type: ignore[attr-defined]
    admin = station.accounts.login(*ADMIN)
    assert admin is not None
    erin = station.accounts.create_user(
        name="erin", role=Role.ENGINEER, password="erin-pass-1", by=admin
    )
    return station, admin, erin


def test_a_session_of_a_disabled_or_unknown_user_is_refused(client: TestClient) -> None:
    station, admin, erin = _with_erin(client)
    session = station.signer.issue(erin.id)
    station.accounts.set_active(erin.id, False, by=admin)
    _writes_refused(client, session, 401, "log in first")
    _writes_refused(client, station.signer.issue(999), 401, "log in first")


def _log_in(client: TestClient, name: str, password: str) -> str:
    """Log in over HTTP; the session cookie's value."""
    answer = client.post("/login", data={"name": name, "password": password, "next": "/ui"})
    assert answer.status_code == 303, answer.text
    value = client.cookies.get(COOKIE)
    assert value
    return value


def test_a_password_reset_ends_the_users_sessions(client: TestClient) -> None:
    station, _, erin = _with_erin(client)
    before = _log_in(client, "erin", "erin-pass-1")
    assert client.get("/api/models").status_code == 200  # erin's session works
    other = _log_in(client, "erin", "erin-pass-1")  # a second browser
    admin_session = _log_in(client, *ADMIN)
    reset = client.post(
        f"/ui/users/{erin.id}/password",
        data={"password": "erin-new-pass", "csrf": station.signer.csrf(admin_session)},
    )
    assert reset.headers["location"] == "/ui/users?done=password"
    assert client.get("/api/models").status_code == 200  # the admin's own session stays
    for ended in (before, other):
        client.cookies.clear()
        _writes_refused(client, ended, 401, "log in first")
    client.cookies.clear()
    assert (
        client.post("/login", data={"name": "erin", "password": "erin-pass-1"}).status_code == 401
    )
    _log_in(client, "erin", "erin-new-pass")
    assert client.get("/api/models").status_code == 200  # a session after the reset works
