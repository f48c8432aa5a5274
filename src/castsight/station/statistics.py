"""The station's statistics, pure: NG and REVIEW rates per part type, view, zone (or
indication kind) and shift, the reviewers' override rate, and a p-chart per part type
and rate with its drift alarm. Plain data in, frozen dataclasses out; no database, no
web (the store's queries are :mod:`castsight.station.store.statistics`, the service
that runs them :mod:`castsight.station.monitor`).

A p-chart (Montgomery, *Introduction to Statistical Quality Control*, ch. 7) plots the
share ``p_i = d_i / n_i`` of parts sentenced NG (or REVIEW) in each subgroup (a shift,
or a fixed number of parts). Its centre line ``p`` is the rate over the baseline (the
first subgroups of the window), its limits ``p +- 3 sqrt(p (1 - p) / n_i)`` (clipped to
[0, 1]) follow each subgroup's size. A subgroup alarms when it lies outside its limits
(rule 1) or is the eighth or later of a run on one side of the centre line (Western
Electric / Nelson rule 2).

>>> limits(0.1, 100)
(0.01, 0.19)
>>> [int(x) for x in runs_on_one_side([1] * 9 + [-1, 0, -1])]
[0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0]
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

RUN_LENGTH = 8
"""Points in a row on one side of the centre line that alarm (Nelson rule 2)."""
SIGMAS = 3.0
"""Control limits at the centre +- this many standard errors."""
NO_ZONE = frozenset({"", "None", "none"})
"""Zone values that say a finding carries none (``str(None)`` in the store)."""


class Measure(StrEnum):
    """A rate the station charts: the share of parts the machine sentenced so."""

    NG = "NG"
    REVIEW = "REVIEW"


@dataclass(frozen=True)
class Flag:
    """One finding of a part: the sentence it calls for, where it was found."""

    sentence: str
    view: str | None = None
    zone: str | None = None


@dataclass(frozen=True)
class PartOutcome:
    """A sentenced part as the statistics see it.

    ``at`` is the sentence's time (aware; a naive one is taken as UTC), ``views`` the
    names of the views it has, ``flags`` its findings, ``kinds`` the kinds of its
    indications.
    """

    part_id: int
    part_type: str
    at: dt.datetime
    sentence: str
    views: tuple[str, ...] = ()
    flags: tuple[Flag, ...] = ()
    kinds: tuple[str, ...] = ()

    def counts(self, measure: Measure) -> bool:
        """Whether the machine sentenced the part ``measure``."""
        return self.sentence == measure.value


@dataclass(frozen=True)
class ReviewOutcome:
    """One person's verdict beside the machine's sentence."""

    part_type: str
    machine_sentence: str | None
    verdict: str
    overturned: bool


@dataclass(frozen=True)
class Rate:
    """``ng`` and ``review`` of ``n`` parts under one key."""

    key: str
    n: int
    ng: int
    review: int

    @property
    def ng_rate(self) -> float | None:
        """NG parts / parts (None without parts)."""
        return self.ng / self.n if self.n else None

    @property
    def review_rate(self) -> float | None:
        """REVIEW parts / parts (None without parts)."""
        return self.review / self.n if self.n else None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape."""
        return {
            "key": self.key,
            "n": self.n,
            "ng": self.ng,
            "review": self.review,
            "ng_rate": self.ng_rate,
            "review_rate": self.review_rate,
        }


