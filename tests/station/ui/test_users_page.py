"""The admin's users page through the real application (TestClient, SQLite and
PostgreSQL): list, create with a role, disable, enable, new password; every act audited,
CSRF required, nobody but an admin allowed, no anonymous write."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from castsight.station.main import create_app
from castsight.station.store.tables import AuditRow, UserRow
from tests.station.builders import ADMIN, station_settings
from tests.station.ui.test_pages import log_in


@pytest.fixture
def client(tmp_path: Path, database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(station_settings(tmp_path, database_url)),
                    follow_redirects=False) as client:  # fmt: skip
        yield client


def user_id(client: TestClient, name: str) -> int:
    station = client.app.state.station  # type: ignore[attr-defined]
    with station.sessions() as session:
        row = session.scalars(select(UserRow).where(UserRow.name == name)).one()
        return row.id


def test_an_admin_manages_users_and_every_act_is_audited(client: TestClient) -> None:
    anonymous = client.post("/ui/users", data={"name": "x", "role": "admin", "password": "x" * 8})
    assert anonymous.status_code == 403  # no session, no CSRF token: nothing written
    csrf = log_in(client, *ADMIN)
    page = client.get("/ui/users")
    assert page.status_code == 200 and 'id="user-root"' in page.text
    assert 'href="/ui/users"' in client.get("/ui").text

    new = {"name": "erin", "role": "engineer", "password": "erin-pass"}
    assert client.post("/ui/users", data=new).status_code == 403  # no CSRF token
    answer = client.post("/ui/users", data={**new, "csrf": csrf})
    assert answer.headers["location"] == "/ui/users?done=created"
    assert "user created" in client.get("/ui/users?done=created").text
    taken = client.post("/ui/users", data={**new, "csrf": csrf})
    assert taken.status_code == 422 and "taken" in taken.text
    short = client.post("/ui/users", data={**new, "name": "eve", "password": "short", "csrf": csrf})
    assert short.status_code == 422 and "8 characters" in short.text
    erin = user_id(client, "erin")

    answer = client.post(f"/ui/users/{erin}/disable", data={"csrf": csrf})
    assert answer.headers["location"] == "/ui/users?done=disabled"
    refused = client.post("/login", data={"name": "erin", "password": "erin-pass"})
    assert refused.status_code == 401
    csrf = log_in(client, *ADMIN)
    assert client.post(f"/ui/users/{user_id(client, ADMIN[0])}/disable",
                       data={"csrf": csrf}).status_code == 403  # fmt: skip
    client.post(f"/ui/users/{erin}/enable", data={"csrf": csrf})
    answer = client.post(f"/ui/users/{erin}/password", data={"password": "erin-new-pass",
                                                             "csrf": csrf})  # fmt: skip
    assert answer.headers["location"] == "/ui/users?done=password"
    unknown = client.post("/ui/users/999/password", data={"password": "whatever1", "csrf": csrf})
    assert unknown.status_code == 404

    assert client.post("/login", data={"name": "erin", "password": "erin-pass"}).status_code == 401
    csrf = log_in(client, "erin", "erin-new-pass")
    assert client.get("/ui/users").status_code == 403  # an engineer is no admin
    assert (
        client.post("/ui/users", data={**new, "name": "mallory", "csrf": csrf}).status_code == 403
    )

    station = client.app.state.station  # type: ignore[attr-defined]
    with station.sessions() as session:
        acts = [
            (a.actor, a.action, a.detail.get("user"))
            for a in session.scalars(select(AuditRow).order_by(AuditRow.id))
            if a.action.startswith(("user_", "password_"))
        ]
        assert "password" not in str([a.detail for a in session.scalars(select(AuditRow))]).replace(
            "password_reset", ""
        )
    assert acts == [
        ("station", "user_created", ADMIN[0]),
        (ADMIN[0], "user_created", "erin"),
        (ADMIN[0], "user_disabled", "erin"),
        (ADMIN[0], "user_enabled", "erin"),
        (ADMIN[0], "password_reset", "erin"),
    ]
