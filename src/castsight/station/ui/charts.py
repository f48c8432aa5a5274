"""Server-rendered SVG charts for the statistics page: a p-chart with its centre line,
its control limits (a step per subgroup, as they follow each subgroup's size), the
baseline shaded, and each subgroup a point (red: alarm; hollow: too few parts to judge)
whose tooltip gives its figures. Plain strings, escaped; no plotting library.

>>> import datetime as dt
>>> from castsight.station.statistics import Measure, Subgroup, p_chart
>>> groups = [Subgroup(f"g{k}", dt.datetime(2026, 1, k + 1), 100, c)
...           for k, c in enumerate([10, 10, 25])]
>>> svg = p_chart_svg(p_chart(groups, part_type="t", measure=Measure.NG, baseline=2, min_n=10))
>>> svg.startswith("<svg"), svg.count('class="point alarm"'), "UCL" in svg
(True, 1, True)
"""

from __future__ import annotations

import math
from html import escape

from markupsafe import Markup

from castsight.station.statistics import PChart

WIDTH, HEIGHT = 760, 230
LEFT, RIGHT, TOP, BOTTOM = 52, 40, 16, 38
CENTRE_COLOUR = "#1565c0"
LIMIT_COLOUR = "#c62828"
ALARM_COLOUR = "#c62828"


def _nice_top(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k at or above ``value`` (at most 1)."""
    if value <= 0:
        return 0.05
    exponent = math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        top = step * 10.0**exponent
        if top >= value - 1e-12:
            return min(1.0, top)
    return 1.0


def _pct(value: float) -> str:
    return f"{100 * value:.3g} %"


def p_chart_svg(chart: PChart, *, width: int = WIDTH, height: int = HEIGHT) -> Markup:
    """``chart`` as an inline SVG element (``role="img"``, ``data-alarm``)."""
    title = f"{chart.part_type} {chart.measure.value} rate"
    alarm = chart.alarm is not None
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="pchart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'data-part-type="{escape(chart.part_type)}" data-measure="{chart.measure.value}" '
        f'data-alarm="{str(alarm).lower()}" aria-label="{escape(title)} p-chart">'
        f"<title>{escape(title)}: p-chart</title>"
    )
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    parts = [
        head,
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" '
        'fill="#fff" stroke="#bbb"/>',
    ]
    points = chart.points
    if not points or chart.centre is None:
        parts.append(
            f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" '
            f'fill="#777" font-size="13">no subgroup to chart yet</text></svg>'
        )
        return Markup("".join(parts))
    top = _nice_top(
        max(max(p.subgroup.p for p in points), max(p.ucl for p in points), 2 * chart.centre)
    )
    step = plot_w / len(points)

    def x(k: float) -> float:
        return round(LEFT + k * step, 2)

    def y(value: float) -> float:
        return round(TOP + plot_h * (1.0 - min(value, top) / top), 2)

    baseline = [k for k, p in enumerate(points) if p.baseline]
    if baseline:
        parts.append(
            f'<rect class="baseline" x="{x(baseline[0])}" y="{TOP}" '
            f'width="{round((baseline[-1] + 1 - baseline[0]) * step, 2)}" height="{plot_h}" '
            f'fill="#e3f2fd"><title>baseline: {chart.baseline_subgroups} subgroups, '
            f"{chart.baseline_parts} parts</title></rect>"
        )
    for k in range(5):
        value = top * k / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(value)}" y2="{y(value)}" '
            f'stroke="#eee"/><text x="{LEFT - 5}" y="{y(value) + 4}" text-anchor="end" '
            f'font-size="11" fill="#555">{_pct(value)}</text>'
        )
    for name, values in (("UCL", [p.ucl for p in points]), ("LCL", [p.lcl for p in points])):
        path = " ".join(
            f"{'M' if k == 0 else 'L'}{x(k)},{y(v)} L{x(k + 1)},{y(v)}"
            for k, v in enumerate(values)
        )
        parts.append(
            f'<path class="limit {name.lower()}" d="{path}" fill="none" '
            f'stroke="{LIMIT_COLOUR}" stroke-dasharray="5 3" stroke-width="1.3"/>'
            f'<text x="{LEFT + plot_w + 4}" y="{y(values[-1]) + 4}" font-size="11" '
            f'fill="{LIMIT_COLOUR}">{name}</text>'
        )
    parts.append(
        f'<line class="centre" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(chart.centre)}" '
        f'y2="{y(chart.centre)}" stroke="{CENTRE_COLOUR}" stroke-width="1.5"/>'
        f'<text x="{LEFT + plot_w + 4}" y="{y(chart.centre) + 4}" font-size="11" '
        f'fill="{CENTRE_COLOUR}">p&#772;</text>'
    )
    line = " ".join(f"{x(k + 0.5)},{y(p.subgroup.p)}" for k, p in enumerate(points))
    parts.append(f'<polyline points="{line}" fill="none" stroke="#777" stroke-width="1"/>')
    radius = max(1.8, min(4.0, step / 3))
    for k, p in enumerate(points):
        g = p.subgroup
        kind = "alarm" if p.alarm else ("judged" if p.judged else "unjudged")
        fill = {"alarm": ALARM_COLOUR, "judged": "#333", "unjudged": "#fff"}[kind]
        rules = "; ".join(p.rules()) or (
            "not judged (too few parts)" if not p.judged else "in control"
        )
        tip = (
            f"{g.key}: {g.count}/{g.n} = {_pct(g.p)}; limits {_pct(p.lcl)} to "
            f"{_pct(p.ucl)}; {rules}"
        )
        r = radius * (1.5 if kind == "alarm" else 1.0)
        parts.append(
            f'<circle class="point {kind}" cx="{x(k + 0.5)}" cy="{y(g.p)}" r="{round(r, 2)}" '
            f'fill="{fill}" stroke="{ALARM_COLOUR if kind == "alarm" else "#333"}">'
            f"<title>{escape(tip)}</title></circle>"
        )
    every = max(1, math.ceil(len(points) / max(1, plot_w // 120)))
    for k in range(0, len(points), every):
        parts.append(
            f'<text x="{x(k + 0.5)}" y="{TOP + plot_h + 16}" text-anchor="middle" '
            f'font-size="10" fill="#555">{escape(points[k].subgroup.key)}</text>'
        )
    parts.append(
        f'<text x="{LEFT + plot_w / 2}" y="{height - 4}" text-anchor="middle" font-size="11" '
        f'fill="#333">subgroups, oldest first ({len(points)})</text></svg>'
    )
    return Markup("".join(parts))


__all__ = ["p_chart_svg"]