@dataclass(frozen=True)
class Overrides:
    """How often reviewers overturned the machine.

    ``decided`` counts reviews of parts the machine decided (NG or OK: only those can be
    overturned), ``overturned`` those whose verdict contradicts it (NG accepted, OK
    rejected); REVIEW parts are resolved, not overturned (``review_accepted``,
    ``review_rejected``).

    >>> o = overrides([ReviewOutcome("t", "NG", "accepted", True),
    ...                ReviewOutcome("t", "NG", "rejected", False),
    ...                ReviewOutcome("t", "REVIEW", "accepted", False)])
    >>> o.rate, o.reviews, o.review_accepted
    (0.5, 3, 1)
    """

    reviews: int
    decided: int
    overturned: int
    review_accepted: int
    review_rejected: int

    @property
    def rate(self) -> float | None:
        """Overturned / decided reviews (None without any)."""
        return self.overturned / self.decided if self.decided else None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape."""
        return {
            "reviews": self.reviews,
            "decided": self.decided,
            "overturned": self.overturned,
            "rate": self.rate,
            "review_accepted": self.review_accepted,
            "review_rejected": self.review_rejected,
        }


def overrides(reviews: Iterable[ReviewOutcome]) -> Overrides:
    """Count ``reviews``; see :class:`Overrides`."""
    done = list(reviews)
    decided = [r for r in done if r.machine_sentence in ("NG", "OK")]
    resolved = [r for r in done if r.machine_sentence == "REVIEW"]
    return Overrides(
        reviews=len(done),
        decided=len(decided),
        overturned=sum(r.overturned for r in decided),
        review_accepted=sum(r.verdict == "accepted" for r in resolved),
        review_rejected=sum(r.verdict == "rejected" for r in resolved),
    )


# --- shifts --------------------------------------------------------------------------


@dataclass(frozen=True)
class Shifts:
    """The plant's shifts: their start times (local, in ``tz``; None: the computer's
    own zone), each lasting until the next; the last one runs past midnight into the
    first.

    >>> s = Shifts((dt.time(6), dt.time(14), dt.time(22)), dt.UTC)
    >>> s.labels()
    ('06:00-14:00', '14:00-22:00', '22:00-06:00')
    >>> night = s.of(dt.datetime(2026, 12, 3, 2, 30, tzinfo=dt.UTC))
    >>> night.day, night.index, night.label
    (datetime.date(2026, 12, 2), 2, '2026-12-02 22:00')
    """

    starts: tuple[dt.time, ...]
    tz: dt.tzinfo | None

    def __post_init__(self) -> None:
        if not self.starts or list(self.starts) != sorted(set(self.starts)):
            raise ValueError(f"shift starts must be given, ascending, unique: {self.starts}")

    def labels(self) -> tuple[str, ...]:
        """Each shift as ``HH:MM-HH:MM``."""
        ends = (*self.starts[1:], self.starts[0])
        return tuple(
            f"{a.strftime('%H:%M')}-{b.strftime('%H:%M')}"
            for a, b in zip(self.starts, ends, strict=True)
        )

    def of(self, at: dt.datetime) -> ShiftKey:
        """The shift ``at`` falls in: a time before the first start belongs to the
        previous day's last shift (the night shift crossing midnight)."""
        local = as_aware(at).astimezone(self.tz)
        clock = local.time().replace(tzinfo=None)
        index = max((k for k, s in enumerate(self.starts) if s <= clock), default=None)
        day = local.date()
        if index is None:
            index, day = len(self.starts) - 1, day - dt.timedelta(days=1)
        return ShiftKey(day, index, self.starts[index])


@dataclass(frozen=True, order=True)
class ShiftKey:
    """One shift on one day (the day it started)."""

    day: dt.date
    index: int
    start: dt.time = field(compare=False)

    @property
    def label(self) -> str:
        """``YYYY-MM-DD HH:MM``, the shift's start."""
        return f"{self.day.isoformat()} {self.start.strftime('%H:%M')}"


def as_aware(at: dt.datetime) -> dt.datetime:
    """``at``, a naive time taken as UTC (the store keeps UTC; SQLite drops the zone)."""
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at


# --- rates ---------------------------------------------------------------------------


def tally(
    outcomes: Iterable[PartOutcome], keys: Callable[[PartOutcome], Iterable[str]]
) -> list[Rate]:
    """Parts, NG and REVIEW parts per key (a part counts once under each of its keys),
    sorted by key.

    >>> parts = [PartOutcome(1, "t", dt.datetime(2026, 1, 1), "NG"),
    ...          PartOutcome(2, "t", dt.datetime(2026, 1, 1), "OK")]
    >>> tally(parts, lambda p: [p.part_type])
    [Rate(key='t', n=2, ng=1, review=0)]
    """
    n: dict[str, int] = defaultdict(int)
    ng: dict[str, int] = defaultdict(int)
    review: dict[str, int] = defaultdict(int)
    for part in outcomes:
        for key in set(keys(part)):
            n[key] += 1
            ng[key] += part.sentence == "NG"
            review[key] += part.sentence == "REVIEW"
    return [Rate(k, n[k], ng[k], review[k]) for k in sorted(n)]


WHOLE_PART = "(whole part)"
"""The key of findings that name no view (a missing view, a part not tested)."""


