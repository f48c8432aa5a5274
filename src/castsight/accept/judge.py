"""Findings and the sentence: the quality gates per view, and the fail-safe.

A finding cites the rule, the zone, the view and the indications. The part
is NG when any finding is NG, REVIEW when any is REVIEW (e.g. a view that
could not be inspected, when the plan says so), and OK only when every
expected view was inspected and nothing broke a rule. The plan's rules on
indications are :mod:`castsight.accept.rules`.

>>> f = [Finding("max_pore", "whole", "V01", "NG", "pore 2.60 mm > max_pore 2 mm")]
>>> sentence_of(f), sentence_of([])
('NG', 'OK')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from castsight.accept.plan import QualityGate
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


def coverage_findings(
    judged_pct: float, gate: QualityGate, *, view: str, detector: str, on_fail: str
) -> list[Finding]:
    """A finding when the detector judged less of the part than ``gate.min_judged_pct``.

    What was not judged was not inspected: the view goes to ``on_fail``.

    >>> from castsight.accept.plan import QualityGate
    >>> gate = QualityGate(min_judged_pct=90.0)
    >>> coverage_findings(90.0, gate, view="V01", detector="reference", on_fail="REVIEW")
    []
    >>> f = coverage_findings(89.99, gate, view="V01", detector="reference", on_fail="REVIEW")
    >>> f[0].rule, f[0].sentence
    ('quality.min_judged_pct', 'REVIEW')
    """
    if judged_pct >= gate.min_judged_pct:
        return []
    msg = (f"view {view}: the {detector} detector judged {judged_pct:.1f} % of the part < "
           f"{gate.min_judged_pct:g} % (the rest was not inspected)")  # fmt: skip
    return [Finding("quality.min_judged_pct", "view", view, on_fail, msg)]


def deviation_findings(
    deviating_pct: float | None, gate: QualityGate, *, view: str, on_fail: str
) -> list[Finding]:
    """A finding when more of the part than ``gate.max_deviating_pct`` deviates from the
    taught good parts (``None``: a detector without reference, never a finding).

    >>> from castsight.accept.plan import QualityGate
    >>> gate = QualityGate(max_deviating_pct=1.0)
    >>> deviation_findings(1.0, gate, view="V01", on_fail="REVIEW"), deviation_findings(
    ...     None, gate, view="V01", on_fail="REVIEW")
    ([], [])
    >>> deviation_findings(1.001, gate, view="V01", on_fail="REVIEW")[0].rule
    'quality.max_deviating_pct'
    """
    limit = gate.max_deviating_pct
    if deviating_pct is None or deviating_pct <= limit:
        return []
    msg = (f"view {view}: {deviating_pct:.2f} % of the part deviates from the taught good "
           f"parts (> {limit:g} %): posed outside their range, or another part?")  # fmt: skip
    return [Finding("quality.max_deviating_pct", "view", view, on_fail, msg)]
