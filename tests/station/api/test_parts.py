"""POST, list and get parts through the real application (TestClient: lifespan, worker
processes, store on SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from castsight.station.main import create_app
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
