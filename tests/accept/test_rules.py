"""The rules engine: every rule, at and just past each limit."""

from __future__ import annotations

import math

import pytest

from castsight.accept.plan import Rules, Zone, load_plan
from castsight.accept.rules import (
    WHOLE,
    Flaw,
    judge_flaws,
    judge_zones,
    porosity_pct,
    severity_level,
    zone_at,
    zones_of,
)

OFF = {"max_pore": None, "max_shrinkage": None, "max_inclusion": None, "min_reportable": 0.0}
"""Rules with every size limit switched off, to test one rule at a time."""


def _rules(**kw: object) -> Rules:
    return Rules.model_validate({**OFF, **kw})


def _rules_hit(flaws: list[Flaw], rules: Rules) -> list[str]:
    return [f.rule for f in judge_flaws(flaws, rules, view="V01")]


def _pore(size: float, x: float = 0.0, *, kind: str = "pore", area: float = 0.0) -> Flaw:
    return Flaw(kind, size, (x, 0.0), f"p{x:g}", area=area)


@pytest.mark.parametrize(
    ("kind", "limit_name"),
    [("pore", "max_pore"), ("shrinkage", "max_shrinkage"), ("inclusion", "max_inclusion")],
)
def test_size_limit_is_ng_only_past_the_limit(kind: str, limit_name: str) -> None:
    rules = _rules(**{limit_name: 2.0})
    assert _rules_hit([_pore(2.0, kind=kind)], rules) == []
    past = judge_flaws([_pore(2.0001, kind=kind)], rules, view="V01")
    assert [(f.rule, f.sentence, f.indications, f.view) for f in past] == [
        (limit_name, "NG", ("p0",), "V01")
    ]


def test_a_limit_switched_off_never_fires() -> None:
    assert _rules_hit([_pore(99.0), _pore(99.0, 500.0, kind="inclusion")], _rules()) == []


def test_cracks_are_ng_unless_allowed() -> None:
    crack = Flaw("crack", 0.5, (0.0, 0.0), "c")
    assert _rules_hit([crack], _rules(cracks_allowed=False)) == ["cracks_allowed"]
    assert _rules_hit([crack], _rules(cracks_allowed=True)) == []


def test_an_unclassified_indication_is_review() -> None:
    (f,) = judge_flaws([Flaw("unknown", 1.0, (0.0, 0.0), "u")], _rules())
    assert (f.rule, f.sentence) == ("unknown", "REVIEW")


def test_min_reportable_is_judged_at_the_limit_and_not_below() -> None:
    rules = _rules(min_reportable=0.4, cracks_allowed=False)
    assert _rules_hit([Flaw("crack", 0.4, (0.0, 0.0), "c")], rules) == ["cracks_allowed"]
    assert _rules_hit([Flaw("crack", 0.3999, (0.0, 0.0), "c")], rules) == []


def _row(n: int, spacing: float, size: float = 1.0) -> list[Flaw]:
    return [_pore(size, i * spacing) for i in range(n)]


def test_pores_per_area_at_and_past_the_count() -> None:
    rules = _rules(max_pores_per_area=3, reference_area=100.0 * math.pi)  # radius 10
    assert _rules_hit(_row(3, 5.0), rules) == []
    (f,) = judge_flaws(_row(4, 5.0), rules)
    assert f.rule == "max_pores_per_area" and len(f.indications) == 4


def test_pores_per_area_counts_within_the_reference_radius_only() -> None:
    rules = _rules(max_pores_per_area=1, reference_area=100.0 * math.pi)  # radius 10
    assert _rules_hit(_row(2, 10.0001), rules) == []
    assert _rules_hit(_row(2, 10.0), rules) == ["max_pores_per_area"]


def test_pores_per_area_counts_shrinkage_and_not_inclusions() -> None:
    rules = _rules(max_pores_per_area=1)
    shrink = _pore(1.0, 3.0, kind="shrinkage")
    assert _rules_hit([_pore(1.0), shrink], rules) == ["max_pores_per_area"]
    assert _rules_hit([_pore(1.0), _pore(1.0, 3.0, kind="inclusion")], rules) == []


def test_pores_below_min_reportable_are_not_counted() -> None:
    rules = _rules(max_pores_per_area=1, min_reportable=0.5)
    assert _rules_hit([_pore(1.0), _pore(0.49, 3.0)], rules) == []


def test_spacing_at_and_under_the_limit() -> None:
    rules = _rules(min_pore_spacing=5.0)
    assert _rules_hit(_row(2, 5.0), rules) == []
    (f,) = judge_flaws(_row(3, 4.999), rules)
    assert f.rule == "min_pore_spacing" and len(f.indications) == 2
    assert "4.999" in f.indications[1]


def test_spacing_works_in_three_dimensions() -> None:
    a = Flaw("pore", 1.0, (0.0, 0.0, 0.0), "a")
    b = Flaw("pore", 1.0, (0.0, 3.0, 4.0), "b")
    assert _rules_hit([a, b], _rules(min_pore_spacing=5.0)) == []
    assert _rules_hit([a, b], _rules(min_pore_spacing=5.001)) == ["min_pore_spacing"]