def rates_by_view(outcomes: Sequence[PartOutcome]) -> list[Rate]:
    """Per view: the parts having it, and those with an NG (a REVIEW) finding in it;
    findings naming no view under :data:`WHOLE_PART` (of all parts)."""
    n: dict[str, int] = defaultdict(int)
    ng: dict[str, int] = defaultdict(int)
    review: dict[str, int] = defaultdict(int)
    for part in outcomes:
        for view in set(part.views):
            n[view] += 1
        for sentence, counts in (("NG", ng), ("REVIEW", review)):
            for view in {f.view or WHOLE_PART for f in part.flags if f.sentence == sentence}:
                counts[view] += 1
    if any(WHOLE_PART in c for c in (ng, review)):
        n[WHOLE_PART] = len(outcomes)
    return [Rate(k, n[k], ng[k], review[k]) for k in sorted(n)]


def has_zones(outcomes: Iterable[PartOutcome]) -> bool:
    """Whether any finding carries a zone."""
    return any(f.zone not in NO_ZONE for p in outcomes for f in p.flags if f.zone is not None)


def rates_by_zone(outcomes: Sequence[PartOutcome]) -> list[Rate]:
    """Per zone: of all parts, those with an NG (a REVIEW) finding in it."""
    ng: dict[str, int] = defaultdict(int)
    review: dict[str, int] = defaultdict(int)
    for part in outcomes:
        for sentence, counts in (("NG", ng), ("REVIEW", review)):
            zones = {f.zone for f in part.flags if f.sentence == sentence}
            for zone in zones - NO_ZONE - {None}:
                assert zone is not None
                counts[zone] += 1
    return [Rate(k, len(outcomes), ng[k], review[k]) for k in sorted({*ng, *review})]


def rates_by_kind(outcomes: Sequence[PartOutcome]) -> list[Rate]:
    """Per indication kind: of all parts, the NG (REVIEW) parts with an indication of
    that kind."""
    found = tally(outcomes, lambda p: p.kinds)
    return [Rate(r.key, len(outcomes), r.ng, r.review) for r in found]


def rates_by_shift(outcomes: Iterable[PartOutcome], shifts: Shifts) -> list[Rate]:
    """Per shift of the day (all days together), in the order of the shifts."""
    labels = shifts.labels()
    found = {r.key: r for r in tally(outcomes, lambda p: [labels[shifts.of(p.at).index]])}
    return [found.get(label, Rate(label, 0, 0, 0)) for label in labels]


# --- p-chart -------------------------------------------------------------------------


@dataclass(frozen=True)
class Subgroup:
    """``count`` of ``n`` parts; ``key`` names it, ``start`` is its first part's time."""

    key: str
    start: dt.datetime
    n: int
    count: int

    @property
    def p(self) -> float:
        """The subgroup's rate."""
        return self.count / self.n if self.n else 0.0


def subgroups_by_shift(
    outcomes: Iterable[PartOutcome], shifts: Shifts, measure: Measure
) -> list[Subgroup]:
    """One subgroup per shift that has parts, in time order."""
    groups: dict[ShiftKey, list[PartOutcome]] = defaultdict(list)
    for part in outcomes:
        groups[shifts.of(part.at)].append(part)
    return [
        Subgroup(
            key.label,
            min(as_aware(p.at) for p in parts),
            len(parts),
            sum(p.counts(measure) for p in parts),
        )
        for key, parts in sorted(groups.items())
    ]


def subgroups_by_count(
    outcomes: Iterable[PartOutcome], size: int, measure: Measure
) -> list[Subgroup]:
    """Consecutive runs of ``size`` parts in time order (the last may be short).

    >>> parts = [PartOutcome(k, "t", dt.datetime(2026, 1, 1, 0, k), "NG" if k % 2 else "OK")
    ...          for k in range(5)]
    >>> [(g.key, g.n, g.count) for g in subgroups_by_count(parts, 2, Measure.NG)]
    [('parts 0-1', 2, 1), ('parts 2-3', 2, 1), ('parts 4-4', 1, 0)]
    """
    if size < 1:
        raise ValueError(f"size must be at least 1, got {size}")
    ordered = sorted(outcomes, key=lambda p: (as_aware(p.at), p.part_id))
    groups = [ordered[k : k + size] for k in range(0, len(ordered), size)]
    return [
        Subgroup(
            f"parts {g[0].part_id}-{g[-1].part_id}",
            as_aware(g[0].at),
            len(g),
            sum(p.counts(measure) for p in g),
        )
        for g in groups
    ]


