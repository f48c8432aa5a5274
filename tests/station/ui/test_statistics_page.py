"""The statistics page and ``GET /api/statistics`` through the real application
(TestClient, SQLite and PostgreSQL): a drift in the NG rate shows on the page (SVG
p-chart), on the queue page, in the JSON and the health answer, and is audited once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from castsight.station.auth.roles import Role
from castsight.station.main import create_app
from castsight.station.settings import StatisticsSettings
from castsight.station.store import repo
from castsight.station.store.engine import make_engine
from castsight.station.store.tables import AuditRow
from tests.station.builders import ADMIN, station_settings
from tests.station.history import drifting, seed_history


@pytest.fixture
def client(tmp_path: Path, database_url: str) -> Iterator[TestClient]:
    """A station whose last 10 parts drifted: 8 NG against 1 in each of the 4 before."""
    statistics = StatisticsSettings(subgroup_parts=10, baseline_subgroups=4, timezone="UTC")
    settings = station_settings(tmp_path, database_url, statistics=statistics)
    engine = make_engine(settings.storage.database())
    seed_history(engine, drifting(repo.now()), reviews=[(0, "accepted"), (10, "rejected")])
    engine.dispose()
    with TestClient(create_app(settings), follow_redirects=False) as client:
        yield client


def log_in(client: TestClient, name: str, password: str) -> None:
    answer = client.post("/login", data={"name": name, "password": password, "next": "/ui"})
    assert answer.status_code == 303, answer.text


def test_statistics_need_a_login(client: TestClient) -> None:
    assert client.get("/ui/statistics").headers["location"] == "/login?next=/ui/statistics"
    assert client.get("/api/statistics").status_code == 401


def test_the_page_the_json_the_queue_and_health_show_the_drift(client: TestClient) -> None:
    station = client.app.state.station  # type: ignore[attr-defined]
    admin = station.accounts.login(*ADMIN)
    station.accounts.create_user(name="olga", role=Role.OPERATOR, password="olga-pass", by=admin)
    log_in(client, "olga", "olga-pass")  # operators see the statistics

    page = client.get("/ui/statistics")
    assert page.status_code == 200
    text = page.text
    assert text.count("<svg") == 2 and 'data-measure="NG" data-alarm="true"' in text
    assert 'data-measure="REVIEW" data-alarm="false"' in text
    assert 'class="limit ucl"' in text and 'class="centre"' in text
    assert "Drift alarm" in text and "generic: NG rate 80.0 %" in text
    assert "<td>boss</td>" in text and "<td>V01</td>" in text and "<td>22:00-06:00</td>" in text
    assert '<td class="num override-rate">50.0 %</td>' in text  # 1 of 2 NG reviews overturned

    queue = client.get("/ui").text
    assert "Drift alarm" in queue and 'href="/ui/statistics"' in queue

    figures = client.get("/api/statistics").json()
    (alarm,) = figures["alarms"]
    assert (alarm["part_type"], alarm["measure"], alarm["rate"]) == ("generic", "NG", 0.8)
    (generic,) = figures["part_types"]
    assert generic["overall"] == {"key": "generic", "n": 50, "ng": 12, "review": 5,
                                  "ng_rate": 0.24, "review_rate": 0.1}  # fmt: skip
    assert generic["grouping"] == "zone"
    assert {r["key"]: (r["ng"], r["review"]) for r in generic["by_zone"]} == {
        "boss": (12, 0),
        "rib": (0, 5),
    }
    assert generic["overrides"]["decided"] == 2 and generic["overrides"]["rate"] == 0.5
    ng_chart = generic["charts"][0]
    assert ng_chart["centre"] == 0.1 and [p["alarm"] for p in ng_chart["points"]] == [
        False,
        False,
        False,
        False,
        True,
    ]

    health = client.get("/api/health").json()
    assert [(a["part_type"], a["measure"]) for a in health["drift_alarms"]] == [("generic", "NG")]

    with station.sessions() as session:
        lines = session.scalars(select(AuditRow).where(AuditRow.action == "drift_alarm")).all()
    assert len(lines) == 1 and lines[0].detail["measure"] == "NG"
