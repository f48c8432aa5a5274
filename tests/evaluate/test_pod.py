"""MIL-HDBK-1823A hit/miss POD: recovery of a known curve, LR bounds, degenerate data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from castsight.evaluate import fit_pod, hit_miss, pod_curve
from tests.evaluate.fixtures import ann, pred, truth

MU, SIGMA = math.log(1.0), 0.25


def _draw(model: str, seed: int = 0, n: int = 400) -> tuple[np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(seed)
    a = np.exp(rng.uniform(math.log(0.3), math.log(4.0), n))
    eta = (np.log(a) - MU) / SIGMA
    p = special.expit(eta) if model == "logit" else special.ndtr(eta)
    q90 = math.log(9.0) if model == "logit" else float(special.ndtri(0.9))
    return a, rng.random(n) < p, math.exp(MU + SIGMA * q90)


@pytest.mark.parametrize("model", ["logit", "probit"])
def test_recovers_a_known_curve(model: str) -> None:
    a, hits, true_a90 = _draw(model)
    r = fit_pod(a, hits, model=model)
    assert r.converged and r.notes == () and r.n == 400
    assert r.a90 is not None and r.a90_95 is not None and r.a90_lower is not None
    assert r.a90_lower <= true_a90 <= r.a90_95
    assert r.a90 <= r.a90_95
    assert r.mu == pytest.approx(MU, abs=0.1) and r.sigma == pytest.approx(SIGMA, rel=0.25)


def test_lower_band_crosses_090_at_a90_95() -> None:
    a, hits, _ = _draw("logit")
    r = fit_pod(a, hits)
    assert r.a90 is not None and r.a90_95 is not None
    curve = pod_curve(r, [r.a90, r.a90_95, 3.0])
    assert curve.pod[0] == pytest.approx(0.9)
    assert curve.lower[1] == pytest.approx(0.9, abs=1e-6)
    assert all(lo < p for lo, p in zip(curve.lower, curve.pod, strict=True))
    default = pod_curve(r)
    assert len(default.sizes) == 60 and np.all(np.diff(default.lower) >= -1e-9)


def test_all_hits_gives_none_with_a_note() -> None:
    r = fit_pod([0.5, 1.0, 2.0, 4.0], [True] * 4)
    assert (r.mu, r.sigma, r.a50, r.a90, r.a90_95) == (None,) * 5
    assert not r.converged and "all 4 targets were hit" in r.notes[0]
    assert pod_curve(r).sizes == ()


@pytest.mark.parametrize(
    ("sizes", "hits", "phrase"),
    [
        ([1.0, 2.0], [False, False], "none of 2"),
        ([1.0, 2.0, 3.0, 4.0], [False, False, True, True], "perfect separation"),
        ([1.0, 1.0], [False, True], "same size"),
        ([], [], "no hit/miss data"),
    ],
)
def test_degenerate_data_is_noted(sizes: list[float], hits: list[bool], phrase: str) -> None:
    r = fit_pod(sizes, hits)
    assert r.a90_95 is None and any(phrase in note for note in r.notes)


def test_small_samples_are_flagged() -> None:
    r = fit_pod([0.5, 0.7, 1.0, 1.2, 1.5, 2.0], [False, True, False, True, False, True])
    assert any("at least 60" in note for note in r.notes)


def test_hit_miss_from_truth_and_predictions() -> None:
    data = truth(
        ann(1, 1, [10, 10, 8, 8], 0.4, defect_id=7),
        ann(2, 2, [10, 10, 8, 8], 0.4, defect_id=7, d_prime=30.0),
        ann(3, 1, [40, 40, 8, 8], 2.0),
    )
    preds = [pred(1, [10, 10, 8, 8]), pred(1, [40, 40, 8, 8], score=0.2)]
    sizes, hits = hit_miss(data, preds)
    assert sizes.tolist() == [0.4, 0.4, 2.0] and hits.tolist() == [True, False, False]
    sizes, hits = hit_miss(data, preds, field="d_prime", per_defect=True, score_threshold=0.1)
    assert sizes.tolist() == [30.0, 20.0] and hits.tolist() == [True, True]


def test_a90_95_beyond_the_largest_size_tested_is_not_quoted_as_a_figure() -> None:
    from castsight.evaluate.pod import PODResult, describe_a90_95

    def result(a90_95: float) -> PODResult:
        return PODResult("logit", 1.0, 0.5, 2.7, 5.0, a90_95, 40, 20, True, (),
                         sizes=(0.5, 1.0, 4.0), hits=(False, True, True))  # fmt: skip

    assert describe_a90_95(result(3.2), " mm") == "3.2 mm"
    beyond = describe_a90_95(result(2.7e11), " mm")
    assert beyond.startswith("> 4 mm") and "e+11" not in beyond
