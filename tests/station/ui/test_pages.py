"""The review pages through the real application (TestClient, SQLite and PostgreSQL):
login, the queue, a part's page and images, verdicts with CSRF, roles and reasons."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from castsight.station.auth.roles import Role
from castsight.station.main import create_app
from castsight.station.store.tables import AuditRow, ReviewRow
from tests.station.builders import ADMIN, seed_part, station_settings


@pytest.fixture
def client(tmp_path: Path, database_url: str) -> Iterator[TestClient]:
    settings = station_settings(tmp_path, database_url)
    seed_part(settings, serial="P-NG", sentence="NG")
    seed_part(settings, serial="P-RV", sentence="REVIEW")
    with TestClient(create_app(settings), follow_redirects=False) as client:
        yield client


def log_in(client: TestClient, name: str, password: str) -> str:
    """Log in; the CSRF token of the session (from the queue page)."""
    answer = client.post("/login", data={"name": name, "password": password, "next": "/ui"})
    assert answer.status_code == 303, answer.text
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/ui").text)
    assert found is not None
    return found.group(1)


def test_pages_need_a_login_and_a_wrong_password_is_refused(client: TestClient) -> None:
    assert client.get("/ui").headers["location"] == "/login?next=/ui"
    assert client.get("/ui/parts/1").status_code == 303
    answer = client.post("/login", data={"name": ADMIN[0], "password": "wrong-pass"})
    assert answer.status_code == 401 and "wrong password" in answer.text
    assert "castsight_session" not in client.cookies


def test_review_an_ng_part_and_a_review_part(client: TestClient) -> None:
    csrf = log_in(client, *ADMIN)
    queue = client.get("/ui").text
    assert "P-NG" in queue and "P-RV" in queue
    part = client.get("/ui/parts/1")
    assert part.status_code == 200 and "V01#0 pore" in part.text and 'data-next="2"' in part.text
    png = client.get("/ui/parts/1/views/0.png")
    assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
    assert client.get("/ui/parts/1/views/9.png").status_code == 404

    no_csrf = client.post("/ui/parts/1/review", data={"verdict": "accepted", "reason": "x"})
    assert no_csrf.status_code == 403
    no_reason = client.post("/ui/parts/1/review", data={"verdict": "accepted", "csrf": csrf})
    assert no_reason.status_code == 422 and "a reason is needed" in no_reason.text
    overturn = {"verdict": "accepted", "reason": "a film artefact", "csrf": csrf}
    answer = client.post("/ui/parts/1/review", data=overturn)
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/parts/2"
    answer = client.post("/ui/parts/2/review", data={"verdict": "rejected", "csrf": csrf})
    assert answer.headers["location"] == "/ui?done=2"
    assert "Nothing to review" in client.get("/ui").text

    station = client.app.state.station  # type: ignore[attr-defined]
    with station.sessions() as session:
        got = [
            (r.part_id, r.verdict, r.machine_sentence, r.overturned, r.reason)
            for r in session.scalars(select(ReviewRow).order_by(ReviewRow.id))
        ]
        audit = session.scalars(select(AuditRow).where(AuditRow.action == "part_reviewed")).all()
    assert got == [
        (1, "accepted", "NG", True, "a film artefact"),
        (2, "rejected", "REVIEW", False, None),
    ]
    assert [(a.actor, a.part_id, a.plan_sha256) for a in audit] == [
        (ADMIN[0], 1, "ab" * 32),
        (ADMIN[0], 2, "ab" * 32),
    ]


def test_an_operator_sees_but_does_not_review(client: TestClient) -> None:
    station = client.app.state.station  # type: ignore[attr-defined]
    admin = station.accounts.login(*ADMIN)
    station.accounts.create_user(name="olga", role=Role.OPERATOR, password="olga-pass", by=admin)
    csrf = log_in(client, "olga", "olga-pass")
    page = client.get("/ui/parts/1")
    assert page.status_code == 200 and 'id="review"' not in page.text
    answer = client.post("/ui/parts/1/review", data={"verdict": "rejected", "csrf": csrf})
    assert answer.status_code == 403
    logout = client.post("/logout", data={"csrf": csrf})
    assert logout.headers["location"] == "/login"
