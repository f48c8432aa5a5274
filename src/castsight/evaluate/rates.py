"""Part-level rates: confusion matrix, escapes and false calls with binomial intervals.

An *escape* is a truly NG part sentenced OK (the rate that must be zero); a
*false call* is a truly OK part sentenced NG or REVIEW. Each count comes with a
Wilson score interval and an exact Clopper-Pearson interval.

>>> r = Rate(0, 10)
>>> r.rate, [round(v, 4) for v in r.clopper_pearson], [round(v, 4) for v in r.wilson]
(0.0, [0.0, 0.3085], [0.0, 0.2775])
>>> Rate(0, 0).rate is None
True
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scipy import stats

from castsight.errors import InputError

TRUE_SENTENCES = ("OK", "NG")
FOUND_COLUMNS = ("OK", "NG", "REVIEW", "MISSING")


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval for ``k`` successes in ``n`` trials; None when ``n == 0``.

    >>> [round(v, 4) for v in wilson_interval(5, 10)]
    [0.2366, 0.7634]
    """
    if n <= 0:
        return None
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def clopper_pearson_interval(
    k: int, n: int, confidence: float = 0.95
) -> tuple[float, float] | None:
    """Exact (Clopper-Pearson) interval from beta quantiles; None when ``n == 0``.

    >>> [round(v, 4) for v in clopper_pearson_interval(10, 10)]
    [0.6915, 1.0]
    """
    if n <= 0:
        return None
    alpha = 1.0 - confidence
    lower = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2.0, k, n - k + 1))
    upper = 1.0 if k == n else float(stats.beta.ppf(1.0 - alpha / 2.0, k + 1, n - k))
    return lower, upper


@dataclass(frozen=True)
class Rate:
    """``k`` events in ``n`` trials, with the rate and its two intervals (None if n = 0)."""

    k: int
    n: int
    confidence: float = 0.95

    @property
    def rate(self) -> float | None:
        """k / n, or None when there were no trials."""
        return None if self.n == 0 else self.k / self.n

    @property
    def wilson(self) -> tuple[float, float] | None:
        """Wilson score interval at :attr:`confidence`."""
        return wilson_interval(self.k, self.n, self.confidence)

    @property
    def clopper_pearson(self) -> tuple[float, float] | None:
        """Clopper-Pearson interval at :attr:`confidence`."""
        return clopper_pearson_interval(self.k, self.n, self.confidence)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        w, cp = self.wilson, self.clopper_pearson
        return {
            "k": self.k,
            "n": self.n,
            "rate": self.rate,
            "confidence": self.confidence,
            "wilson": None if w is None else list(w),
            "clopper_pearson": None if cp is None else list(cp),
        }


@dataclass(frozen=True)
class PartRates:
    """Part-level outcome of an inspection run against the true sentences."""

    confusion: dict[str, dict[str, int]]
    escapes: Rate
    false_calls: Rate
    reviews: Rate
    n_parts: int
    missing: tuple[str, ...]
    unknown: tuple[str, ...]
    truth_field: str
    seconds_per_part: dict[str, float] | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "truth_field": self.truth_field,
            "n_parts": self.n_parts,
            "confusion": self.confusion,
            "escapes": self.escapes.to_dict(),
            "false_calls": self.false_calls.to_dict(),
            "reviews": self.reviews.to_dict(),
            "missing_records": list(self.missing),
            "unknown_serials": list(self.unknown),
            "seconds_per_part": self.seconds_per_part,
        }


def _timings(records: Iterable[Mapping[str, Any]]) -> dict[str, float] | None:
    times = []
    for record in records:
        timings = record.get("timings")
        total = timings.get("total_s") if isinstance(timings, dict) else None
        if isinstance(total, int | float) and math.isfinite(total):
            times.append(float(total))
    if not times:
        return None
    return {
        "n": float(len(times)),
        "mean": statistics.fmean(times),
        "median": statistics.median(times),
        "max": max(times),
    }


def part_rates(
    parts: Sequence[Mapping[str, Any]],
    records: Sequence[Mapping[str, Any]],
    *,
    use_imaged: bool = False,
    confidence: float = 0.95,
) -> PartRates:
    """Compare found sentences (``records``) with true ones (``parts``).

    The truth is ``sentence`` (or ``sentence_imaged`` with ``use_imaged``: NG only
    if a rejectable defect shows in some view). Parts without a record count as
    MISSING, never as OK; records of unknown serials are listed, not counted. A
    serial recorded twice keeps its last record.

    >>> parts = [{"serial": "A", "sentence": "NG"}, {"serial": "B", "sentence": "OK"},
    ...          {"serial": "C", "sentence": "OK"}]
    >>> records = [{"serial": "A", "sentence": "OK"}, {"serial": "B", "sentence": "REVIEW"}]
    >>> r = part_rates(parts, records)
    >>> (r.escapes.k, r.escapes.n), (r.false_calls.k, r.false_calls.n), r.missing
    ((1, 1), (1, 1), ('C',))
    """
    field = "sentence_imaged" if use_imaged else "sentence"
    found = {str(r["serial"]): str(r["sentence"]).upper() for r in records}
    confusion = {t: dict.fromkeys(FOUND_COLUMNS, 0) for t in TRUE_SENTENCES}
    serials = set()
    missing = []
    for part in parts:
        serial, truth = str(part["serial"]), part.get(field)
        if truth not in TRUE_SENTENCES:
            raise InputError("parts", f"part {serial}: {field} must be OK or NG")
        serials.add(serial)
        column = found.get(serial, "MISSING")
        if column not in FOUND_COLUMNS:
            raise InputError("records", f"part {serial}: sentence {column!r} is not OK/NG/REVIEW")
        if column == "MISSING":
            missing.append(serial)
        confusion[truth][column] += 1
    if parts and records and not serials & set(found):
        raise InputError("records", "no record names a part of the truth (serials differ)")
    ng, ok = confusion["NG"], confusion["OK"]
    n_ng = ng["OK"] + ng["NG"] + ng["REVIEW"]
    n_ok = ok["OK"] + ok["NG"] + ok["REVIEW"]
    return PartRates(
        confusion=confusion,
        escapes=Rate(ng["OK"], n_ng, confidence),
        false_calls=Rate(ok["NG"] + ok["REVIEW"], n_ok, confidence),
        reviews=Rate(ng["REVIEW"] + ok["REVIEW"], n_ng + n_ok, confidence),
        n_parts=len(parts),
        missing=tuple(missing),
        unknown=tuple(sorted(set(found) - serials)),
        truth_field=field,
        seconds_per_part=_timings(r for r in records if str(r["serial"]) in serials),
    )
