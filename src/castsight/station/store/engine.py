"""Engines and sessions, made when the station starts (never at import).

>>> engine = make_engine("sqlite://")
>>> with session_factory(engine)() as session:
...     session.connection().exec_driver_sql("select 1").scalar()
1
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL, foreign keys and a busy timeout.

    Parameters
    ----------
    url : str
        A SQLAlchemy URL: ``sqlite:///PATH`` (the embedded default) or
        ``postgresql+psycopg://USER@HOST:PORT/DB``.

    Returns
    -------
    Engine
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on ``engine`` (objects stay readable after commit)."""
    return sessionmaker(engine, expire_on_commit=False)


__all__ = ["make_engine", "session_factory"]
