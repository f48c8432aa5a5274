"""The statistics' queries and the drift alarm's audit lines, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select

from castsight.station.monitor import StatisticsService
from castsight.station.settings import StatisticsSettings
from castsight.station.statistics import Flag, Measure
from castsight.station.store import statistics as queries
from castsight.station.store.engine import session_factory
from castsight.station.store.tables import AuditRow
from tests.station.history import Seeded, drifting, seed_history

NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)


def test_outcomes_in_the_window_with_views_findings_kinds_and_reviews(engine: Engine) -> None:
    old = Seeded("NG", NOW - dt.timedelta(days=40), part_type="other")
    hours = [dt.timedelta(hours=h) for h in (3, 2, 1)]
    parts = [old, *(Seeded(s, NOW - h) for s, h in zip(("NG", "OK", "REVIEW"), hours, strict=True))]
    seed_history(engine, parts, reviews=[(1, "accepted"), (3, "rejected"), (0, "rejected")])
    since = NOW - dt.timedelta(days=30)
    with session_factory(engine)() as session:
        found = queries.part_outcomes(session, since=since)
        reviews = queries.review_outcomes(session, since=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    assert [(p.part_id, p.sentence, p.part_type) for p in found] == [
        (2, "NG", "generic"),
        (3, "OK", "generic"),
        (4, "REVIEW", "generic"),
    ]
    ng, ok, review = found
    assert ng.at == NOW - dt.timedelta(hours=3) and ng.at.tzinfo is not None
    assert ng.views == ("V01", "V02") and ng.flags == (Flag("NG", "V01", "boss"),)
    assert (ng.kinds, ok.flags, ok.kinds, review.kinds) == (("pore",), (), (), ("crack",))
    assert [(r.machine_sentence, r.verdict, r.overturned) for r in reviews] == [
        ("NG", "accepted", True),
        ("REVIEW", "rejected", False),
        ("NG", "rejected", False),
    ]


def test_a_drift_alarm_is_audited_once_when_it_starts_and_once_when_it_clears(
    engine: Engine,
) -> None:
    seed_history(engine, drifting(NOW))
    settings = StatisticsSettings(subgroup_parts=10, baseline_subgroups=4, timezone="UTC")
    service = StatisticsService(session_factory(engine), settings)
    found = service.refresh(now=NOW)
    (alarm,) = found.alarms
    assert (alarm.part_type, alarm.measure, alarm.rate) == ("generic", Measure.NG, 0.8)
    assert alarm.centre == 0.1 and round(alarm.ucl, 4) == 0.3846  # 0.1 + 3 sqrt(0.009)
    service.refresh(now=NOW)  # still active: no second line
    assert service.current().alarms == found.alarms

    back = [Seeded("NG" if k == 0 else "OK", NOW - dt.timedelta(minutes=30 - k)) for k in range(10)]
    seed_history(engine, back)
    assert service.refresh(now=NOW).alarms == ()
    service.refresh(now=NOW)
    with session_factory(engine)() as session:
        lines = session.execute(
            select(AuditRow.action, AuditRow.actor, AuditRow.detail)
            .where(AuditRow.action.in_((queries.DRIFT_STARTED, queries.DRIFT_CLEARED)))
            .order_by(AuditRow.id)
        ).all()
        states = queries.drift_states(session)
    assert [(a, who) for a, who, _ in lines] == [
        ("drift_alarm", "station"),
        ("drift_cleared", "station"),
    ]
    assert lines[0][2]["measure"] == "NG" and lines[0][2]["since"] == lines[0][2]["subgroup"]
    assert states == {("generic", Measure.NG): False}
