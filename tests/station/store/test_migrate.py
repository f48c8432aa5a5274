"""Migrations: empty database to head and back; head matches the tables exactly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from castsight.errors import CastsightError
from castsight.station.store import migrate
from castsight.station.store.tables import Base

TABLES = {"parts", "views", "indications", "findings", "sentences", "reviews", "models",
          "model_activations", "plans", "users", "audit"}  # fmt: skip


def test_empty_database_to_head_has_no_autogenerate_diff(engine: Engine) -> None:
    assert migrate.current(engine) is None
    assert migrate.upgrade(engine) == migrate.head()
    assert set(inspect(engine).get_table_names()) >= TABLES
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []


def test_upgrade_is_idempotent_and_downgrade_empties(engine: Engine) -> None:
    migrate.upgrade(engine)
    assert migrate.upgrade(engine) == migrate.head()
    migrate.downgrade(engine)
    assert not TABLES & set(inspect(engine).get_table_names())
    assert migrate.upgrade(engine) == migrate.head()


def test_unknown_revision_is_refused(engine: Engine) -> None:
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dcafe'"))
    with pytest.raises(CastsightError, match="unknown to this castsight"):
        migrate.upgrade(engine)


def test_0003_adds_model_activations_and_keeps_the_models(engine: Engine) -> None:
    """From 0002 (a model registered) to 0003 and back: the models stay."""
    migrate.upgrade(engine, "0002")
    assert "model_activations" not in inspect(engine).get_table_names()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO models (sha256, path, part_type, registered_at) "
                "VALUES (:sha, '/m/a', 'wheel', CURRENT_TIMESTAMP)"
            ),
            {"sha": "a" * 64},
        )
    assert migrate.upgrade(engine) == migrate.head()
    assert "model_activations" in inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT path FROM models")).scalars().all() == ["/m/a"]
    migrate.downgrade(engine, "0002")
    assert "model_activations" not in inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM models")).scalar() == 1


def test_0004_gives_each_user_session_generation_0_and_keeps_the_users(engine: Engine) -> None:
    """From 0003 (a user) to 0004 and back: the user stays, at session generation 0."""
    migrate.upgrade(engine, "0003")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (name, role, password_hash, created_at) "
                "VALUES ('ada', 'inspector', 'h', CURRENT_TIMESTAMP)"
            )
        )
    assert migrate.upgrade(engine) == migrate.head()
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT name, session_generation FROM users")).all()
    assert [tuple(r) for r in rows] == [("ada", 0)]
    migrate.downgrade(engine, "0003")
    columns = {c["name"] for c in inspect(engine).get_columns("users")}
    assert "session_generation" not in columns and "active" in columns
