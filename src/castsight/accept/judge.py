"""Sentence a part: the quality gate per view, the plan's rules per zone, and the fail-safe.

A finding cites the rule, the zone, the view and the indications. The part
is NG when any finding is NG, REVIEW when any is REVIEW (e.g. a view that
could not be inspected, when the plan says so), and OK only when every
expected view was inspected and nothing broke a rule.

>>> from castsight.accept.plan import load_plan
>>> plan = load_plan("giga-underbody")
>>> f = judge_indication_sizes([("pore", 2.6, "V01#0", "whole")], plan.rules, "mm", "V01")
>>> f[0].rule, f[0].sentence
('max_pore', 'NG')
>>> sentence_of(f), sentence_of([])
('NG', 'OK')
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from castsight.accept.plan import QualityGate, Rules, Zone
from castsight.preprocess.prepare import ImageQuality

MAX_OVER_RANGE_PCT = 0.5
"""Share of a view brighter than the open beam allows before the exposure is called wrong."""


@dataclass(frozen=True)
class Finding:
    """One reason a part is not OK."""

    rule: str
    zone: str
    view: str | None
    sentence: str
    message: str
    indications: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """JSON form for the record."""
        return {
            "rule": self.rule,
            "zone": self.zone,
            "view": self.view,
            "sentence": self.sentence,
            "message": self.message,
            "indications": list(self.indications),
        }


def sentence_of(findings: Iterable[Finding]) -> str:
    """NG beats REVIEW beats OK."""
    seen = {f.sentence for f in findings}
    return "NG" if "NG" in seen else "REVIEW" if "REVIEW" in seen else "OK"


def quality_findings(
    quality: ImageQuality, gate: QualityGate, view: str, on_fail: str
) -> list[Finding]:
    """Findings for each quality figure outside the plan's gate (empty: judge the view).

    A view with too little part gets one finding that says why (clipped: over-exposed;
    no signal: under-exposed; else the part is missing), and nothing else: the other
    figures describe the part and there is none to describe. A figure that could not be
    measured (``quality.snr is None``) is never a finding.
    """
    if quality.part_pct < gate.min_part_pct:
        return [Finding("quality.min_part_pct", "view", view, on_fail, _no_part(quality, gate))]
    snr_n = quality.snr_normalised(gate.basic_spatial_resolution_um)
    checks = [
        ("quality.min_signal_fraction", quality.signal_fraction < gate.min_signal_fraction,
         f"median signal {quality.signal_fraction:.3f} of full scale "
         f"< {gate.min_signal_fraction:g} (under-exposed)"),
        ("quality.max_saturated_pct", quality.saturated_pct > gate.max_saturated_pct,
         f"{quality.saturated_pct:.2f} % of the part clipped at grey level "
         f"{_level(quality.clip_level)} > {gate.max_saturated_pct:g} % (over-exposed)"),
        ("quality.open_beam", quality.over_range_pct > MAX_OVER_RANGE_PCT,
         f"{quality.over_range_pct:.2f} % of the view brighter than the open beam "
         "(exposure does not match the calibration)"),
        ("quality.min_snr", quality.snr is not None and quality.snr < gate.min_snr,
         f"SNR {quality.snr or 0.0:.1f} < {gate.min_snr:g} (noisy: under-exposed?)"),
        ("quality.min_snr_normalised",
         gate.min_snr_normalised is not None and snr_n is not None
         and snr_n < gate.min_snr_normalised,
         f"SNR_N {snr_n or 0.0:.1f} < {gate.min_snr_normalised or 0.0:g}"),
    ]  # fmt: skip
    return [Finding(rule, "view", view, on_fail, msg) for rule, bad, msg in checks if bad]


def _level(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


def _no_part(quality: ImageQuality, gate: QualityGate) -> str:
    share = f"part covers {quality.part_pct:.1f} % of the view < {gate.min_part_pct:g} %"
    if quality.clipped_pct >= 50.0:
        return (
            f"over-exposed: {quality.clipped_pct:.1f} % of the view clipped at grey level "
            f"{_level(quality.clip_level)}; {share}"
        )
    if quality.dark_pct >= 50.0:
        return f"under-exposed: {quality.dark_pct:.1f} % of the view without signal; {share}"
    return share


def quality_record(quality: ImageQuality, gate: QualityGate) -> dict[str, float | str | None]:
    """The view's ``quality`` object in the record (``None``: could not be measured).

    >>> from castsight.accept.plan import QualityGate
    >>> from castsight.preprocess.noise import NoiseEstimate
    >>> q = ImageQuality(0.4, 0.0, 0.0, None, 90.0, NoiseEstimate(0, 0, 0, 0),
    ...                  snr_unknown="noise below 0.5 quantisation step")
    >>> rec = quality_record(q, QualityGate())
    >>> rec["snr"], rec["snr_normalised"], rec["snr_unknown"]
    (None, None, 'noise below 0.5 quantisation step')
    """
    snr_n = quality.snr_normalised(gate.basic_spatial_resolution_um)
    srb = gate.basic_spatial_resolution_um or quality.pixel_pitch_um
    return {
        "signal_fraction": round(quality.signal_fraction, 4),
        "saturated_pct": round(quality.saturated_pct, 4),
        "over_range_pct": round(quality.over_range_pct, 4),
        "snr": None if quality.snr is None else round(quality.snr, 2),
        "part_pct": round(quality.part_pct, 2),
        "snr_unknown": quality.snr_unknown,
        "snr_normalised": None if snr_n is None else round(snr_n, 2),
        "srb_um": None if snr_n is None or srb is None else round(srb, 2),
        "noise_grey": None if quality.noise_grey is None else round(quality.noise_grey, 4),
        "clip_level": quality.clip_level,
        "clipped_pct": round(quality.clipped_pct, 4),
    }


def zone_of(zones: Sequence[Zone], x_frac: float, y_frac: float) -> Zone | None:
    """The first zone whose polygon holds the point (fractions of width/height), if any."""
    for zone in zones:
        if zone.polygon is None:
            return zone
        if _inside(zone.polygon, x_frac, y_frac):
            return zone
    return None


def _inside(poly: Sequence[tuple[float, float]], x: float, y: float) -> bool:
    inside = False
    n = len(poly)
    for i in range(n):
        (x1, y1), (x2, y2) = poly[i], poly[(i + 1) % n]
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


Judged = tuple[str, float, str, str]
"""(kind, size in plan units, indication id, zone name) of one indication."""


def judge_indication_sizes(
    items: Sequence[Judged], rules: Rules, units: str, view: str
) -> list[Finding]:
    """Size limits per kind: cracks, pores, shrinkage, inclusions."""
    limits = {
        "pore": ("max_pore", rules.max_pore),
        "shrinkage": ("max_shrinkage", rules.max_shrinkage),
        "inclusion": ("max_inclusion", rules.max_inclusion),
    }
    out: list[Finding] = []
    for kind, size, ident, zone in items:
        if size < rules.min_reportable:
            continue
        if kind == "crack" and not rules.cracks_allowed:
            msg = f"crack {size:.2f} {units}: cracks are not allowed"
            out.append(Finding("cracks_allowed", zone, view, "NG", msg, (ident,)))
        elif kind in limits:
            name, limit = limits[kind]
            if limit is not None and size > limit:
                msg = f"{kind} {size:.2f} {units} > {name} {limit:g} {units}"
                out.append(Finding(name, zone, view, "NG", msg, (ident,)))
        elif kind == "unknown":
            msg = f"unclassified indication {size:.2f} {units}"
            out.append(Finding("unknown", zone, view, "REVIEW", msg, (ident,)))
    return out


def judge_porosity(
    centres: np.ndarray,
    sizes: Sequence[float],
    areas: Sequence[float],
    ids: Sequence[str],
    rules: Rules,
    units: str,
    view: str,
    zone: str,
    part_area: float,
) -> list[Finding]:
    """Count per reference area, minimum spacing, porosity area % and severity level.

    ``centres`` (n x 2), ``sizes`` and ``areas`` are of the pores of one zone
    in plan units; ``part_area`` is the zone's inspected area (units^2).
    """
    out: list[Finding] = []
    keep = [i for i, s in enumerate(sizes) if s >= rules.min_reportable]
    if not keep:
        return out
    pts = centres[keep]
    if rules.max_pores_per_area is not None and len(pts) > rules.max_pores_per_area:
        radius = math.sqrt(rules.reference_area / math.pi)
        d = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1))
        counts = (d <= radius).sum(1)
        worst = int(np.argmax(counts))
        if counts[worst] > rules.max_pores_per_area:
            near = tuple(ids[keep[j]] for j in np.nonzero(d[worst] <= radius)[0])
            msg = (f"{int(counts[worst])} pores within {rules.reference_area:g} {units}^2 > "
                   f"max_pores_per_area {rules.max_pores_per_area}")  # fmt: skip
            out.append(Finding("max_pores_per_area", zone, view, "NG", msg, near))
    if rules.min_pore_spacing is not None and len(pts) > 1:
        d = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1)) + np.eye(len(pts)) * 1e12
        i, j = np.unravel_index(int(np.argmin(d)), d.shape)
        if d[i, j] < rules.min_pore_spacing:
            msg = f"pores {d[i, j]:.2f} {units} apart < min_pore_spacing {rules.min_pore_spacing:g}"
            out.append(Finding("min_pore_spacing", zone, view, "NG", msg,
                               (ids[keep[int(i)]], ids[keep[int(j)]])))  # fmt: skip
    pct = 100.0 * sum(areas[k] for k in keep) / part_area if part_area > 0 else 0.0
    if rules.max_porosity_area_pct is not None and pct > rules.max_porosity_area_pct:
        msg = (
            f"porosity {pct:.2f} % of area > max_porosity_area_pct {rules.max_porosity_area_pct:g}"
        )
        out.append(Finding("max_porosity_area_pct", zone, view, "NG", msg))
    level = severity_level(pct, rules.severity_thresholds_pct)
    if rules.max_severity is not None and level > rules.max_severity:
        msg = f"porosity severity level {level} > max_severity {rules.max_severity}"
        out.append(Finding("max_severity", zone, view, "NG", msg))
    return out


def severity_level(porosity_pct: float, thresholds: Sequence[float]) -> int:
    """ASTM E505-style level 0..4: the highest level whose threshold is reached.

    >>> severity_level(1.5, (0.5, 1.0, 2.0, 4.0))
    2
    """
    return sum(1 for t in thresholds if porosity_pct >= t)
