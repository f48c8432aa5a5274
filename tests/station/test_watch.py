"""The watched folder: a part is taken only once complete and settled (a half-written
view is never read), then received and inspected as over HTTP, its folder moved to
processed/; a refused part goes to failed/ with the reason; a kill between storing a part
and moving its folder does not store it twice."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from castsight.station import intake
from castsight.station.intake import PartUpload
from castsight.station.main import create_app
from castsight.station.settings import CellSettings, WatchSettings
from castsight.station.store import migrate
from castsight.station.store.archive import ImageArchive
from castsight.station.store.engine import make_engine, session_factory
from castsight.station.store.tables import AuditRow, PartRow
from castsight.station.watch import FolderWatcher, complete
from tests.station.builders import CELL_AUTH, station_settings, view_bytes


def watched(tmp_path: Path, **changes: Any) -> tuple[Path, Any]:
    folder = tmp_path / "watch"
    settings = station_settings(tmp_path, f"sqlite:///{tmp_path / 's.db'}")
    cell = settings.cells[0].model_copy(
        update={"watch": WatchSettings(path=folder, poll_s=0.05, settle_s=0.5), **changes}
    )
    return folder, settings.model_copy(update={"cells": [cell]})


def wait_for(predicate: Any, timeout_s: float = 60.0) -> None:
    end = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def test_complete_by_manifest_marker_or_expected_views(tmp_path: Path) -> None:
    part = tmp_path / "P1"
    part.mkdir()
    (part / "V01.tif").write_bytes(b"x")
    assert not complete(part, None) and not complete(part, ["V01", "V02"])
    assert complete(part, ["V01"])
    (part / "manifest.json").write_text('{"views": ["V01.tif", "V02.tif"]')  # half written
    assert not complete(part, ["V01"])
    (part / "manifest.json").write_text('{"views": ["V01.tif", "V02.tif"]}')
    assert not complete(part, ["V01"])
    (part / "V02.tif").write_bytes(b"x")
    assert complete(part, None)
    (part / "manifest.json").unlink()
    (part / ".done").touch()
    assert complete(part, None)


def test_a_part_written_slowly_is_taken_once_settled(tmp_path: Path) -> None:
    folder, settings = watched(tmp_path, expected_views=["V01", "V02"])
    views = [view_bytes(seed=1), view_bytes(seed=2)]
    part = folder / "P-W1"
    part.mkdir(parents=True)
    with TestClient(create_app(settings), headers=CELL_AUTH) as client:
        (part / "V01.tif").write_bytes(views[0])
        with (part / "V02.tif").open("wb") as handle:  # written slowly: never taken early
            for k in range(0, len(views[1]), len(views[1]) // 8):
                handle.write(views[1][k : k + len(views[1]) // 8])
                handle.flush()
                time.sleep(0.2)
                assert part.is_dir() and not (folder / "processed").exists()
        wait_for(lambda: (folder / "processed").exists())
        assert not part.exists()
        [moved] = (folder / "processed").iterdir()
        part_id = int(moved.name.split("-", 1)[0])
        wait_for(lambda: client.get(f"/api/parts/{part_id}").json()["state"] == "sentenced")
        got = client.get(f"/api/parts/{part_id}").json()
    assert got["serial"] == "P-W1" and got["cell"] == "cell-1"
    assert sorted(v["name"] for v in got["views"]) == ["V01", "V02"]
    assert got["sentence"]["sentence"] in {"OK", "NG", "REVIEW"}
    assert not got["sentence"]["no_test"]


def test_a_refused_part_goes_to_failed_with_the_reason(tmp_path: Path) -> None:
    folder, settings = watched(tmp_path)
    part = folder / "P-BAD"
    part.mkdir(parents=True)
    (part / "V01.tif").write_bytes(b"not an image at all")
    (part / ".done").touch()
    received: list[object] = []
    cell: CellSettings = settings.cells[0]
    watcher = FolderWatcher(cell, lambda u: received.append(u) or 1, lambda _: None)
    assert watcher.ready() == []  # first look: not yet settled
    time.sleep(0.6)
    [ready] = watcher.ready()
    assert watcher.take(ready) == 1 and received  # the watcher does not check: receive does
    part.mkdir()
    (part / "V01.tif").write_bytes(b"not an image at all")
    (part / ".done").touch()
    with TestClient(create_app(settings)):
        wait_for(lambda: (folder / "failed").exists())
    [failed] = (folder / "failed").iterdir()
    assert failed.name.startswith("P-BAD-")
    assert "TIFF" in (failed / "reason.txt").read_text()


class Killed(BaseException):
    """The process killed at this point (nothing after it runs)."""


def test_a_kill_between_storing_and_moving_does_not_store_the_part_twice(
    tmp_path: Path, database_url: str, request: pytest.FixtureRequest
) -> None:
    folder = tmp_path / "watch"
    settings = station_settings(tmp_path, database_url)
    cell = settings.cells[0].model_copy(
        update={"watch": WatchSettings(path=folder, poll_s=0.05, settle_s=0.5)}
    )
    engine = make_engine(settings.storage.database())
    request.addfinalizer(engine.dispose)
    migrate.upgrade(engine)
    sessions = session_factory(engine)
    archive = ImageArchive(settings.storage.archive())

    def receive(upload: PartUpload) -> int:
        with sessions() as session:
            return intake.receive(session, upload, settings=settings, archive=archive)

    part = folder / "P-K1"
    part.mkdir(parents=True)
    (part / "V01.tif").write_bytes(view_bytes(seed=1))
    (part / "V02.tif").write_bytes(view_bytes(seed=2))
    (part / ".done").touch()
    now = [0.0]
    scheduled: list[int] = []
    first = FolderWatcher(cell, receive, scheduled.append, clock=lambda: now[0])

    def killed(*_: object) -> Path:
        raise Killed

    first._move = killed  # type: ignore[method-assign]
    assert first.ready() == []
    now[0] = 1.0
    [ready] = first.ready()
    with pytest.raises(Killed):  # stored (acknowledged), then killed before the move
        first.take(ready)
    assert part.is_dir()

    again = FolderWatcher(cell, receive, scheduled.append, clock=lambda: now[0])  # restarted
    assert again.ready() == []
    now[0] = 2.0
    [ready] = again.ready()
    part_id = again.take(ready)
    with sessions() as session:
        parts = session.scalars(select(PartRow)).all()
        actions = [a.action for a in session.scalars(select(AuditRow).order_by(AuditRow.id))]
        assert [(p.id, p.serial, len(p.views)) for p in parts] == [(part_id, "P-K1", 2)]
    assert actions == ["part_received", "part_received_again"]
    assert not part.exists() and (folder / "processed" / f"{part_id}-P-K1").is_dir()
    # a part X-rayed again (other images) is another part
    part.mkdir()
    (part / "V01.tif").write_bytes(view_bytes(seed=3))
    (part / "V02.tif").write_bytes(view_bytes(seed=4))
    (part / ".done").touch()
    assert again.ready() == []
    now[0] = 3.0
    [ready] = again.ready()
    assert again.take(ready) == part_id + 1
