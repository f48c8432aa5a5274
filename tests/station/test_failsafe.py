"""Never OK without an inspection: a timeout or a dead worker is REVIEW (NoTest) with the
reason; parts acknowledged but not sentenced are inspected at the next start."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from castsight.station import intake
from castsight.station.main import create_app
from castsight.station.store import migrate
from castsight.station.store.archive import ImageArchive
from castsight.station.store.engine import make_engine, session_factory
from tests.station.builders import CELL_AUTH, RecordingPublisher, station_settings, view_bytes


def poll(client: TestClient, url: str, timeout_s: float = 60.0) -> dict[str, Any]:
    """The part at ``url`` once sentenced."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        part: dict[str, Any] = client.get(url).json()
        if part["state"] == "sentenced":
            return part
        time.sleep(0.05)
    raise AssertionError(f"{url} not sentenced within {timeout_s} s")


def post(client: TestClient, serial: str, views: list[bytes], wait: bool = True) -> Any:
    files = [("views", (f"V{k + 1:02d}.tif", data, "image/tiff")) for k, data in enumerate(views)]
    return client.post(
        f"/api/parts?wait={str(wait).lower()}",
        data={"serial": serial, "cell": "cell-1"},
        files=files,
    )


def test_timeout_is_review_no_test_never_ok(tmp_path: Path) -> None:
    published = RecordingPublisher()
    settings = station_settings(
        tmp_path, f"sqlite:///{tmp_path / 's.db'}", inspection_timeout_s=0.001
    )
    with TestClient(create_app(settings, publishers=[published]), headers=CELL_AUTH) as client:
        answer = post(client, "P-T", [view_bytes()])
        part = poll(client, answer.headers["location"])
    assert part["sentence"]["sentence"] == "REVIEW" and part["sentence"]["no_test"]
    assert part["sentence"]["reasons"] == ["inspection timed out after 0.001 s"]
    assert [(m.sentence, m.no_test) for m in published.wait(1)] == [("REVIEW", True)]


def test_a_dead_worker_is_review_no_test_and_the_pool_recovers(tmp_path: Path) -> None:
    settings = station_settings(tmp_path, f"sqlite:///{tmp_path / 's.db'}")
    big = [view_bytes(seed=k, size=1536) for k in range(3)]
    with TestClient(create_app(settings), headers=CELL_AUTH) as client:
        pool = client.app.state.station.service.pool  # type: ignore[attr-defined]
        answer = post(client, "P-K", big, wait=False)
        end = time.monotonic() + 30
        while not pool.worker_pids() and time.monotonic() < end:
            time.sleep(0.01)
        time.sleep(0.2)
        for pid in pool.worker_pids():
            os.kill(pid, signal.SIGKILL)
        killed = poll(client, answer.headers["location"])
        after = post(client, "P-L", [view_bytes(seed=9)])
    assert killed["sentence"]["sentence"] == "REVIEW" and killed["sentence"]["no_test"]
    assert "BrokenProcessPool" in killed["sentence"]["reasons"][0]
    assert after.status_code == 201 and not after.json()["sentence"]["no_test"]


def test_acknowledged_parts_are_inspected_at_the_next_start(
    tmp_path: Path, database_url: str
) -> None:
    """As after kill -9: parts committed (acknowledged), no sentence, then a start."""
    settings = station_settings(tmp_path, database_url)
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    archive = ImageArchive(settings.storage.archive())
    with session_factory(engine)() as session:
        ids = [
            intake.receive(
                session,
                intake.PartUpload(
                    f"P-{k}", "cell-1", None, (intake.UploadedView("V01.tif", view_bytes(seed=k)),)
                ),
                settings=settings,
                archive=archive,
            )
            for k in range(2)
        ]
    engine.dispose()
    published = RecordingPublisher()
    with TestClient(create_app(settings, publishers=[published]), headers=CELL_AUTH) as client:
        parts = [poll(client, f"/api/parts/{i}") for i in ids]
    assert [(p["serial"], p["attempts"]) for p in parts] == [("P-0", 1), ("P-1", 1)]
    assert all(p["sentence"]["sentence"] in ("OK", "NG", "REVIEW") for p in parts)
    assert sorted(m.serial for m in published.wait(2)) == ["P-0", "P-1"]