def test_porosity_pct_is_of_the_worst_reference_area() -> None:
    # two pores 10 apart; radius 10 holds both, radius 9.99 each alone
    pores = [_pore(1.0, 0.0, area=3.0), _pore(1.0, 10.0, area=1.0)]
    assert porosity_pct(pores, 100.0 * math.pi) == pytest.approx(400.0 / (100.0 * math.pi))
    assert porosity_pct(pores, 99.8 * math.pi) == pytest.approx(300.0 / (99.8 * math.pi))
    assert porosity_pct([], 100.0) == 0.0


def test_porosity_pct_limit_at_and_past() -> None:
    rules = _rules(max_porosity_area_pct=2.0, reference_area=100.0)
    assert _rules_hit([_pore(1.0, area=2.0)], rules) == []
    (f,) = judge_flaws([_pore(1.0, area=2.0001)], rules)
    assert f.rule == "max_porosity_area_pct" and f.sentence == "NG"


def test_severity_levels_begin_at_their_thresholds() -> None:
    t = (0.5, 1.0, 2.0, 4.0)
    assert [severity_level(p, t) for p in (0.0, 0.4999, 0.5, 1.0, 1.9999, 2.0, 4.0, 50.0)] == [
        0, 0, 1, 2, 2, 3, 4, 4,
    ]  # fmt: skip


def test_max_severity_is_ng_only_above_the_level() -> None:
    rules = _rules(max_severity=2, reference_area=100.0)  # level 3 from 2 %
    assert _rules_hit([_pore(1.0, area=1.9999)], rules) == []
    (f,) = judge_flaws([_pore(1.0, area=2.0)], rules)
    assert f.rule == "max_severity" and "level 3" in f.message


def test_inclusions_are_not_porosity() -> None:
    rules = _rules(max_severity=1, reference_area=100.0)
    assert _rules_hit([_pore(1.0, kind="inclusion", area=50.0)], rules) == []


def test_zone_at_first_polygon_holding_the_point_else_whole() -> None:
    whole_rules = Rules(max_pore=9.0)
    left = Zone(name="left", polygon=[(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)])
    everywhere = Zone(name="rest")
    assert zone_at([left, everywhere], whole_rules, 0.25, 0.5).name == "left"
    assert zone_at([left, everywhere], whole_rules, 0.75, 0.5).name == "rest"
    outside = zone_at([left], whole_rules, 0.75, 0.5)
    assert (outside.name, outside.rules) == (WHOLE, whole_rules)


def test_zones_of_a_plan_without_zones_is_the_whole_part() -> None:
    plan = load_plan("giga-underbody")
    (zone,) = zones_of(plan, "V01")
    assert (zone.name, zone.rules) == (WHOLE, plan.rules)


def test_each_zone_is_judged_by_its_own_rules_and_counts_apart() -> None:
    strict = _rules(max_pore=1.0, max_pores_per_area=1)
    loose = _rules(max_pore=3.0, max_pores_per_area=1)
    flaws = [
        Flaw("pore", 2.0, (0.0, 0.0), "a", zone="rim"),
        Flaw("pore", 2.0, (1.0, 0.0), "b", zone="hub"),
    ]
    found = judge_zones(flaws, {"rim": strict, "hub": loose}, view="V01")
    assert [(f.zone, f.rule, f.indications) for f in found] == [("rim", "max_pore", ("a",))]


def test_judge_zones_drops_repeated_findings() -> None:
    flaws = [Flaw("pore", 5.0, (0.0, 0.0), "a"), Flaw("pore", 5.0, (0.0, 0.0), "a")]
    assert len(judge_zones(flaws, {WHOLE: Rules()})) == 1


@pytest.mark.parametrize(
    ("size", "upper", "sentence"),
    [
        (2.1, 2.6, "NG"),  # over the limit as sized: rejected
        (1.7, 2.3, "REVIEW"),  # within as sized, over as the footprint measures: not proven
        (1.7, 1.9, None),  # within either way: conforms
        (1.7, None, None),  # an exact size (the simulator's truth) has no band
    ],
)
def test_a_size_whose_band_crosses_the_limit_is_not_proven_either_way(
    size: float, upper: float | None, sentence: str | None
) -> None:
    """The decision rule of ISO 14253-1: conformity is proven only when the whole band of
    the measured size lies within the limit."""
    flaw = Flaw("pore", size, (0.0, 0.0), "V01#0", size_upper=upper)
    found = judge_flaws([flaw], _rules(max_pore=2.0), view="V01")
    assert [f.sentence for f in found] == ([sentence] if sentence else [])
    if sentence == "REVIEW":
        assert "conformity not proven" in found[0].message and found[0].rule == "max_pore"


def test_a_measured_indication_carries_its_band_to_the_rules() -> None:
    """judge_view: the blur taken off a measured length is the band's upper end."""
    import dataclasses

    import numpy as np

    from castsight.accept.indications import judge_view
    from castsight.detect.base import Indication
    from castsight.measure import measure_indications

    ind = Indication((10, 10, 6, 6), np.ones((6, 6), bool), -1, 0.05, 9.0, "x")
    m = measure_indications([ind], pixel_size_mm=0.2)[0]
    band = dataclasses.replace(m, max_length_px=4.0, blur_excess_px=2.5)
    plan = load_plan("giga-underbody")  # max_inclusion 1 mm: 0.8 mm sized, 1.3 mm footprint
    _, findings = judge_view(plan, "V01", (64, 64), [ind], [band], pixel_size_mm=0.2)
    assert [(f.rule, f.sentence) for f in findings] == [("max_inclusion", "REVIEW")]
