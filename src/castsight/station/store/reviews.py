"""The review queue and reviews on a given session (the caller commits).

>>> from castsight.station.store.engine import make_engine, session_factory
>>> from castsight.station.store.migrate import upgrade
>>> from castsight.station.store.mappers import MachineSentence
>>> from castsight.station.store import repo
>>> engine = make_engine("sqlite://")
>>> _ = upgrade(engine)
>>> with session_factory(engine)() as session:
...     part = repo.add_part(session, serial="P1", cell="c1", part_type="t", views=[])
...     _ = repo.add_sentence(session, part, MachineSentence.not_tested("timed out"))
...     before = [p.serial for p in queue(session)]
...     _ = add_review(session, part, user_id=None, verdict="rejected", reason=None,
...                    machine_sentence="REVIEW", overturned=False)
...     before, queue(session), [r.verdict for r in reviews_of(session, part.id)]
(['P1'], [], ['rejected'])
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from castsight.station.store.repo import now
from castsight.station.store.tables import PartRow, ReviewRow, SentenceRow

QUEUED = ("REVIEW", "NG")
"""Machine sentences a person reviews."""


def queue(session: Session, *, limit: int = 500) -> list[PartRow]:
    """Sentenced parts whose machine sentence is REVIEW or NG and that nobody has
    reviewed yet, oldest first."""
    reviewed = select(ReviewRow.part_id)
    query = (
        select(PartRow)
        .join(SentenceRow)
        .options(selectinload(PartRow.sentence))
        .where(SentenceRow.sentence.in_(QUEUED), PartRow.id.not_in(reviewed))
        .order_by(PartRow.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def add_review(
    session: Session,
    part: PartRow,
    *,
    user_id: int | None,
    verdict: str,
    reason: str | None,
    machine_sentence: str | None,
    overturned: bool,
) -> ReviewRow:
    """Store a person's verdict beside the machine's sentence (flushed)."""
    row = ReviewRow(
        part_id=part.id,
        user_id=user_id,
        verdict=verdict,
        reason=reason,
        decided_at=now(),
        machine_sentence=machine_sentence,
        overturned=overturned,
    )
    session.add(row)
    session.flush()
    return row


def reviews_of(session: Session, part_id: int) -> list[ReviewRow]:
    """The reviews of part ``part_id``, oldest first."""
    query = select(ReviewRow).where(ReviewRow.part_id == part_id).order_by(ReviewRow.id)
    return list(session.scalars(query))


__all__ = ["QUEUED", "add_review", "queue", "reviews_of"]
