"""Migrations: empty database to head and back; head matches the tables exactly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from castsight.errors import CastsightError
from castsight.station.store import migrate, repo
from castsight.station.store.engine import session_factory
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


def test_0004_goes_back_with_a_review_that_names_a_user(engine: Engine) -> None:
    """Back from head to 0003 with a user whose name a review carries: the column goes,
    the user and the review stay (a table rebuild under foreign keys refused this)."""
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (name, role, password_hash, created_at) "
                          "VALUES ('ada', 'inspector', 'h', CURRENT_TIMESTAMP)"))  # fmt: skip
        conn.execute(text("INSERT INTO parts (serial, cell, part_type, state, attempts, "
                          "received_at) VALUES ('S1', 'c1', 'wheel', 'sentenced', 1, "
                          "CURRENT_TIMESTAMP)"))  # fmt: skip
        conn.execute(text("INSERT INTO reviews (part_id, user_id, verdict, decided_at) SELECT "
                          "p.id, u.id, 'OK', CURRENT_TIMESTAMP FROM parts p, users u"))  # fmt: skip
    migrate.downgrade(engine, "0003")
    assert "session_generation" not in {c["name"] for c in inspect(engine).get_columns("users")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM reviews")).scalar() == 1
        assert conn.execute(text("SELECT name FROM users")).scalars().all() == ["ada"]


def test_0005_digests_the_parts_stored_and_keeps_a_copy_stored_twice(engine: Engine) -> None:
    """From 0004 (three parts, one stored twice by the race 0005 closes, one without
    views) to 0005: each part gets its reception digest, the later copy keeps None,
    nothing is deleted; a part stored before is then recognised when received again
    and refused by the database when stored again; and back to 0004, rows kept."""
    migrate.upgrade(engine, "0004")
    with engine.begin() as conn:
        for serial, views in (("P1", [("V02", "b"), ("V01", "a")]), ("P1", [("V01", "a"),
                              ("V02", "b")]), ("P2", [("V01", "c")]), ("P3", [])):  # fmt: skip
            part_id = conn.execute(
                text(
                    "INSERT INTO parts (serial, cell, part_type, state, attempts, received_at) "
                    "VALUES (:serial, 'c1', 'generic', 'sentenced', 1, CURRENT_TIMESTAMP) "
                    "RETURNING id"
                ),
                {"serial": serial},
            ).scalar_one()
            for k, (name, digest) in enumerate(views):
                conn.execute(
                    text(
                        "INSERT INTO views (part_id, position, name, filename, sha256, "
                        "size_bytes) VALUES (:part, :k, :name, :name, :sha, 10)"
                    ),
                    {"part": part_id, "k": k, "name": name, "sha": digest * 64},
                )
    assert migrate.upgrade(engine) == migrate.head()
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, reception_sha256 FROM parts ORDER BY id")).all()
    expected = [
        repo.reception_digest("P1", "c1", [repo.NewView("V01", "", "a" * 64, 0),
                                           repo.NewView("V02", "", "b" * 64, 0)]),
        None,
        repo.reception_digest("P2", "c1", [repo.NewView("V01", "", "c" * 64, 0)]),
        repo.reception_digest("P3", "c1", []),
    ]  # fmt: skip
    assert [r[1] for r in rows] == expected
    with session_factory(engine)() as session:
        views = [repo.NewView("V01", "V01.tif", "c" * 64, 10)]
        same = repo.same_part(session, serial="P2", cell="c1", views=views)
        assert same is not None and same.id == rows[2][0]
        with pytest.raises(IntegrityError):
            repo.add_part(session, serial="P2", cell="c1", part_type="generic", views=views)
    migrate.downgrade(engine, "0004")
    assert "reception_sha256" not in {c["name"] for c in inspect(engine).get_columns("parts")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM parts")).scalar() == 4
        assert conn.execute(text("SELECT count(*) FROM views")).scalar() == 5
