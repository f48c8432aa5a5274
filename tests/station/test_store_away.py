"""The database away for a moment (its connections dropped, as when PostgreSQL restarts):
an acknowledged part still ends with its sentence, stored and signalled once, without
waiting for the station's next start (found by benchmarks/station_load.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from castsight.station.main import create_app
from castsight.station.service import retried, transient
from castsight.station.store.tables import SentenceRow
from tests.station.builders import CELL_AUTH, RecordingPublisher, station_settings, view_bytes
from tests.station.test_failsafe import poll, post


@pytest.mark.parametrize("statement", ["INSERT INTO sentences", "UPDATE parts SET attempts"])
def test_a_dropped_connection_delays_the_sentence_and_loses_nothing(
    tmp_path: Path, database_url: str, statement: str
) -> None:
    """The connection dies under the step that starts the inspection or stores the
    sentence: PostgreSQL's own connection terminated (``pg_terminate_backend``), SQLite's
    step failing as a dropped connection does."""
    published = RecordingPublisher()
    settings = station_settings(tmp_path, database_url)
    with TestClient(create_app(settings, publishers=[published]), headers=CELL_AUTH) as client:
        station = client.app.state.station  # type: ignore[attr-defined]
        dropped: list[str] = []

        def drop(_conn: Any, cursor: Any, sql: str, *_args: Any) -> None:
            if sql.startswith(statement) and not dropped:
                dropped.append(sql)
                if station.engine.dialect.name == "postgresql":
                    cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
                else:
                    raise OperationalError(sql, {}, Exception("connection dropped (test)"))

        event.listen(station.engine, "before_cursor_execute", drop)
        answer = post(client, "P-D", [view_bytes()], wait=False)
        assert answer.status_code == 202
        part = poll(client, answer.headers["location"])
        with station.sessions() as session:
            rows = session.scalar(select(func.count()).select_from(SentenceRow))
    assert dropped, "the statement was never run"
    assert part["sentence"]["sentence"] in ("OK", "NG", "REVIEW")
    assert not part["sentence"]["no_test"]
    assert rows == 1
    assert [m.serial for m in published.wait(1)] == ["P-D"]


def test_retried_tries_a_transient_failure_again_and_raises_others() -> None:
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("select 1", {}, Exception("server closed the connection"))
        return "done"

    assert asyncio.run(retried(flaky, what="test", first_s=0.01)) == "done"
    assert len(calls) == 3

    def broken() -> str:
        raise ValueError("a bug, not the database")

    with pytest.raises(ValueError, match="a bug"):
        asyncio.run(retried(broken, what="test", first_s=0.01))
    assert not transient(ValueError())
