"""Repositories on a given session, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from castsight.station.store import migrate, repo
from castsight.station.store.engine import session_factory
from castsight.station.store.mappers import MachineSentence
from castsight.station.store.tables import AuditRow, FindingRow, IndicationRow, PartRow

DIGEST = "ab" * 32
RECORD = {
    "serial": "P1",
    "sentence": "NG",
    "findings": [{"rule": "max_pore", "zone": "whole", "view": "V01", "sentence": "NG",
                  "message": "pore 3.1 mm > 2.0 mm", "indications": ["V01#0"]}],
    "views": [{"view": "V01", "status": "inspected", "detector": "local", "error": None,
               "judged_pct": 99.5, "indications": [{"id": "V01#0", "kind": "pore",
               "zone": "whole", "score": 0.9, "eq_diameter_mm": 3.1, "confirmed": None}]}],
    "software": {"castsight": "0.1.0"},
    "plan": {"part_type": "generic", "sha256": "cd" * 32},
    "model": None,
    "inspected_at": "2026-12-02T10:00:00+00:00",
}  # fmt: skip


def test_part_lifecycle(engine: Engine) -> None:
    migrate.upgrade(engine)
    sessions = session_factory(engine)
    with sessions() as session:
        part = repo.add_part(session, serial="P1", cell="c1", part_type="generic",
                             views=[repo.NewView("V01", "V01.tif", DIGEST, 123)])  # fmt: skip
        repo.audit(session, action="part_received", part_id=part.id)
        session.commit()
        part_id = part.id
    with sessions() as session:
        assert [p.id for p in repo.unsentenced(session)] == [part_id]
        loaded = repo.get_part(session, part_id)
        assert loaded is not None
        repo.start_attempt(session, loaded)
        stored = repo.add_sentence(session, loaded, MachineSentence.from_record(RECORD))
        assert stored is not None and stored.reasons == ["pore 3.1 mm > 2.0 mm"]
        again = repo.add_sentence(session, loaded, MachineSentence.not_tested("late"))
        assert again is None  # a part is sentenced once
        session.commit()
    with sessions() as session:
        assert repo.unsentenced(session) == []
        found = repo.latest_by_serial(session, "P1")
        assert found is not None and found.sentence is not None
        assert (found.state, found.attempts, found.sentence.sentence) == ("sentenced", 1, "NG")
        assert found.views[0].status == "inspected" and found.views[0].judged_pct == 99.5
        assert found.sentence.record == RECORD
        assert session.scalar(select(func.count()).select_from(FindingRow)) == 1
        assert session.scalar(select(IndicationRow.eq_diameter_mm)) == 3.1
        assert session.scalar(select(func.count()).select_from(AuditRow)) == 1
        assert [p.serial for p in repo.list_parts(session, cell="c1")] == ["P1"]
        assert repo.list_parts(session, cell="other") == []


def test_not_tested_sentence_is_review_with_its_reason(engine: Engine) -> None:
    migrate.upgrade(engine)
    with session_factory(engine)() as session:
        part = repo.add_part(session, serial="P2", cell="c1", part_type="generic", views=[])
        repo.add_sentence(session, part, MachineSentence.not_tested("worker died"))
        session.commit()
        found = repo.latest_by_serial(session, "P2")
        assert found is not None and found.sentence is not None
        assert (found.sentence.sentence, found.sentence.no_test) == ("REVIEW", True)
        assert session.scalar(select(FindingRow.message)) == "worker died"


def test_plans_and_models_register_once_and_retention_digests(engine: Engine) -> None:
    migrate.upgrade(engine)
    with session_factory(engine)() as session:
        a = repo.register_plan(session, sha256="cd" * 32, name="generic", part_type="generic")
        b = repo.register_plan(session, sha256="cd" * 32, name="generic", part_type="generic")
        m = repo.register_model(session, sha256="ef" * 32, path="/m", part_type=None)
        assert a.id == b.id and m.id
        repo.add_part(session, serial="P3", cell="c1", part_type="generic",
                      views=[repo.NewView("V01", "V01.tif", DIGEST, 1)])  # fmt: skip
        session.commit()
        future = repo.now() + dt.timedelta(days=1)
        assert repo.digests_received_before(session, future) == {DIGEST}
        assert repo.digests_received_before(session, repo.now() - dt.timedelta(days=1)) == set()


def test_the_database_stores_one_reception_once(engine: Engine) -> None:
    """The same serial, cell and views (in any order) is refused by the database, not
    only by :func:`repo.same_part`; other images, another cell or serial are other parts."""
    migrate.upgrade(engine)
    a, b = repo.NewView("V01", "V01.tif", "a" * 64, 10), repo.NewView("V02", "V02.tif", DIGEST, 10)
    sessions = session_factory(engine)
    with sessions() as session:
        first = repo.add_part(session, serial="P1", cell="c1", part_type="generic", views=[a, b])
        for serial, cell, views in (("P1", "c1", [a]), ("P1", "c2", [a, b]), ("P2", "c1", [a, b])):
            repo.add_part(session, serial=serial, cell=cell, part_type="generic", views=views)
        session.commit()
    with sessions() as session:
        with pytest.raises(IntegrityError):
            repo.add_part(session, serial="P1", cell="c1", part_type="generic", views=[b, a])
        session.rollback()
        same = repo.same_part(session, serial="P1", cell="c1", views=[b, a])
        assert same is not None and same.id == first.id
        assert session.scalar(select(func.count()).select_from(PartRow)) == 4
