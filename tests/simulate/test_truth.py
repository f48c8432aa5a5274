"""The simulator's true sentence: every rule of the plan, through the one rules engine."""

from __future__ import annotations

import math

import numpy as np
import pytest

from castsight.accept.plan import InspectionPlan, Rules, ViewPlan, Zone, load_plan
from castsight.accept.rules import Flaw
from castsight.radiograph import Radiograph
from castsight.simulate.dataset import SimulatedPart, SimulatedView, defect_zones
from castsight.simulate.defects import Defect
from castsight.simulate.phantoms import make_phantom
from castsight.simulate.render import DefectView
from castsight.simulate.solids import box, ellipsoid
from castsight.simulate.truth import judge, projected_area_mm2, true_flaws

RULES = load_plan("giga-underbody").rules


def _pore(i: int, size: float, at: tuple[float, float, float]) -> Defect:
    return Defect(i, "pore", "void", at, size, (ellipsoid(at, (size / 2,) * 3),))


def test_the_plan_rules_the_truth_once_ignored_now_apply() -> None:
    # seven reportable pores 1 mm apart: count per area (6) and, with spacing set, spacing
    row = [_pore(i, 1.0, (float(i), 0.0, 0.0)) for i in range(7)]
    sentence, reasons = judge(true_flaws(row), RULES)
    assert sentence == "NG" and reasons[0].startswith("7 pores within 2500 mm^2")
    spaced = RULES.model_copy(update={"min_pore_spacing": 1.5, "max_pores_per_area": None})
    assert judge(true_flaws(row[:2]), spaced)[1] == [
        "pores 1.00 mm apart < min_pore_spacing 1.5 (defect 0, defect 1)"
    ]


def test_min_reportable_keeps_small_pores_out_of_the_count() -> None:
    tiny = [_pore(i, 0.39, (float(i), 0.0, 0.0)) for i in range(7)]
    assert judge(true_flaws(tiny), RULES) == ("OK", [])


def test_shrinkage_counts_with_pores() -> None:
    pores = [_pore(i, 1.0, (float(i), 0.0, 0.0)) for i in range(6)]
    shrink = Defect(6, "shrinkage", "void", (9.0, 0.0, 0.0), 2.0,
                    (ellipsoid((9, 0, 0), (0.3, 0.3, 0.3)),))  # fmt: skip
    assert judge(true_flaws(pores), RULES)[0] == "OK"
    assert judge(true_flaws([*pores, shrink]), RULES)[0] == "NG"


def test_severity_from_porosity_per_reference_area() -> None:
    # one 2 mm pore (pi mm^2) in a 100 mm^2 reference area: 3.14 %, level 3
    rules = Rules(max_pore=None, reference_area=100.0, max_severity=3)
    pore = [_pore(0, 2.0, (0.0, 0.0, 0.0))]
    assert judge(true_flaws(pore), rules)[0] == "OK"
    sentence, reasons = judge(true_flaws(pore), rules.model_copy(update={"max_severity": 2}))
    assert sentence == "NG" and reasons[0].startswith("porosity severity level 3 (3.14 %)")


def test_projected_area_of_pores_and_clusters() -> None:
    pore = Defect(0, "pore", "void", (0, 0, 0), 2.0, (ellipsoid((0, 0, 0), (1.0, 0.8, 0.5)),))
    assert projected_area_mm2(pore) == pytest.approx(math.pi * 0.8)
    crack = Defect(1, "crack", "void", (0, 0, 0), 4.0, (box((0, 0, 0), (2.0, 1.0, 0.05)),))
    assert projected_area_mm2(crack) == pytest.approx(8.0)


def _view(name: str, bbox: tuple[int, int, int, int], defect_id: int) -> SimulatedView:
    truth = DefectView(defect_id, np.ones(bbox[2:][::-1], bool), bbox, 0.1, 1.0, 1.0)
    return SimulatedView(name, Radiograph(np.zeros((100, 100), np.uint16)), (truth,))


def test_a_defect_lies_in_the_zones_its_views_place_it_in() -> None:
    strict = Zone(name="rim", polygon=[(0, 0), (0.5, 0), (0.5, 1), (0, 1)],
                  rules=Rules(max_pore=0.5))  # fmt: skip
    plan = InspectionPlan(part_type="giga-underbody", rules=RULES,
                          default_view=ViewPlan(zones=[strict]))  # fmt: skip
    pore = _pore(0, 1.0, (0.0, 0.0, 0.0))
    phantom = make_phantom("giga-underbody", np.random.default_rng(0))
    left, right = _view("V01", (10, 40, 10, 10), 0), _view("V02", (80, 40, 10, 10), 0)
    both = SimulatedPart("P1", phantom, (pore,), (left, right))
    zones = defect_zones(both, plan)
    assert [z.name for z in zones[0]] == ["rim", "whole"]
    names = {i: [z.name for z in zs] for i, zs in zones.items()}
    flaws = true_flaws([pore], names)
    assert [f.zone for f in flaws] == ["rim", "whole"]
    sentence, reasons = judge(flaws, RULES, zone_rules={"rim": strict.rules})
    assert sentence == "NG" and reasons == ["rim: pore 1.00 mm > max_pore 0.5 mm (defect 0)"]
    only_right = SimulatedPart("P1", phantom, (pore,), (right,))
    assert judge(true_flaws([pore], {0: ["whole"]}), RULES)[0] == "OK"
    assert [z.name for z in defect_zones(only_right, plan)[0]] == ["whole"]


def test_true_flaws_name_defects_by_id() -> None:
    flaws = true_flaws([_pore(4, 1.0, (1.0, 2.0, 3.0))])
    area = pytest.approx(math.pi / 4)
    assert flaws == [Flaw("pore", 1.0, (1.0, 2.0, 3.0), "defect 4", area=area)]
