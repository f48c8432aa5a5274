"""The statistics, pure: hand-computable p-chart limits, rule 2, override rate, rates per
view, zone and kind, shifts (the night shift crossing midnight, a time zone)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from castsight.station.settings import StatisticsSettings, load_settings
from castsight.station.statistics import (
    WHOLE_PART,
    Flag,
    Measure,
    PartOutcome,
    Rate,
    ReviewOutcome,
    Shifts,
    Subgroup,
    compute,
    limits,
    overrides,
    p_chart,
    rates_by_kind,
    rates_by_shift,
    rates_by_view,
    rates_by_zone,
    runs_on_one_side,
)

DAY = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
SHIFTS = Shifts((dt.time(6), dt.time(14), dt.time(22)), dt.UTC)


def groups(counts: list[int], n: int = 50) -> list[Subgroup]:
    return [Subgroup(f"g{k}", DAY + dt.timedelta(hours=8 * k), n, c) for k, c in enumerate(counts)]


@pytest.mark.parametrize(
    ("p", "n", "expected"),
    [
        (0.1, 100, (0.01, 0.19)),  # 3 sqrt(0.09 / 100) = 0.09
        (0.2, 25, (0.0, 0.44)),  # 3 sqrt(0.16 / 25) = 0.24: LCL clipped at 0
        (0.5, 4, (0.0, 1.0)),  # 3 * 0.25 = 0.75: both clipped
        (0.0, 50, (0.0, 0.0)),
    ],
)
def test_p_chart_limits(p: float, n: int, expected: tuple[float, float]) -> None:
    assert limits(p, n) == pytest.approx(expected)


def test_limits_refuse_an_empty_subgroup() -> None:
    with pytest.raises(ValueError, match="n must be"):
        limits(0.1, 0)


def test_a_subgroup_outside_the_limits_alarms() -> None:
    # baseline: 4 x 5/50, p = 0.1; UCL = 0.1 + 3 sqrt(0.09 / 50) = 0.22728
    chart = p_chart(
        groups([5, 5, 5, 5, 11, 12]), part_type="t", measure=Measure.NG, baseline=4, min_n=10
    )
    assert chart.centre == pytest.approx(0.1) and not chart.provisional
    assert (chart.baseline_subgroups, chart.baseline_parts) == (4, 200)
    assert chart.points[4].ucl == pytest.approx(0.227279, abs=1e-6)
    assert [p.outside for p in chart.points] == [False] * 5 + [True]  # 0.22 in, 0.24 out
    assert [p.baseline for p in chart.points] == [True] * 4 + [False] * 2
    alarm = chart.alarm
    assert alarm is not None
    assert (alarm.since, alarm.subgroup) == ("g5", "g5") and alarm.rate == pytest.approx(0.24)
    assert alarm.rules == ("outside the control limits",)
    assert "NG rate 24.0 %" in alarm.message


def test_a_point_below_the_lower_limit_alarms_too() -> None:
    # baseline p = 0.3; LCL = 0.3 - 3 sqrt(0.21 / 50) = 0.10557: 0/50 is below
    chart = p_chart(groups([15, 15, 0]), part_type="t", measure=Measure.REVIEW, baseline=2, min_n=1)
    assert chart.points[2].outside and chart.points[2].side == -1
    assert chart.alarm is not None and chart.alarm.measure is Measure.REVIEW


def test_rule_2_a_run_of_8_on_one_side() -> None:
    # baseline [6, 4, 6, 4] of 50: p = 0.1; then 6/50 = 0.12 (above, within the limits)
    seven = p_chart(groups([6, 4, 6, 4] + [6] * 7), part_type="t", measure=Measure.NG,
                    baseline=4, min_n=10)  # fmt: skip
    assert seven.alarm is None and not any(p.outside for p in seven.points)
    eight = p_chart(groups([6, 4, 6, 4] + [6] * 8), part_type="t", measure=Measure.NG,
                    baseline=4, min_n=10)  # fmt: skip
    assert [p.run for p in eight.points] == [False] * 11 + [True]
    assert eight.alarm is not None and eight.alarm.rules == ("8 in a row above centre",)


def test_rule_2_skips_subgroups_too_small_to_judge_and_a_point_on_the_centre_ends_a_run() -> None:
    counts = [6, 4, 6, 4] + [6] * 4 + [1] + [6] * 4
    sizes = [50] * 8 + [5] + [50] * 4  # the 5-part subgroup is drawn, not judged
    subgroups = [
        Subgroup(f"g{k}", DAY + dt.timedelta(hours=k), n, c)
        for k, (n, c) in enumerate(zip(sizes, counts, strict=True))
    ]
    chart = p_chart(subgroups, part_type="t", measure=Measure.NG, baseline=4, min_n=10)
    assert not chart.points[8].judged and not chart.points[8].alarm
    assert chart.points[-1].run and chart.alarm is not None
    assert runs_on_one_side([1] * 7 + [0] + [1] * 7) == [False] * 15
    assert runs_on_one_side([-1] * 8) == [False] * 7 + [True]


def test_the_alarm_says_since_when_and_clears_when_the_latest_subgroup_is_back() -> None:
    chart = p_chart(groups([5, 5, 5, 5, 20, 25, 30]), part_type="t", measure=Measure.NG,
                    baseline=4, min_n=10)  # fmt: skip
    assert chart.alarm is not None and (chart.alarm.since, chart.alarm.subgroup) == ("g4", "g6")
    back = p_chart(groups([5, 5, 5, 5, 20, 25, 5]), part_type="t", measure=Measure.NG,
                   baseline=4, min_n=10)  # fmt: skip
    assert back.alarm is None and back.points[5].alarm


def test_an_incomplete_baseline_is_provisional_and_never_alarms() -> None:
    chart = p_chart(groups([5, 40]), part_type="t", measure=Measure.NG, baseline=4, min_n=10)
    assert chart.provisional and chart.centre == pytest.approx(0.45)
    assert chart.alarm is None and not any(p.judged for p in chart.points)
    empty = p_chart([], part_type="t", measure=Measure.NG, baseline=4, min_n=10)
    assert empty.centre is None and empty.alarm is None


def test_override_rate() -> None:
    found = overrides(
        [
            ReviewOutcome("t", "NG", "accepted", True),  # overturned
            ReviewOutcome("t", "NG", "rejected", False),
            ReviewOutcome("t", "OK", "rejected", True),  # overturned
            ReviewOutcome("t", "NG", "rejected", False),
            ReviewOutcome("t", "REVIEW", "accepted", False),  # resolved, not overturned
            ReviewOutcome("t", "REVIEW", "rejected", False),
        ]
    )
    assert (found.reviews, found.decided, found.overturned) == (6, 4, 2)
    assert found.rate == pytest.approx(0.5)
    assert (found.review_accepted, found.review_rejected) == (1, 1)
    assert overrides([]).rate is None


@pytest.mark.parametrize(
    ("clock", "day", "label"),
    [
        ("2026-12-02T05:59", "2026-12-01", "22:00-06:00"),  # before 06:00: last night's
        ("2026-12-02T06:00", "2026-12-02", "06:00-14:00"),
        ("2026-12-02T13:59", "2026-12-02", "06:00-14:00"),
        ("2026-12-02T14:00", "2026-12-02", "14:00-22:00"),
        ("2026-12-02T22:00", "2026-12-02", "22:00-06:00"),
        ("2026-12-02T23:59", "2026-12-02", "22:00-06:00"),
        ("2026-12-03T00:00", "2026-12-02", "22:00-06:00"),  # past midnight: same night
        ("2026-12-03T03:30", "2026-12-02", "22:00-06:00"),
    ],
)
def test_shift_assignment_with_the_night_shift_crossing_midnight(
    clock: str, day: str, label: str
) -> None:
    key = SHIFTS.of(dt.datetime.fromisoformat(clock).replace(tzinfo=dt.UTC))
    assert key.day == dt.date.fromisoformat(day)
    assert SHIFTS.labels()[key.index] == label


def test_shifts_in_the_plant_time_zone_and_naive_times_as_utc() -> None:
    berlin = Shifts((dt.time(6), dt.time(14), dt.time(22)), ZoneInfo("Europe/Berlin"))
    # 21:30 UTC is 22:30 in Berlin (CET, +1): the night shift of that day
    key = berlin.of(dt.datetime(2026, 12, 2, 21, 30, tzinfo=dt.UTC))
    assert (key.day, key.index, key.label) == (dt.date(2026, 12, 2), 2, "2026-12-02 22:00")
    # a naive time is UTC: 05:30 UTC is 06:30 CET, the morning shift (05:30 CET would not be)
    assert berlin.of(dt.datetime(2026, 12, 2, 5, 30)).index == 0
    here = Shifts((dt.time(6), dt.time(14), dt.time(22)), None)  # the computer's zone
    noon = dt.datetime(2026, 12, 2, 12, 0).astimezone()  # 12:00 local, whatever the zone
    assert here.of(noon) == SHIFTS.of(noon.replace(tzinfo=dt.UTC))
    two = Shifts((dt.time(7), dt.time(19)), dt.UTC)
    assert two.labels() == ("07:00-19:00", "19:00-07:00")
    assert two.of(dt.datetime(2026, 12, 3, 6, 59, tzinfo=dt.UTC)).day == dt.date(2026, 12, 2)
    with pytest.raises(ValueError, match="ascending"):
        Shifts((dt.time(14), dt.time(6)), dt.UTC)


def part(
    part_id: int, sentence: str, *, hour: int = 8, flags: tuple[Flag, ...] = (),
    kinds: tuple[str, ...] = (), part_type: str = "t",
) -> PartOutcome:  # fmt: skip
    at = DAY + dt.timedelta(hours=hour)
    return PartOutcome(part_id, part_type, at, sentence, ("V01", "V02"), flags, kinds)


def test_rates_per_view_zone_kind_and_shift() -> None:
    parts = [
        part(1, "NG", flags=(Flag("NG", "V01", "boss"),), kinds=("pore",)),
        part(2, "REVIEW", hour=23, flags=(Flag("REVIEW", None, "part"),)),
        part(3, "OK", hour=15),
        part(
            4,
            "NG",
            hour=9,
            flags=(Flag("NG", "V02", "boss"), Flag("NG", "V02", "rib")),
            kinds=("pore", "crack"),
        ),
    ]
    assert rates_by_view(parts) == [
        Rate(WHOLE_PART, 4, 0, 1),
        Rate("V01", 4, 1, 0),
        Rate("V02", 4, 1, 0),  # two findings in V02, one part
    ]
    assert rates_by_zone(parts) == [
        Rate("boss", 4, 2, 0),
        Rate("part", 4, 0, 1),
        Rate("rib", 4, 1, 0),
    ]
    assert rates_by_kind(parts) == [Rate("crack", 4, 1, 0), Rate("pore", 4, 2, 0)]
    assert rates_by_shift(parts, SHIFTS) == [
        Rate("06:00-14:00", 2, 2, 0),
        Rate("14:00-22:00", 1, 0, 0),
        Rate("22:00-06:00", 1, 0, 1),
    ]
    assert Rate("x", 0, 0, 0).ng_rate is None and Rate("x", 4, 1, 2).review_rate == 0.5


def test_compute_groups_by_kind_without_zones_and_by_count() -> None:
    parts = [
        part(
            k,
            "NG" if k % 5 == 0 else "OK",
            hour=k,
            flags=(Flag("NG", "V01", "None"),) if k % 5 == 0 else (),
            kinds=("pore",) if k % 5 == 0 else (),
        )
        for k in range(1, 26)
    ] + [part(99, "OK", part_type="u")]
    found = compute(
        parts,
        [ReviewOutcome("t", "NG", "accepted", True), ReviewOutcome("u", "OK", "accepted", False)],
        shifts=SHIFTS,
        subgroup_parts=10,
        baseline=2,
        min_n=3,
        since=DAY,
        computed_at=DAY + dt.timedelta(days=2),
    )
    t, u = found.part_types
    assert (t.part_type, t.overall, t.grouping) == ("t", Rate("t", 25, 5, 0), "kind")
    assert t.by_zone == (Rate("pore", 25, 5, 0),)
    ng = t.charts[0]
    assert ng.measure is Measure.NG and [p.subgroup.n for p in ng.points] == [10, 10, 5]
    assert [p.judged for p in ng.points] == [True, True, False]  # the last is not complete
    assert ng.centre == pytest.approx(0.2) and found.subgroup == "10 parts"
    assert t.overrides.rate == 1.0 and u.overrides.rate == 0.0 and found.overrides.decided == 2
    assert found.alarms == () and found.to_dict()["part_types"][0]["overall"]["ng"] == 5


def test_statistics_settings() -> None:
    s = StatisticsSettings(shift_starts=["22:00", 360, "14:00"], timezone="Europe/Berlin")
    assert s.shift_starts == [dt.time(6), dt.time(14), dt.time(22)]
    assert s.tz() == ZoneInfo("Europe/Berlin") and StatisticsSettings().tz() is None
    with pytest.raises(ValidationError, match="unknown time zone"):
        StatisticsSettings(timezone="Mars/Olympus")
    with pytest.raises(ValidationError, match="each once"):
        StatisticsSettings(shift_starts=["06:00", "06:00"])


def test_shift_starts_from_yaml_quoted_or_not(tmp_path: Path) -> None:
    path = tmp_path / "station.yaml"
    path.write_text(
        "cells: [{name: c1, part_type: generic}]\n"
        'statistics: {shift_starts: [06:00, 14:00, "22:00"], subgroup_parts: 50}\n'
    )
    found = load_settings(path).statistics
    assert found.shift_starts == [dt.time(6), dt.time(14), dt.time(22)]  # 14:00 is 840 in YAML
    assert found.subgroup_parts == 50
