"""The one HTML stack: the Jinja2 templates in ``castsight/report/templates``.

Both HTML pages castsight writes render here: the inspection report
(``report.html.j2``, :mod:`castsight.report.html`) and the evaluation report
(``evaluation.html.j2``, :mod:`castsight.evaluate.report`). Values are
escaped; an undefined name is an error, never an empty cell.

>>> environment().from_string("{{ x|num }} {{ b|box }} {{ c|ci }}").render(
...     x=0.123456, b=[1.0, 2.5], c=(0.1, 0.25))
'0.123 [1, 2.5] [0.100, 0.250]'
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import jinja2


@functools.cache
def environment() -> jinja2.Environment:
    """The environment every castsight page is rendered in, with its filters.

    Filters: ``num`` (3 significant digits; ``-`` for None or not finite),
    ``ci`` (an interval as ``[lo, hi]``), ``box`` (a COCO box).
    """
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("castsight.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = num
    env.filters["ci"] = _interval
    env.filters["box"] = _box
    return env


def num(value: object, digits: int = 3) -> str:
    """A number for a table cell: ``digits`` significant digits for floats.

    >>> num(None), num(float("nan")), num(2), num(0.000123456)
    ('-', '-', '2', '0.000123')
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def _interval(value: Sequence[float] | None) -> str:
    return "-" if value is None else f"[{value[0]:.3f}, {value[1]:.3f}]"


def _box(value: Sequence[float]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in value) + "]"
