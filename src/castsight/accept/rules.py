"""The one rules engine: a plan's limits applied to flaws, wherever they come from.

A :class:`Flaw` is what the rules need to know of one indication (measured in
a view) or one true defect (the simulator's, in the part): its kind, its
governing size, its position and its projected area, all in the plan's units.
The inspection pipeline and the simulator's true sentence both call
:func:`judge_zones`, so every limit is written once.

>>> from castsight.accept.plan import load_plan
>>> rules = load_plan("giga-underbody").rules
>>> f = judge_flaws([Flaw("pore", 2.6, (0.0, 0.0), "V01#0")], rules, view="V01")
>>> f[0].rule, f[0].sentence, f[0].message
('max_pore', 'NG', 'pore 2.60 mm > max_pore 2 mm')
>>> near = Flaw("inclusion", 0.8, (0.0, 0.0), "V01#1", size_upper=1.3)
>>> judge_flaws([near], rules, view="V01")[0].sentence
'REVIEW'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from castsight.accept.judge import Finding
from castsight.accept.plan import InspectionPlan, Rules, Zone

WHOLE = "whole"
"""The zone of a flaw no zone polygon holds (and of every flaw when a plan has no zones)."""

POROSITY_KINDS = ("pore", "shrinkage")
"""Kinds counted per area, spaced and summed into porosity %."""


@dataclass(frozen=True)
class Flaw:
    """One indication or true defect as the rules see it, in the plan's units.

    ``size`` is the governing size (pore diameter, shrinkage cluster extent,
    crack length, inclusion largest dimension); ``position`` its centre (2-D in
    a view, 3-D in the part: the rules only measure distances); ``area`` its
    projected area (units^2, for porosity %); ``ident`` names it in findings.
    """

    kind: str
    size: float
    position: tuple[float, ...]
    ident: str
    area: float = 0.0
    zone: str = WHOLE
    size_upper: float | None = None
    """The largest the size may be (a measured flaw: its footprint before the blur was
    taken off); None: the size is exact (the simulator's truth)."""


def zones_of(plan: InspectionPlan, view: str) -> list[Zone]:
    """The zones of ``view`` in ``plan``, or one whole zone under the plan's rules.

    >>> from castsight.accept.plan import load_plan
    >>> [z.name for z in zones_of(load_plan("generic"), "V01")]
    ['whole']
    """
    return plan.view_plan(view).zones or [Zone(name=WHOLE, rules=plan.rules)]


def zone_at(zones: Sequence[Zone], rules: Rules, x_frac: float, y_frac: float) -> Zone:
    """The first zone whose polygon holds the point (fractions of width and height).

    A zone without polygon holds every point; a point in no zone lies in the
    whole zone under ``rules`` (the plan's whole-part rules).

    >>> from castsight.accept.plan import Rules
    >>> left = Zone(name="left", polygon=[(0, 0), (0.5, 0), (0.5, 1), (0, 1)])
    >>> zone_at([left], Rules(), 0.25, 0.5).name, zone_at([left], Rules(), 0.75, 0.5).name
    ('left', 'whole')
    """
    for zone in zones:
        if zone.polygon is None or _inside(zone.polygon, x_frac, y_frac):
            return zone
    return Zone(name=WHOLE, rules=rules)


def _inside(poly: Sequence[tuple[float, float]], x: float, y: float) -> bool:
    inside = False
    n = len(poly)
    for i in range(n):
        (x1, y1), (x2, y2) = poly[i], poly[(i + 1) % n]
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def judge_zones(
    flaws: Sequence[Flaw], rules_of: Mapping[str, Rules], *, units: str = "mm",
    view: str | None = None,
) -> list[Finding]:  # fmt: skip
    """:func:`judge_flaws` for each zone's flaws (zones in order of first flaw), deduplicated.

    ``rules_of`` maps each flaw's zone to its rules.

    >>> from castsight.accept.plan import Rules
    >>> strict, loose = Rules(max_pore=1.0), Rules(max_pore=3.0)
    >>> flaws = [Flaw("pore", 2.0, (0.0, 0.0), "a", zone="rim"),
    ...          Flaw("pore", 2.0, (90.0, 0.0), "b", zone="hub")]
    >>> [(f.zone, f.indications) for f in judge_zones(flaws, {"rim": strict, "hub": loose})]
    [('rim', ('a',))]
    """
    by_zone: dict[str, list[Flaw]] = {}
    for flaw in flaws:
        by_zone.setdefault(flaw.zone, []).append(flaw)
    findings: list[Finding] = []
    for zone, members in by_zone.items():
        findings += judge_flaws(members, rules_of[zone], units=units, view=view, zone=zone)
    return _dedupe(findings)


def judge_flaws(
    flaws: Sequence[Flaw], rules: Rules, *, units: str = "mm", view: str | None = None,
    zone: str = WHOLE,
) -> list[Finding]:  # fmt: skip
    """Every rule of one zone: size limits per kind, cracks, unclassified indications,
    pores per reference area, pore spacing, porosity % and severity level.

    Flaws smaller than ``rules.min_reportable`` are not judged. Pores and
    shrinkage (:data:`POROSITY_KINDS`) are counted, spaced and summed.

    Parameters
    ----------
    flaws : sequence of Flaw
        The zone's flaws, in the plan's units.
    rules : Rules
        The zone's limits.
    units : str, default "mm"
        The plan's units, for the messages.
    view : str or None, default None
        The view the flaws were seen in (``None``: the part).
    zone : str, default "whole"
        The zone's name, for the findings.

    Returns
    -------
    list of Finding
        One per broken rule (size limits: one per flaw), NG except an
        unclassified indication and a flaw within a size limit whose
        ``size_upper`` is not (REVIEW).

    Examples
    --------
    >>> from castsight.accept.plan import Rules
    >>> rules = Rules(min_pore_spacing=5.0)
    >>> pores = [Flaw("pore", 1.0, (0.0, 0.0), "a"), Flaw("pore", 1.0, (4.0, 0.0), "b")]
    >>> [(f.rule, f.indications) for f in judge_flaws(pores, rules)]
    [('min_pore_spacing', ('a', 'b'))]
    """
    judged = [f for f in flaws if f.size >= rules.min_reportable]
    out = [s for f in judged if (s := _size_finding(f, rules, units, view, zone)) is not None]
    pores = [f for f in judged if f.kind in POROSITY_KINDS]
    if pores:
        out += _porosity_findings(pores, rules, units, view, zone)
    return out


def _size_finding(
    flaw: Flaw, rules: Rules, units: str, view: str | None, zone: str
) -> Finding | None:
    limits = {
        "pore": ("max_pore", rules.max_pore),
        "shrinkage": ("max_shrinkage", rules.max_shrinkage),
        "inclusion": ("max_inclusion", rules.max_inclusion),
    }
    kind, size, ids = flaw.kind, flaw.size, (flaw.ident,)
    if kind == "crack" and not rules.cracks_allowed:
        msg = f"crack {size:.2f} {units}: cracks are not allowed"
        return Finding("cracks_allowed", zone, view, "NG", msg, ids)
    if kind in limits:
        name, limit = limits[kind]
        if limit is not None and size > limit:
            msg = f"{kind} {size:.2f} {units} > {name} {limit:g} {units}"
            return Finding(name, zone, view, "NG", msg, ids)
        upper = flaw.size_upper
        if limit is not None and upper is not None and upper > limit:
            # within the limit as sized, over it as the footprint measures: conformity
            # is not proven (the decision rule of ISO 14253-1), so a person decides
            msg = (f"{kind} {size:.2f} {units} (up to {upper:.2f} {units} with the blur) "
                   f"near {name} {limit:g} {units}: conformity not proven")  # fmt: skip
            return Finding(name, zone, view, "REVIEW", msg, ids)
    elif kind == "unknown":
        msg = f"unclassified indication {size:.2f} {units}"
        return Finding("unknown", zone, view, "REVIEW", msg, ids)
    return None


def _porosity_findings(
    pores: Sequence[Flaw], rules: Rules, units: str, view: str | None, zone: str
) -> list[Finding]:
    """Count per reference area, spacing, porosity % and severity of one zone's pores.

    Count and porosity % are taken in the worst reference area: a circle (a
    ball, for positions in the part) of ``rules.reference_area`` around each pore.
    """
    out: list[Finding] = []
    ids = [f.ident for f in pores]
    d = _distances(pores)
    near = d <= math.sqrt(rules.reference_area / math.pi)
    area_of = rules.reference_area
    if rules.max_pores_per_area is not None:
        counts = near.sum(1)
        worst = int(np.argmax(counts))
        if counts[worst] > rules.max_pores_per_area:
            members = tuple(ids[j] for j in np.nonzero(near[worst])[0])
            msg = (f"{int(counts[worst])} pores within {area_of:g} {units}^2 > "
                   f"max_pores_per_area {rules.max_pores_per_area}")  # fmt: skip
            out.append(Finding("max_pores_per_area", zone, view, "NG", msg, members))
    if rules.min_pore_spacing is not None and len(pores) > 1:
        apart = np.where(np.eye(len(pores), dtype=bool), np.inf, d)
        i, j = np.unravel_index(int(np.argmin(apart)), apart.shape)
        if apart[i, j] < rules.min_pore_spacing:
            msg = (f"pores {apart[i, j]:.2f} {units} apart < min_pore_spacing "
                   f"{rules.min_pore_spacing:g}")  # fmt: skip
            out.append(Finding("min_pore_spacing", zone, view, "NG", msg, (ids[i], ids[j])))
    pct = porosity_pct(pores, rules.reference_area)
    if rules.max_porosity_area_pct is not None and pct > rules.max_porosity_area_pct:
        msg = (f"porosity {pct:.2f} % of {area_of:g} {units}^2 > max_porosity_area_pct "
               f"{rules.max_porosity_area_pct:g}")  # fmt: skip
        out.append(Finding("max_porosity_area_pct", zone, view, "NG", msg))
    level = severity_level(pct, rules.severity_thresholds_pct)
    if rules.max_severity is not None and level > rules.max_severity:
        msg = f"porosity severity level {level} ({pct:.2f} %) > max_severity {rules.max_severity}"
        out.append(Finding("max_severity", zone, view, "NG", msg))
    return out


def porosity_pct(pores: Sequence[Flaw], reference_area: float) -> float:
    """The largest share (%) of a reference area the pores' projected areas cover.

    The reference area is a circle of ``reference_area`` around each pore in turn
    (a ball in the part); the pores whose centres lie in it count whole.

    >>> pores = [Flaw("pore", 2.0, (0.0, 0.0), "a", area=20.0),
    ...          Flaw("pore", 2.0, (10.0, 0.0), "b", area=5.0)]
    >>> porosity_pct(pores, 1000.0), porosity_pct(pores, 100.0)
    (2.5, 20.0)
    """
    if not pores:
        return 0.0
    areas = np.array([f.area for f in pores], dtype=np.float64)
    near = _distances(pores) <= math.sqrt(reference_area / math.pi)
    return float(100.0 * (near @ areas).max() / reference_area)


def _distances(flaws: Sequence[Flaw]) -> np.ndarray:
    pts = np.array([f.position for f in flaws], dtype=np.float64)
    return np.asarray(np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1)))


def severity_level(porosity_pct: float, thresholds: Sequence[float]) -> int:
    """ASTM E505-style level 0..4: the highest level whose threshold is reached.

    >>> severity_level(1.5, (0.5, 1.0, 2.0, 4.0)), severity_level(1.0, (0.5, 1.0, 2.0, 4.0))
    (2, 2)
    """
    return sum(1 for t in thresholds if porosity_pct >= t)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, tuple[str, ...]]] = set()
    out = []
    for f in findings:
        key = (f.rule, f.zone, f.indications)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
