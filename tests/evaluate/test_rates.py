"""Wilson and Clopper-Pearson intervals; part-level confusion, escapes, false calls."""

from __future__ import annotations

import pytest

from castsight.errors import InputError
from castsight.evaluate import Rate, clopper_pearson_interval, part_rates, wilson_interval


@pytest.mark.parametrize(
    ("k", "n", "cp", "wilson"),
    [
        (0, 10, (0.0, 0.30850), (0.0, 0.27753)),
        (3, 10, (0.06674, 0.65245), (0.10779, 0.60322)),
        (10, 10, (0.69150, 1.0), (0.72247, 1.0)),
        (1, 100, (0.00025, 0.05446), (0.00177, 0.05449)),
    ],
)
def test_intervals_match_known_values(
    k: int, n: int, cp: tuple[float, float], wilson: tuple[float, float]
) -> None:
    assert clopper_pearson_interval(k, n) == pytest.approx(cp, abs=5e-5)
    assert wilson_interval(k, n) == pytest.approx(wilson, abs=5e-5)


def test_no_trials_gives_none() -> None:
    r = Rate(0, 0)
    assert r.rate is None and r.wilson is None and r.clopper_pearson is None
    assert r.to_dict()["wilson"] is None


PARTS = [
    {"serial": "A", "sentence": "NG", "sentence_imaged": "OK"},
    {"serial": "B", "sentence": "NG", "sentence_imaged": "NG"},
    {"serial": "C", "sentence": "OK", "sentence_imaged": "OK"},
    {"serial": "D", "sentence": "OK", "sentence_imaged": "OK"},
    {"serial": "E", "sentence": "OK", "sentence_imaged": "OK"},
]
RECORDS = [
    {"serial": "A", "sentence": "OK", "timings": {"total_s": 1.0}},
    {"serial": "B", "sentence": "REVIEW", "timings": {"total_s": 3.0}},
    {"serial": "C", "sentence": "NG"},
    {"serial": "D", "sentence": "OK"},
    {"serial": "X", "sentence": "OK"},
]


def test_confusion_escapes_and_false_calls() -> None:
    r = part_rates(PARTS, RECORDS)
    assert r.confusion["NG"] == {"OK": 1, "NG": 0, "REVIEW": 1, "MISSING": 0}
    assert r.confusion["OK"] == {"OK": 1, "NG": 1, "REVIEW": 0, "MISSING": 1}
    assert (r.escapes.k, r.escapes.n) == (1, 2)
    assert (r.false_calls.k, r.false_calls.n) == (1, 2)
    assert r.missing == ("E",) and r.unknown == ("X",)
    assert r.seconds_per_part == {"n": 2.0, "mean": 2.0, "median": 2.0, "max": 3.0}


def test_sentence_imaged_option() -> None:
    r = part_rates(PARTS, RECORDS, use_imaged=True)
    assert (r.escapes.k, r.escapes.n) == (0, 1) and r.truth_field == "sentence_imaged"


def test_records_of_other_parts_are_refused() -> None:
    with pytest.raises(InputError, match="serials differ"):
        part_rates(PARTS, [{"serial": "Z", "sentence": "OK"}])
