"""Between the pipeline's record (``castsight.record/1``, as a dict) and the rows.

The worker process sends the record as its JSON object, so the store depends on the
record's documented schema, not on the pipeline's classes.

>>> s = MachineSentence.not_tested("inspection timed out after 5 s")
>>> s.sentence, s.no_test, s.reasons
('REVIEW', True, ('inspection timed out after 5 s',))
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from castsight import __version__
from castsight.station.store.tables import FindingRow, IndicationRow, PartRow, SentenceRow

NO_TEST = "REVIEW"
"""The sentence of a part that could not be inspected (NoTest): never OK."""


@dataclass(frozen=True)
class MachineSentence:
    """The machine's sentence of one part, ready to store and signal."""

    sentence: str
    no_test: bool
    reasons: tuple[str, ...]
    record: dict[str, Any] | None
    software: str
    plan_sha256: str | None
    model_sha256: str | None
    inspected_at: dt.datetime

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> MachineSentence:
        """The sentence a record holds; its reasons are its findings' messages."""
        sentence = str(record["sentence"])
        findings = record.get("findings") or []
        errored = any(f.get("rule") == "error" for f in findings)
        return cls(
            sentence=sentence,
            no_test=errored,
            reasons=tuple(str(f["message"]) for f in findings if sentence != "OK"),
            record=record,
            software=str((record.get("software") or {}).get("castsight", __version__)),
            plan_sha256=(record.get("plan") or {}).get("sha256"),
            model_sha256=(record.get("model") or {}).get("sha256"),
            inspected_at=_stamp(record.get("inspected_at")),
        )

    @classmethod
    def not_tested(
        cls, reason: str, *, plan_sha256: str | None = None, model_sha256: str | None = None
    ) -> MachineSentence:
        """REVIEW (NoTest) with ``reason``: the part could not be inspected."""
        return cls(
            sentence=NO_TEST,
            no_test=True,
            reasons=(reason,),
            record=None,
            software=__version__,
            plan_sha256=plan_sha256,
            model_sha256=model_sha256,
            inspected_at=dt.datetime.now(dt.UTC),
        )


def _stamp(text: object) -> dt.datetime:
    if isinstance(text, str):
        try:
            return as_utc(dt.datetime.fromisoformat(text))
        except ValueError:
            pass
    return dt.datetime.now(dt.UTC)


def as_utc(stamp: dt.datetime) -> dt.datetime:
    """``stamp`` in UTC (SQLite gives back naive datetimes: they were stored as UTC)."""
    return stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp.astimezone(dt.UTC)


def sentence_rows(
    part: PartRow, outcome: MachineSentence
) -> tuple[SentenceRow, list[FindingRow], list[IndicationRow]]:
    """The rows of ``outcome`` for ``part``; the part's views get their inspection status."""
    sentence = SentenceRow(
        part=part,
        sentence=outcome.sentence,
        no_test=outcome.no_test,
        reasons=list(outcome.reasons),
        software=outcome.software,
        plan_sha256=outcome.plan_sha256,
        model_sha256=outcome.model_sha256,
        inspected_at=outcome.inspected_at,
        record=outcome.record,
    )
    record = outcome.record or {}
    findings = [
        FindingRow(
            part_id=part.id,
            rule=str(f.get("rule")),
            zone=str(f.get("zone")),
            view=f.get("view"),
            sentence=str(f.get("sentence")),
            message=str(f.get("message")),
        )
        for f in record.get("findings") or []
    ]
    if outcome.record is None:
        findings = [
            FindingRow(
                part_id=part.id,
                rule="no_test",
                zone="part",
                view=None,
                sentence=outcome.sentence,
                message=r,
            )
            for r in outcome.reasons
        ]
    by_name = {v.name: v for v in part.views}
    indications = []
    for view in record.get("views") or []:
        row = by_name.get(str(view.get("view")))
        if row is not None:
            row.status = view.get("status")
            row.detector = view.get("detector")
            row.error = view.get("error")
            row.judged_pct = view.get("judged_pct")
        for ind in view.get("indications") or []:
            indications.append(
                IndicationRow(
                    part_id=part.id,
                    view_id=row.id if row is not None else None,
                    ident=str(ind.get("id")),
                    kind=ind.get("kind"),
                    zone=ind.get("zone"),
                    score=ind.get("score"),
                    eq_diameter_mm=ind.get("eq_diameter_mm"),
                    confirmed=ind.get("confirmed"),
                    data=ind,
                )
            )
    return sentence, findings, indications


__all__ = ["NO_TEST", "MachineSentence", "as_utc", "sentence_rows"]
