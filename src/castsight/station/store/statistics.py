"""What the statistics read from the store (on a given session): the parts sentenced
since a time with their views, findings and indication kinds, the reviews given since
then, and the drift alarms' state in the audit trail. Plain SQL through SQLAlchemy's
core constructs: the same on SQLite and PostgreSQL.

>>> import datetime as dt
>>> from castsight.station.store.engine import make_engine, session_factory
>>> from castsight.station.store.migrate import upgrade
>>> from castsight.station.store.mappers import MachineSentence
>>> from castsight.station.store import repo
>>> engine = make_engine("sqlite://")
>>> _ = upgrade(engine)
>>> with session_factory(engine)() as session:
...     part = repo.add_part(session, serial="P1", cell="c1", part_type="t",
...                          views=[repo.NewView("V01", "V01.tif", "ab" * 32, 10)])
...     _ = repo.add_sentence(session, part, MachineSentence.not_tested("timed out"))
...     found = part_outcomes(session, since=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
>>> [(p.sentence, p.views, p.flags[0].zone) for p in found]
[('REVIEW', ('V01',), 'part')]
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, TypeVarTuple

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from castsight.station.statistics import Flag, Measure, PartOutcome, ReviewOutcome, as_aware
from castsight.station.store.tables import (
    AuditRow,
    FindingRow,
    IndicationRow,
    PartRow,
    ReviewRow,
    SentenceRow,
    ViewRow,
)

Row = TypeVarTuple("Row")

DRIFT_STARTED = "drift_alarm"
"""The audit action of a drift alarm that starts."""
DRIFT_CLEARED = "drift_cleared"
"""The audit action of a drift alarm that ends."""


def _since(query: Select[*Row], part_id: Any, since: dt.datetime) -> Select[*Row]:
    """``query`` restricted to parts sentenced at or after ``since``."""
    return query.join(SentenceRow, SentenceRow.part_id == part_id).where(
        SentenceRow.inspected_at >= since
    )


def part_outcomes(session: Session, *, since: dt.datetime) -> list[PartOutcome]:
    """Every part sentenced at or after ``since``, oldest first, with its views, its
    findings and the kinds of its indications (four queries, whatever the count)."""
    parts = session.execute(
        select(PartRow.id, PartRow.part_type, SentenceRow.sentence, SentenceRow.inspected_at)
        .join(SentenceRow, SentenceRow.part_id == PartRow.id)
        .where(SentenceRow.inspected_at >= since)
        .order_by(SentenceRow.inspected_at, PartRow.id)
    ).all()
    views: dict[int, list[str]] = defaultdict(list)
    named = _since(select(ViewRow.part_id, ViewRow.name), ViewRow.part_id, since)
    for part_id, name in session.execute(named.order_by(ViewRow.part_id, ViewRow.position)):
        views[part_id].append(name)
    flags: dict[int, list[Flag]] = defaultdict(list)
    found = _since(
        select(FindingRow.part_id, FindingRow.sentence, FindingRow.view, FindingRow.zone),
        FindingRow.part_id,
        since,
    )
    for part_id, sentence, view, zone in session.execute(found.order_by(FindingRow.id)):
        flags[part_id].append(Flag(sentence, view, zone))
    kinds: dict[int, set[str]] = defaultdict(set)
    typed = _since(
        select(IndicationRow.part_id, IndicationRow.kind).distinct(), IndicationRow.part_id, since
    )
    for part_id, kind in session.execute(typed):
        kinds[part_id].add(kind or "unknown")
    return [
        PartOutcome(
            part_id=part_id,
            part_type=part_type,
            at=as_aware(at),
            sentence=sentence,
            views=tuple(views[part_id]),
            flags=tuple(flags[part_id]),
            kinds=tuple(sorted(kinds[part_id])),
        )
        for part_id, part_type, sentence, at in parts
    ]


def review_outcomes(session: Session, *, since: dt.datetime) -> list[ReviewOutcome]:
    """Every review given at or after ``since``, oldest first."""
    query = (
        select(
            PartRow.part_type, ReviewRow.machine_sentence, ReviewRow.verdict, ReviewRow.overturned
        )
        .join(PartRow, PartRow.id == ReviewRow.part_id)
        .where(ReviewRow.decided_at >= since)
        .order_by(ReviewRow.id)
    )
    return [ReviewOutcome(*row) for row in session.execute(query)]


def drift_states(session: Session) -> dict[tuple[str, Measure], bool]:
    """Per part type and rate, whether the audit trail's last drift line says an alarm
    started (True) or cleared (False); absent: never alarmed."""
    query = (
        select(AuditRow.action, AuditRow.detail)
        .where(AuditRow.action.in_((DRIFT_STARTED, DRIFT_CLEARED)))
        .order_by(AuditRow.id)
    )
    states: dict[tuple[str, Measure], bool] = {}
    for action, detail in session.execute(query):
        try:
            key = (str(detail["part_type"]), Measure(detail["measure"]))
        except (KeyError, TypeError, ValueError):
            continue
        states[key] = action == DRIFT_STARTED
    return states


__all__ = ["DRIFT_CLEARED", "DRIFT_STARTED", "drift_states", "part_outcomes", "review_outcomes"]
