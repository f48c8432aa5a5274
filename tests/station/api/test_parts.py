"""POST, list and get parts through the real application (TestClient: lifespan, worker
processes, store on SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from castsight.station.main import create_app
from castsight.station.store import repo
from castsight.station.store.tables import AuditRow, PartRow, SentenceRow, ViewRow
from tests.station.builders import CELL_AUTH, RecordingPublisher, station_settings, view_bytes


@pytest.fixture
def published() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def client(
    tmp_path: Path, database_url: str, published: RecordingPublisher
) -> Iterator[TestClient]:
    app = create_app(station_settings(tmp_path, database_url), publishers=[published])
    with TestClient(app, headers=CELL_AUTH) as client:
        yield client


def test_a_part_is_stored_inspected_answered_and_signalled(
    client: TestClient, published: RecordingPublisher
) -> None:
    files = [
        ("views", ("V01.tif", view_bytes(".tif", seed=1), "image/tiff")),
        ("views", ("V02.png", view_bytes(".png", seed=2), "image/png")),
        ("views", ("V03.dcm", view_bytes(".dcm", seed=3), "application/dicom")),
    ]
    answer = client.post("/api/parts", data={"serial": "P-001", "cell": "cell-1"}, files=files)
    assert answer.status_code == 201, answer.text
    part = answer.json()
    assert answer.headers["location"] == part["url"] == f"/api/parts/{part['id']}"
    assert (part["serial"], part["state"], part["attempts"]) == ("P-001", "sentenced", 1)
    assert part["sentence"]["sentence"] in ("OK", "NG", "REVIEW")
    assert part["sentence"]["plan_sha256"] and part["record"]["serial"] == "P-001"
    assert [v["name"] for v in part["views"]] == ["V01", "V02", "V03"]
    assert all(v["status"] == "inspected" for v in part["views"])
    messages = published.wait(1)
    assert [m.serial for m in messages] == ["P-001"]
    assert messages[0].sentence == part["sentence"]["sentence"]

    listed = client.get("/api/parts").json()
    assert [p["id"] for p in listed] == [part["id"]] and listed[0]["record"] is None
    got = client.get(part["url"]).json()
    assert got["sentence"] == part["sentence"] and got["record"] == part["record"]
    sentence = client.get("/api/parts/P-001/sentence").json()
    assert (sentence["part_id"], sentence["state"]) == (part["id"], "sentenced")
    assert sentence["sentence"]["sentence"] == part["sentence"]["sentence"]
    assert client.get("/api/parts/404").status_code == 404
    assert client.get("/api/parts/NOPE/sentence").status_code == 404
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["cells"] == ["cell-1"]


def test_without_waiting_the_answer_is_202_and_the_part_can_be_polled(
    client: TestClient,
) -> None:
    files = [("views", ("V01.tif", view_bytes(seed=4), "image/tiff"))]
    answer = client.post(
        "/api/parts?wait=false", data={"serial": "P-002", "part_type": "generic"}, files=files
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["state"] == "received"
    for _ in range(200):
        polled = client.get(answer.headers["location"]).json()
        if polled["state"] == "sentenced":
            break
        time.sleep(0.05)
    assert polled["state"] == "sentenced" and polled["sentence"]["sentence"]


def test_two_identical_uploads_at_the_same_moment_store_one_part(
    client: TestClient, published: RecordingPublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two identical uploads at the same moment (a retry racing the first, two
    connections) both pass the look for the part already stored before either stores it
    (each look waits for the other): the database keeps one part, and the second answer
    is that part, audited as received again, as for a resend."""
    both_looked = threading.Barrier(2, timeout=30)
    looks = itertools.count()
    look = repo.same_part

    def racing(session: Session, **kwargs: Any) -> PartRow | None:
        found = look(session, **kwargs)
        if next(looks) < 2:  # the first look of each upload: past it together
            both_looked.wait()
        return found

    monkeypatch.setattr(repo, "same_part", racing)
    files = [
        ("views", ("V01.tif", view_bytes(seed=11), "image/tiff")),
        ("views", ("V02.tif", view_bytes(seed=12), "image/tiff")),
    ]

    def post(_: int) -> Any:
        return client.post("/api/parts", data={"serial": "P-RACE", "cell": "cell-1"}, files=files)

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(post, range(2)))
    assert all(a.status_code in (201, 202) for a in answers), [a.text for a in answers]
    [part_id] = {a.json()["id"] for a in answers}
    assert [m.part_id for m in published.wait(1, timeout=60)] == [part_id]
    station = client.app.state.station  # type: ignore[attr-defined]
    with station.sessions() as session:
        assert session.scalars(select(PartRow.id)).all() == [part_id]
        assert session.scalar(select(func.count()).select_from(ViewRow)) == 2
        assert session.scalars(select(SentenceRow.part_id)).all() == [part_id]
        query = select(AuditRow.action, AuditRow.part_id).where(
            AuditRow.action.startswith("part_received")
        )
        audit = [tuple(row) for row in session.execute(query.order_by(AuditRow.id))]
    assert audit == [("part_received", part_id), ("part_received_again", part_id)]
