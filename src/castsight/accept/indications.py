"""The plan's rules on one view's indications: their zones, their flaws, the findings.

Sizes are measured in pixels; the plan may be in millimetres at the part. A
shrinkage cluster is judged by its extent, every other kind by its largest
length; positions are the indications' centroids.

>>> import numpy as np
>>> from castsight.accept.plan import load_plan
>>> from castsight.detect.base import Indication
>>> from castsight.measure import measure_indications
>>> yy, xx = np.mgrid[:30, :30]
>>> mask = (yy - 14.5) ** 2 + (xx - 14.5) ** 2 <= 15 ** 2
>>> ind = Indication((10, 10, 30, 30), mask, 1, 0.5, 9.0, "local")
>>> m = measure_indications([ind], pixel_size_mm=0.1)
>>> zones, findings = judge_view(load_plan("giga-underbody"), "V01", (200, 200), [ind], m,
...                              pixel_size_mm=0.1)
>>> zones, [(f.rule, f.indications) for f in findings]
(('whole',), [('max_pore', ('V01#0',))])
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from castsight.accept.judge import Finding
from castsight.accept.plan import InspectionPlan, Rules
from castsight.accept.rules import Flaw, judge_zones, zone_at, zones_of
from castsight.detect.base import Indication
from castsight.measure import Measurement


def judge_view(
    plan: InspectionPlan,
    view: str,
    shape: tuple[int, int],
    indications: Sequence[Indication],
    measurements: Sequence[Measurement],
    *,
    pixel_size_mm: float | None,
    unjudged: Collection[int] = (),
) -> tuple[tuple[str, ...], list[Finding]]:
    """Each indication's zone (by its centroid) and the findings of the plan's rules.

    Parameters
    ----------
    plan : InspectionPlan
        Its zones for ``view`` (:func:`~castsight.accept.rules.zones_of`) and their rules.
    view : str
        The view's name; indications are named ``view#k``.
    shape : tuple of int
        The view's (rows, columns): zone polygons are fractions of them.
    indications, measurements : sequences of Indication and Measurement
        One measurement per indication.
    pixel_size_mm : float or None
        Pixel size at the part, for a plan in mm (``None`` there: 1 mm per pixel;
        the pipeline refuses such a view before it gets here).
    unjudged : collection of int
        Positions of indications the rules leave out (they still get their zone):
        those other views looked at and did not confirm. They count towards no
        rule, porosity and severity included.

    Returns
    -------
    zones : tuple of str
        The zone of each indication.
    findings : list of Finding
        :func:`~castsight.accept.rules.judge_zones` of the view's flaws.
    """
    scale = 1.0 if plan.units == "px" else float(pixel_size_mm or 1.0)
    zones = zones_of(plan, view)
    rows, cols = shape
    flaws: list[Flaw] = []
    rules_of: dict[str, Rules] = {}
    names: list[str] = []
    for k, (ind, m) in enumerate(zip(indications, measurements, strict=True)):
        x, y = ind.centroid
        zone = zone_at(zones, plan.rules, x / cols, y / rows)
        names.append(zone.name)
        if k in unjudged:
            continue
        rules_of[zone.name] = zone.rules
        extent = m.cluster_extent_px if m.kind == "shrinkage" else None
        size = extent or m.max_length_px
        # the blur taken off the length is what the size may be short of
        upper = None if extent or not m.blur_excess_px else m.max_length_px + m.blur_excess_px
        flaws.append(Flaw(
            m.kind, float(size) * scale, (x * scale, y * scale), f"{view}#{k}",
            area=m.area_px * scale * scale, zone=zone.name,
            size_upper=None if upper is None else upper * scale,
        ))  # fmt: skip
    return tuple(names), judge_zones(flaws, rules_of, units=plan.units, view=view)
