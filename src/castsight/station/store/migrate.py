"""The schema: upgraded to head when the station starts; a database at a revision this
software does not know is refused (a newer castsight wrote it).

>>> from castsight.station.store.engine import make_engine
>>> engine = make_engine("sqlite://")
>>> upgrade(engine) == head()
True
"""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from castsight.errors import CastsightError

SCRIPTS = Path(__file__).with_name("alembic")


def config() -> Config:
    """An Alembic config on the shipped migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    return cfg


def head() -> str:
    """The newest revision this software knows."""
    found = ScriptDirectory.from_config(config()).get_current_head()
    assert found is not None
    return found


def current(engine: Engine) -> str | None:
    """The database's revision (None: an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Migrate the database of ``engine`` to ``revision``; returns the revision reached.

    Raises
    ------
    CastsightError
        The database is at a revision this software does not know.
    """
    from alembic import command

    at = current(engine)
    known = {s.revision for s in ScriptDirectory.from_config(config()).walk_revisions()}
    if at is not None and at not in known:
        raise CastsightError(
            None,
            f"the database is at revision {at}, unknown to this "
            "castsight (a newer one wrote it): refused",
        )
    with engine.begin() as conn:
        cfg = config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    reached = current(engine)
    assert reached is not None
    return reached


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Migrate the database of ``engine`` down to ``revision`` (``base``: empty)."""
    from alembic import command

    with engine.begin() as conn:
        cfg = config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


__all__ = ["current", "downgrade", "head", "upgrade"]
