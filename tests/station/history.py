"""Seeded history for the statistics' tests: sentenced parts at chosen times, written
through the store's repositories (records with findings in zones and views)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from castsight.station.store import migrate, repo
from castsight.station.store.engine import session_factory
from castsight.station.store.mappers import MachineSentence
from castsight.station.store.reviews import add_review
from castsight.station.store.tables import PartRow

VIEWS = ("V01", "V02")
ZONES = {"NG": ("boss", "V01"), "REVIEW": ("rib", "V02")}
"""The zone and view of a part's finding, by its sentence."""


@dataclass(frozen=True)
class Seeded:
    """A part to store: its sentence and time (and part type)."""

    sentence: str
    at: dt.datetime
    part_type: str = "generic"


def record(serial: str, sentence: str) -> dict[str, object]:
    """A ``castsight.record/1``-like record: an NG part has a pore in ``boss`` (V01), a
    REVIEW part a crack in ``rib`` (V02), an OK part nothing."""
    findings = []
    indications: dict[str, list[dict[str, object]]] = {v: [] for v in VIEWS}
    if sentence in ZONES:
        zone, view = ZONES[sentence]
        kind = "pore" if sentence == "NG" else "crack"
        findings.append(
            {"rule": "max_size", "zone": zone, "view": view, "sentence": sentence,
             "message": f"{view}#0: {kind} ({sentence})"}
        )  # fmt: skip
        indications[view].append(
            {"id": f"{view}#0", "bbox": [30.0, 40.0, 8.0, 6.0], "kind": kind, "zone": zone}
        )
    return {
        "serial": serial,
        "sentence": sentence,
        "findings": findings,
        "views": [{"view": v, "status": "inspected", "indications": indications[v]} for v in VIEWS],
    }


def seed_history(
    engine: Engine, parts: Sequence[Seeded], *, reviews: Sequence[tuple[int, str]] = ()
) -> list[int]:
    """Store ``parts`` (schema upgraded first) and ``reviews`` (index into ``parts``,
    verdict); the parts' ids. Serials and view digests go on from the parts already
    stored (a reception is stored once)."""
    migrate.upgrade(engine)
    ids = []
    with session_factory(engine)() as session:
        stored = session.scalar(select(func.count()).select_from(PartRow)) or 0
        for k, p in enumerate(parts, start=stored):
            views = [repo.NewView(v, f"{v}.tif", f"{k:04d}" * 16, 10) for v in VIEWS]
            row = repo.add_part(
                session, serial=f"S{k:05d}", cell="cell-1", part_type=p.part_type, views=views
            )
            outcome = MachineSentence(
                sentence=p.sentence,
                no_test=False,
                reasons=(),
                record=record(row.serial, p.sentence),
                software="test",
                plan_sha256="ab" * 32,
                model_sha256=None,
                inspected_at=p.at,
            )
            repo.add_sentence(session, row, outcome)
            ids.append(row.id)
        for index, verdict in reviews:
            found = repo.get_part(session, ids[index])
            assert found is not None
            machine = parts[index].sentence
            overturned = (machine, verdict) in {("NG", "accepted"), ("OK", "rejected")}
            add_review(session, found, user_id=None, verdict=verdict, reason="seeded",
                       machine_sentence=machine, overturned=overturned)  # fmt: skip
        session.commit()
    return ids


def drifting(now: dt.datetime, *, per_group: int = 10, groups: int = 5) -> list[Seeded]:
    """``groups`` runs of ``per_group`` parts, an hour apart, ending an hour before
    ``now``: one NG and one REVIEW each, then 8 NG in the last one (a drift: with
    subgroups of ``per_group`` parts and a baseline of ``groups - 1``, the last is far
    over the NG limit)."""
    parts = []
    start = now - dt.timedelta(hours=groups + 1)
    for g in range(groups):
        bad = 8 if g == groups - 1 else 1
        for k in range(per_group):
            sentence = "NG" if k < bad else ("REVIEW" if k == per_group - 1 else "OK")
            parts.append(Seeded(sentence, start + dt.timedelta(hours=g, minutes=k)))
    return parts


def production(now: dt.datetime, *, shifts: int = 30, seed: int = 0) -> list[Seeded]:
    """``shifts`` 8-hour shifts (06/14/22 UTC) ending at the last shift start before
    ``now``: ``generic`` parts (16 a shift, 5 % NG, 8 % REVIEW, then 40 % NG in the last
    two shifts: a drift) and ``wheel`` parts (12 a shift, 3 % NG, 5 % REVIEW), seeded."""
    import numpy as np

    rng = np.random.default_rng(seed)
    last = now.replace(minute=0, second=0, microsecond=0)
    while last.hour not in (6, 14, 22):
        last -= dt.timedelta(hours=1)
    first = last - dt.timedelta(hours=8 * shifts)
    parts = []
    for s in range(shifts):
        start = first + dt.timedelta(hours=8 * s)
        for part_type, count, ng, review in (
            ("generic", 16, 0.05, 0.08),
            ("wheel", 12, 0.03, 0.05),
        ):
            if part_type == "generic" and s >= shifts - 2:
                ng = 0.4
            for k in range(count):
                draw = rng.random()
                sentence = "NG" if draw < ng else ("REVIEW" if draw < ng + review else "OK")
                at = start + dt.timedelta(hours=8 * (k + 0.5) / count)
                parts.append(Seeded(sentence, at, part_type))
    return sorted(parts, key=lambda p: p.at)
