"""The HTTP shapes (pydantic), apart from the tables, and the mapping from rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel

from castsight.station.store.mappers import as_utc
from castsight.station.store.tables import PartRow


class ViewOut(BaseModel):
    """One view as received and as inspected."""

    name: str
    filename: str
    sha256: str
    size_bytes: int
    status: str | None
    detector: str | None
    error: str | None


class SentenceOut(BaseModel):
    """The machine's sentence of a part and its provenance."""

    sentence: str
    no_test: bool
    reasons: list[str]
    software: str
    plan_sha256: str | None
    model_sha256: str | None
    inspected_at: dt.datetime


class PartOut(BaseModel):
    """A part: as received, how far it got, and its sentence once there is one."""

    id: int
    url: str
    serial: str
    cell: str
    part_type: str
    state: str
    attempts: int
    received_at: dt.datetime
    sentenced_at: dt.datetime | None
    sentence: SentenceOut | None
    views: list[ViewOut]
    record: dict[str, Any] | None = None
    """The ``castsight.record/1`` object (single-part answers only)."""


def part_url(part_id: int) -> str:
    """Where a part is polled."""
    return f"/api/parts/{part_id}"


def part_out(row: PartRow, *, record: bool = False) -> PartOut:
    """The HTTP shape of ``row`` (``record``: with the full inspection record)."""
    s = row.sentence
    return PartOut(
        id=row.id,
        url=part_url(row.id),
        serial=row.serial,
        cell=row.cell,
        part_type=row.part_type,
        state=row.state,
        attempts=row.attempts,
        received_at=as_utc(row.received_at),
        sentenced_at=as_utc(row.sentenced_at) if row.sentenced_at else None,
        sentence=None
        if s is None
        else SentenceOut(
            sentence=s.sentence,
            no_test=s.no_test,
            reasons=list(s.reasons),
            software=s.software,
            plan_sha256=s.plan_sha256,
            model_sha256=s.model_sha256,
            inspected_at=as_utc(s.inspected_at),
        ),
        views=[
            ViewOut(
                name=v.name,
                filename=v.filename,
                sha256=v.sha256,
                size_bytes=v.size_bytes,
                status=v.status,
                detector=v.detector,
                error=v.error,
            )
            for v in row.views
        ],
        record=s.record if (record and s is not None) else None,
    )


__all__ = ["PartOut", "SentenceOut", "ViewOut", "part_out", "part_url"]
