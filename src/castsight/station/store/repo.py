"""Queries on a given session: the caller opens it, commits it and closes it.

>>> from castsight.station.store.engine import make_engine, session_factory
>>> from castsight.station.store.migrate import upgrade
>>> engine = make_engine("sqlite://")
>>> _ = upgrade(engine)
>>> with session_factory(engine)() as session:
...     part = add_part(session, serial="P1", cell="c1", part_type="generic",
...                     views=[NewView("V01", "V01.tif", "ab" * 32, 10)])
...     session.commit()
...     [p.serial for p in unsentenced(session)], latest_by_serial(session, "P1").id
(['P1'], 1)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from castsight import __version__
from castsight.station.store.mappers import MachineSentence, sentence_rows
from castsight.station.store.tables import (
    AuditRow,
    ModelRow,
    PartRow,
    PlanRow,
    SentenceRow,
    ViewRow,
)

RECEIVED = "received"
"""Acknowledged and durable, not yet sentenced (inspected again after a restart)."""
SENTENCED = "sentenced"


@dataclass(frozen=True)
class NewView:
    """A view as received: its name, the uploaded file name, its archive digest, size."""

    name: str
    filename: str
    sha256: str
    size_bytes: int


def now() -> dt.datetime:
    """The time stored: UTC."""
    return dt.datetime.now(dt.UTC)


def reception_digest(serial: str, cell: str, views: Sequence[NewView]) -> str:
    """The sha256 of what identifies one reception: the serial, the cell and the views'
    names and sha256s (in any order). Two uploads with the same digest are the same part
    received twice; a part X-rayed again has other images, another digest.

    >>> a, b = NewView("V01", "V01.tif", "ab" * 32, 10), NewView("V02", "x.png", "cd" * 32, 20)
    >>> reception_digest("P1", "c1", [a, b]) == reception_digest("P1", "c1", [b, a])
    True
    >>> reception_digest("P1", "c1", [a, b]) == reception_digest("P1", "c2", [a, b])
    False
    """
    pairs = sorted([v.name, v.sha256] for v in views)
    text = json.dumps([serial, cell, pairs], separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def add_part(
    session: Session, *, serial: str, cell: str, part_type: str, views: Sequence[NewView]
) -> PartRow:
    """A received part with its views (flushed: it has its id; the caller commits).

    Raises
    ------
    sqlalchemy.exc.IntegrityError
        A part with the same :func:`reception_digest` is stored (committed by another
        receiver since the caller looked with :func:`same_part`); the session must be
        rolled back.
    """
    part = PartRow(
        serial=serial,
        cell=cell,
        part_type=part_type,
        state=RECEIVED,
        attempts=0,
        received_at=now(),
        reception_sha256=reception_digest(serial, cell, views),
    )
    part.views = [
        ViewRow(
            position=k, name=v.name, filename=v.filename, sha256=v.sha256, size_bytes=v.size_bytes
        )
        for k, v in enumerate(views)
    ]
    session.add(part)
    session.flush()
    return part


def _parts() -> Any:
    return select(PartRow).options(selectinload(PartRow.views), selectinload(PartRow.sentence))


def get_part(session: Session, part_id: int) -> PartRow | None:
    """The part ``part_id`` with its views and sentence, or None."""
    found: PartRow | None = session.scalars(_parts().where(PartRow.id == part_id)).first()
    return found


def latest_by_serial(session: Session, serial: str) -> PartRow | None:
    """The last part received with ``serial`` (a part X-rayed again has several)."""
    query = _parts().where(PartRow.serial == serial).order_by(PartRow.id.desc()).limit(1)
    found: PartRow | None = session.scalars(query).first()
    return found


def same_part(
    session: Session, *, serial: str, cell: str, views: Sequence[NewView]
) -> PartRow | None:
    """The part of ``cell`` with ``serial`` whose views are exactly ``views`` (the same
    names and sha256s: the same :func:`reception_digest`), or None. Identical image bytes
    are the same upload received again (a part X-rayed again has other noise, other
    hashes), e.g. after a crash between storing a part and taking its files away."""
    digest = reception_digest(serial, cell, views)
    found: PartRow | None = session.scalars(
        _parts().where(PartRow.reception_sha256 == digest)
    ).first()
    return found


def list_parts(
    session: Session, *, cell: str | None = None, limit: int = 100, offset: int = 0
) -> list[PartRow]:
    """Parts, newest first, of one cell or all."""
    query = _parts().order_by(PartRow.id.desc()).limit(limit).offset(offset)
    if cell is not None:
        query = query.where(PartRow.cell == cell)
    return list(session.scalars(query))


def unsentenced(session: Session) -> list[PartRow]:
    """Parts acknowledged but not sentenced, oldest first."""
    query = _parts().where(PartRow.state == RECEIVED).order_by(PartRow.id)
    return list(session.scalars(query))


def start_attempt(session: Session, part: PartRow) -> None:
    """Count an inspection started for ``part``."""
    part.attempts += 1


def add_sentence(session: Session, part: PartRow, outcome: MachineSentence) -> SentenceRow | None:
    """Store the machine's sentence of ``part`` with its findings and indications; None
    (nothing stored) when the part already has one: a part is sentenced once."""
    stored = session.scalars(select(SentenceRow.id).where(SentenceRow.part_id == part.id)).first()
    if part.sentence is not None or stored is not None:
        return None
    sentence, findings, indications = sentence_rows(part, outcome)
    session.add(sentence)
    session.add_all(findings)
    session.add_all(indications)
    part.state = SENTENCED
    part.sentenced_at = now()
    session.flush()
    return sentence


def register_plan(session: Session, *, sha256: str, name: str, part_type: str) -> PlanRow:
    """The plan of ``sha256``, added if new."""
    row = session.scalars(select(PlanRow).where(PlanRow.sha256 == sha256)).first()
    if row is None:
        row = PlanRow(sha256=sha256, name=name, part_type=part_type, registered_at=now())
        session.add(row)
        session.flush()
    return row


def register_model(session: Session, *, sha256: str, path: str, part_type: str | None) -> ModelRow:
    """The model of ``sha256``, added if new."""
    row = session.scalars(select(ModelRow).where(ModelRow.sha256 == sha256)).first()
    if row is None:
        row = ModelRow(sha256=sha256, path=path, part_type=part_type, registered_at=now())
        session.add(row)
        session.flush()
    return row


def audit(
    session: Session,
    *,
    action: str,
    actor: str = "station",
    part_id: int | None = None,
    detail: dict[str, Any] | None = None,
    plan_sha256: str | None = None,
    model_sha256: str | None = None,
) -> AuditRow:
    """Append one line to the audit trail (never updated, never deleted)."""
    row = AuditRow(
        at=now(),
        actor=actor,
        action=action,
        part_id=part_id,
        detail=detail or {},
        software=__version__,
        plan_sha256=plan_sha256,
        model_sha256=model_sha256,
    )
    session.add(row)
    return row


def digests_received_before(session: Session, cutoff: dt.datetime) -> set[str]:
    """Archive digests only parts received before ``cutoff`` name (retention)."""
    old = set(
        session.scalars(select(ViewRow.sha256).join(PartRow).where(PartRow.received_at < cutoff))
    )
    new = set(
        session.scalars(select(ViewRow.sha256).join(PartRow).where(PartRow.received_at >= cutoff))
    )
    return old - new


__all__ = [
    "RECEIVED",
    "SENTENCED",
    "NewView",
    "add_part",
    "add_sentence",
    "audit",
    "digests_received_before",
    "get_part",
    "latest_by_serial",
    "list_parts",
    "now",
    "reception_digest",
    "register_model",
    "register_plan",
    "same_part",
    "start_attempt",
    "unsentenced",
]
