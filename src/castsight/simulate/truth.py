"""The sentence a perfect inspector gives a simulated part, under a plan's rules.

It knows every defect's true kind and 3-D size, and applies the same
:class:`~castsight.accept.plan.Rules` the inspection pipeline uses, so truth
and inspection never disagree about the limits (only about what was seen).

>>> from castsight.accept import load_plan
>>> rules = load_plan("giga-underbody").rules
>>> judge([("pore", 2.6, (0.0, 0.0, 0.0))], rules)
('NG', ['pore 2.60 mm > max_pore 2.00 mm (defect 0)'])
>>> judge([("pore", 0.8, (0.0, 0.0, 0.0))], rules)
('OK', [])
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from castsight.accept.plan import Rules

TrueDefect = tuple[str, float, tuple[float, float, float]]
"""(kind, size_mm, centre_mm) of one defect."""


def judge(defects: Sequence[TrueDefect], rules: Rules) -> tuple[str, list[str]]:
    """Return ('OK' | 'NG', reasons), each reason naming the rule and the defect index."""
    reasons: list[str] = []
    limits = {
        "pore": ("max_pore", rules.max_pore),
        "shrinkage": ("max_shrinkage", rules.max_shrinkage),
        "inclusion": ("max_inclusion", rules.max_inclusion),
    }
    for i, (kind, size, _) in enumerate(defects):
        if kind == "crack" and not rules.cracks_allowed:
            reasons.append(f"crack {size:.2f} mm: cracks_allowed is false (defect {i})")
        elif kind in limits:
            name, limit = limits[kind]
            if limit is not None and size > limit:
                reasons.append(f"{kind} {size:.2f} mm > {name} {limit:.2f} mm (defect {i})")
    if rules.max_pores_per_area is not None:
        pores = [np.asarray(c) for k, s, c in defects if k == "pore" and s >= rules.min_reportable]
        radius = math.sqrt(rules.reference_area / math.pi)
        for i, c in enumerate(pores):
            near = sum(1 for o in pores if np.linalg.norm(o - c) <= radius)
            if near > rules.max_pores_per_area:
                reasons.append(
                    f"{near} pores within {rules.reference_area:g} mm^2 > "
                    f"max_pores_per_area {rules.max_pores_per_area} (around pore {i})"
                )
                break
    return ("NG" if reasons else "OK"), reasons