def limits(p: float, n: int) -> tuple[float, float]:
    """The p-chart's control limits ``p +- 3 sqrt(p (1 - p) / n)`` for a subgroup of
    ``n`` parts, clipped to [0, 1] (rounded to 12 digits)."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    half = SIGMAS * math.sqrt(p * (1.0 - p) / n)
    return round(max(0.0, p - half), 12), round(min(1.0, p + half), 12)


def runs_on_one_side(sides: Sequence[int], length: int = RUN_LENGTH) -> list[bool]:
    """For each point, whether it is the ``length``-th or later of consecutive points on
    one side of the centre line (``sides``: +1 above, -1 below, 0 on it, which ends a
    run)."""
    flags = []
    run, last = 0, 0
    for side in sides:
        run = run + 1 if side != 0 and side == last else (1 if side != 0 else 0)
        last = side
        flags.append(run >= length)
    return flags


@dataclass(frozen=True)
class ChartPoint:
    """One subgroup on the chart with its limits and what the rules say of it."""

    subgroup: Subgroup
    lcl: float
    ucl: float
    judged: bool
    """False: too few parts (``min_n``) to be judged; drawn, never alarming."""
    baseline: bool
    """The subgroup is part of the baseline (the centre line's rate)."""
    side: int
    """+1 above the centre line, -1 below, 0 on it."""
    outside: bool
    """Rule 1: outside the control limits."""
    run: bool
    """Rule 2: the eighth or later in a row on one side of the centre line."""

    @property
    def alarm(self) -> bool:
        """A judged point that breaks a rule."""
        return self.judged and (self.outside or self.run)

    def rules(self) -> list[str]:
        """The rules the point breaks, in words."""
        found = []
        if self.judged and self.outside:
            found.append("outside the control limits")
        if self.judged and self.run:
            found.append(f"{RUN_LENGTH} in a row {'above' if self.side > 0 else 'below'} centre")
        return found

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape."""
        g = self.subgroup
        return {
            "key": g.key,
            "start": g.start.isoformat(),
            "n": g.n,
            "count": g.count,
            "p": g.p,
            "lcl": self.lcl,
            "ucl": self.ucl,
            "judged": self.judged,
            "baseline": self.baseline,
            "alarm": self.alarm,
            "rules": self.rules(),
        }


@dataclass(frozen=True)
class Alarm:
    """An active drift alarm: the latest judged subgroup of a chart breaks a rule."""

    part_type: str
    measure: Measure
    since: str
    """The first subgroup of the alarming stretch that ends with the latest."""
    since_at: dt.datetime
    subgroup: str
    """The latest judged subgroup."""
    rate: float
    centre: float
    lcl: float
    ucl: float
    rules: tuple[str, ...]

    @property
    def message(self) -> str:
        """One line for people."""
        return (
            f"{self.part_type}: {self.measure.value} rate {100 * self.rate:.1f} % in "
            f"{self.subgroup} ({'; '.join(self.rules)}; centre {100 * self.centre:.1f} %, "
            f"limits {100 * self.lcl:.1f}-{100 * self.ucl:.1f} %), since {self.since}"
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape."""
        return {
            "part_type": self.part_type,
            "measure": self.measure.value,
            "since": self.since,
            "since_at": self.since_at.isoformat(),
            "subgroup": self.subgroup,
            "rate": self.rate,
            "centre": self.centre,
            "lcl": self.lcl,
            "ucl": self.ucl,
            "rules": list(self.rules),
            "message": self.message,
        }


@dataclass(frozen=True)
class PChart:
    """A p-chart of one rate of one part type.

    ``centre`` is None without a judged subgroup; ``provisional`` says the baseline has
    fewer subgroups than asked for: the centre line is the rate of those there are and
    nothing alarms yet.
    """

    part_type: str
    measure: Measure
    centre: float | None
    baseline_subgroups: int
    baseline_parts: int
    provisional: bool
    points: tuple[ChartPoint, ...]

    @property
    def alarm(self) -> Alarm | None:
        """The active alarm: the latest judged subgroup breaks a rule (and the stretch of
        alarming judged subgroups before it says since when)."""
        judged = [p for p in self.points if p.judged]
        if not judged or not judged[-1].alarm or self.centre is None:
            return None
        first = len(judged) - 1
        while first > 0 and judged[first - 1].alarm:
            first -= 1
        last = judged[-1]
        return Alarm(
            part_type=self.part_type,
            measure=self.measure,
            since=judged[first].subgroup.key,
            since_at=judged[first].subgroup.start,
            subgroup=last.subgroup.key,
            rate=last.subgroup.p,
            centre=self.centre,
            lcl=last.lcl,
            ucl=last.ucl,
            rules=tuple(last.rules()),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape."""
        alarm = self.alarm
        return {
            "part_type": self.part_type,
            "measure": self.measure.value,
            "centre": self.centre,
            "baseline_subgroups": self.baseline_subgroups,
            "baseline_parts": self.baseline_parts,
            "provisional": self.provisional,
            "alarm": alarm.to_dict() if alarm is not None else None,
            "points": [p.to_dict() for p in self.points],
        }


def p_chart(
    subgroups: Sequence[Subgroup],
    *,
    part_type: str,
    measure: Measure,
    baseline: int,
    min_n: int,
    run_length: int = RUN_LENGTH,
) -> PChart:
    """The p-chart of ``subgroups``: centre line from the first ``baseline`` judged
    subgroups (those of at least ``min_n`` parts), limits per subgroup, rules 1 and 2
    over the judged ones (a point too small to judge neither extends nor ends a run).

    >>> groups = [Subgroup(f"g{k}", dt.datetime(2026, 1, k + 1), 100, c)
    ...           for k, c in enumerate([10, 10, 25])]
    >>> chart = p_chart(groups, part_type="t", measure=Measure.NG, baseline=2, min_n=10)
    >>> chart.centre, [p.outside for p in chart.points], chart.alarm.since
    (0.1, [False, False, True], 'g2')
    """
    if baseline < 1 or min_n < 1:
        raise ValueError(f"baseline and min_n must be at least 1, got {baseline}, {min_n}")
    judged = [g for g in subgroups if g.n >= min_n]
    base = judged[:baseline]
    parts = sum(g.n for g in base)
    centre = sum(g.count for g in base) / parts if parts else None
    provisional = len(base) < baseline
    base_ids = {id(g) for g in base}
    sides = {
        id(g): (0 if centre is None or g.p == centre else (1 if g.p > centre else -1))
        for g in subgroups
    }
    in_run = dict(
        zip(
            (id(g) for g in judged),
            runs_on_one_side([sides[id(g)] for g in judged], run_length),
            strict=True,
        )
    )
    points = []
    for g in subgroups:
        lcl, ucl = limits(centre, g.n) if centre is not None else (0.0, 1.0)
        ok = g.n >= min_n and centre is not None and not provisional
        points.append(
            ChartPoint(
                subgroup=g,
                lcl=lcl,
                ucl=ucl,
                judged=ok,
                baseline=id(g) in base_ids,
                side=sides[id(g)],
                outside=ok and not lcl <= round(g.p, 12) <= ucl,
                run=ok and in_run.get(id(g), False),
            )
        )
    return PChart(part_type, measure, centre, len(base), parts, provisional, tuple(points))


# --- everything together -------------------------------------------------------------


@dataclass(frozen=True)
class PartTypeStatistics:
    """One part type's figures."""

    part_type: str
    overall: Rate
    by_view: tuple[Rate, ...]
    grouping: str
    """``zone`` when the findings carry zones, else ``kind`` (indication kinds)."""
    by_zone: tuple[Rate, ...]
    by_shift: tuple[Rate, ...]
    overrides: Overrides
    charts: tuple[PChart, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape."""
        return {
            "part_type": self.part_type,
            "overall": self.overall.to_dict(),
            "by_view": [r.to_dict() for r in self.by_view],
            "grouping": self.grouping,
            "by_zone": [r.to_dict() for r in self.by_zone],
            "by_shift": [r.to_dict() for r in self.by_shift],
            "overrides": self.overrides.to_dict(),
            "charts": [c.to_dict() for c in self.charts],
        }


@dataclass(frozen=True)
class StationStatistics:
    """The station's figures over a window of time."""

    computed_at: dt.datetime
    since: dt.datetime
    subgroup: str
    """What a chart's subgroup is, in words (``shift`` or ``N parts``)."""
    shifts: tuple[str, ...]
    part_types: tuple[PartTypeStatistics, ...]
    overrides: Overrides
    """All part types together."""

    @property
    def alarms(self) -> tuple[Alarm, ...]:
        """Every active drift alarm."""
        return tuple(
            alarm for t in self.part_types for c in t.charts if (alarm := c.alarm) is not None
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape (``GET /api/statistics``)."""
        return {
            "computed_at": self.computed_at.isoformat(),
            "since": self.since.isoformat(),
            "subgroup": self.subgroup,
            "shifts": list(self.shifts),
            "alarms": [a.to_dict() for a in self.alarms],
            "overrides": self.overrides.to_dict(),
            "part_types": [t.to_dict() for t in self.part_types],
        }


def compute(
    outcomes: Iterable[PartOutcome],
    reviews: Iterable[ReviewOutcome],
    *,
    shifts: Shifts,
    subgroup_parts: int | None,
    baseline: int,
    min_n: int,
    since: dt.datetime,
    computed_at: dt.datetime,
) -> StationStatistics:
    """Every figure of :class:`StationStatistics` for ``outcomes`` and ``reviews``.

    Parameters
    ----------
    outcomes, reviews
        The sentenced parts and the reviews of the window.
    shifts : Shifts
        The plant's shifts (rates per shift; the subgroups unless ``subgroup_parts``).
    subgroup_parts : int or None
        A chart's subgroup: this many consecutive parts (None: a shift).
    baseline : int
        Subgroups whose rate is the centre line (the first of the window).
    min_n : int
        Shift subgroups with fewer parts are drawn, not judged (a count subgroup is
        judged once complete).
    since, computed_at : datetime
        The window's start, and now.
    """
    parts = sorted(outcomes, key=lambda p: (as_aware(p.at), p.part_id))
    done = list(reviews)
    by_type: dict[str, list[PartOutcome]] = defaultdict(list)
    for part in parts:
        by_type[part.part_type].append(part)
    types = sorted({*by_type, *(r.part_type for r in done)})
    figures = []
    for part_type in types:
        mine = by_type.get(part_type, [])
        zoned = has_zones(mine)
        charts = []
        for measure in Measure:
            if subgroup_parts is None:
                groups, least = subgroups_by_shift(mine, shifts, measure), min_n
            else:
                groups, least = subgroups_by_count(mine, subgroup_parts, measure), subgroup_parts
            charts.append(
                p_chart(
                    groups, part_type=part_type, measure=measure, baseline=baseline, min_n=least
                )
            )
        overall = tally(mine, lambda p: [p.part_type]) or [Rate(part_type, 0, 0, 0)]
        figures.append(
            PartTypeStatistics(
                part_type=part_type,
                overall=overall[0],
                by_view=tuple(rates_by_view(mine)),
                grouping="zone" if zoned else "kind",
                by_zone=tuple(rates_by_zone(mine) if zoned else rates_by_kind(mine)),
                by_shift=tuple(rates_by_shift(mine, shifts)),
                overrides=overrides(r for r in done if r.part_type == part_type),
                charts=tuple(charts),
            )
        )
    return StationStatistics(
        computed_at=computed_at,
        since=since,
        subgroup="shift" if subgroup_parts is None else f"{subgroup_parts} parts",
        shifts=shifts.labels(),
        part_types=tuple(figures),
        overrides=overrides(done),
    )


__all__ = [
    "NO_ZONE",
    "RUN_LENGTH",
    "SIGMAS",
    "WHOLE_PART",
    "Alarm",
    "ChartPoint",
    "Flag",
    "Measure",
    "Overrides",
    "PChart",
    "PartOutcome",
    "PartTypeStatistics",
    "Rate",
    "ReviewOutcome",
    "ShiftKey",
    "Shifts",
    "StationStatistics",
    "Subgroup",
    "as_aware",
    "compute",
    "has_zones",
    "limits",
    "overrides",
    "p_chart",
    "rates_by_kind",
    "rates_by_shift",
    "rates_by_view",
    "rates_by_zone",
    "runs_on_one_side",
    "subgroups_by_count",
    "subgroups_by_shift",
    "tally",
]
