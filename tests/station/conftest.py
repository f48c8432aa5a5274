"""The station's fixtures: databases on SQLite in tmp_path and on the machine's real
PostgreSQL (a fresh database per test run, dropped after). PostgreSQL unreachable is a
failure, never a skip: CI must exercise it (``CASTSIGHT_TEST_POSTGRES`` names another
server)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from castsight.station.store.engine import make_engine

POSTGRES = os.environ.get(
    "CASTSIGHT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _admin_engine() -> Engine:
    """An autocommit engine on the server's maintenance database, or a failure."""
    url = make_url(POSTGRES)
    for user in (url.username, "postgres", "root"):
        engine = create_engine(url.set(username=user), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text("select 1"))
            return engine
        except Exception as err:  # try the next user, then fail
            last = err
            engine.dispose()
    pytest.fail(f"PostgreSQL at {url.render_as_string()} unreachable: {last}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run (dropped after)."""
    admin = _admin_engine()
    name = f"castsight_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _reset_postgres(url: str) -> None:
    """Empty the test database: drop and recreate its public schema."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: SQLite in tmp_path, or the run's PostgreSQL database emptied."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'station.db'}"
    url: str = request.getfixturevalue("postgres_url")
    _reset_postgres(url)
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the empty database (disposed after)."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()
