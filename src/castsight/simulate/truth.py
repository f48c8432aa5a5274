"""The sentence a perfect inspector gives a simulated part, under a plan's rules.

It knows every defect's true kind, 3-D size, centre and projected area, and
applies the rules engine inspection uses (:func:`castsight.accept.rules.judge_zones`:
sizes, cracks, pores per reference area, spacing, porosity %, severity,
``min_reportable``, zones), so truth and inspection never disagree about the
limits, only about what was seen. Distances are taken in the part (3-D, mm),
so a reference area is a ball of the same radius there.

>>> from castsight.accept import load_plan
>>> rules = load_plan("giga-underbody").rules
>>> judge([Flaw("pore", 2.6, (0.0, 0.0, 0.0), "defect 0")], rules)
('NG', ['pore 2.60 mm > max_pore 2 mm (defect 0)'])
>>> judge([Flaw("pore", 0.8, (0.0, 0.0, 0.0), "defect 0")], rules)
('OK', [])
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from castsight.accept.judge import Finding, sentence_of
from castsight.accept.plan import Rules
from castsight.accept.rules import WHOLE, Flaw, judge_zones
from castsight.simulate.defects import Defect


def judge(
    flaws: Sequence[Flaw], rules: Rules, *, zone_rules: Mapping[str, Rules] | None = None
) -> tuple[str, list[str]]:
    """The true sentence ('OK' | 'NG') of a part's flaws and the reasons.

    Parameters
    ----------
    flaws : sequence of Flaw
        The part's defects (:func:`true_flaws`), sizes and positions in mm.
    rules : Rules
        The plan's whole-part rules (zone ``whole``).
    zone_rules : mapping of str to Rules, optional
        The rules of every other zone a flaw lies in.

    Returns
    -------
    sentence : str
        'NG' when a rule is broken, else 'OK'.
    reasons : list of str
        Each finding's message, with the zone (when not ``whole``) and the defects.

    Examples
    --------
    >>> from castsight.accept.plan import Rules
    >>> near = [Flaw("pore", 1.0, (0.0, 0.0, float(z)), f"defect {z}") for z in range(3)]
    >>> judge(near, Rules(min_pore_spacing=1.5))[0], judge(near, Rules())[0]
    ('NG', 'OK')
    """
    findings = judge_zones(flaws, {WHOLE: rules, **(zone_rules or {})}, units="mm")
    return sentence_of(findings), [_reason(f) for f in findings]


def _reason(finding: Finding) -> str:
    where = "" if finding.zone == WHOLE else f"{finding.zone}: "
    ids = f" ({', '.join(finding.indications)})" if finding.indications else ""
    return f"{where}{finding.message}{ids}"


def true_flaws(
    defects: Sequence[Defect], zones: Mapping[int, Sequence[str]] | None = None
) -> list[Flaw]:
    """Each defect as the rules see it, in every zone it lies in (default: ``whole``).

    ``zones`` maps a defect id to the zones the views that image it place it in;
    a defect in two zones is judged under the rules of both.

    >>> from castsight.simulate.solids import ellipsoid
    >>> pore = Defect(3, "pore", "void", (1.0, 2.0, 3.0), 2.0, (ellipsoid((1, 2, 3), (1, 1, 1)),))
    >>> f = true_flaws([pore])[0]
    >>> f.ident, f.zone, round(f.area, 3)
    ('defect 3', 'whole', 3.142)
    """
    out = []
    for d in defects:
        for zone in (zones or {}).get(d.defect_id) or [WHOLE]:
            out.append(Flaw(d.kind, d.size_mm, d.center_mm, f"defect {d.defect_id}",
                            area=projected_area_mm2(d), zone=zone))  # fmt: skip
    return out


def projected_area_mm2(defect: Defect) -> float:
    """The defect's projected area (mm^2): each solid's largest cross-section, summed.

    Overlaps count twice (an upper bound for a shrinkage cluster's voids);
    a pore's is pi a b of its two largest semi-axes.
    """
    total = 0.0
    for solid in defect.solids:
        a, b = sorted(solid.size_mm)[1:]
        total += math.pi * a * b if solid.kind == "ellipsoid" else 4.0 * a * b
    return total
