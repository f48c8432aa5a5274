"""Tests for castsight.simulate.panel: noise statistics, fixed pattern, dark/flat."""

from __future__ import annotations

import math

import numpy as np
import pytest

from castsight.simulate.panel import (
    PanelModel,
    bad_pixel_mask,
    dark_frame,
    expose,
    fixed_pattern,
    flat_frame,
    noise_free,
    noise_variance,
)

IDEAL = {
    "blur_sigma_px": 0.0,
    "focal_spot_mm": 0.0,
    "gain_adu_per_quantum": 1.0,
    "offset_adu": 100.0,
    "gain_nonuniformity_pct": 0.0,
    "offset_nonuniformity_adu": 0.0,
    "electronic_noise_adu": 0.0,
    "bad_pixel_fraction": 0.0,
}


def test_poisson_variance_equals_mean_counts() -> None:
    det = PanelModel(rows=128, cols=128, **IDEAL)
    lam = 1000.0
    img = expose(np.full(det.shape, lam), det, 1.0, np.random.default_rng(1)).astype(float)
    counts = img - det.offset_adu
    n = counts.size
    # standard errors: mean sqrt(lam / n); sample variance lam * sqrt(2 / (n - 1))
    # (Poisson excess kurtosis 1/lam is negligible); allow 5 of them
    assert abs(counts.mean() - lam) < 5 * math.sqrt(lam / n)
    assert abs(counts.var(ddof=1) - lam) < 5 * lam * math.sqrt(2 / (n - 1))


def test_blurred_noise_variance_matches_prediction() -> None:
    params = {**IDEAL, "blur_sigma_px": 1.0, "electronic_noise_adu": 3.0}
    det = PanelModel(rows=256, cols=256, **params)
    q = np.full(det.shape, 500.0)
    img = expose(q, det, 1.0, np.random.default_rng(2)).astype(float)
    predicted = noise_variance(q, det, 1.0)
    inner = img[8:-8, 8:-8]
    # the scintillator blur (sigma 1 px) cuts quantum variance by sum(k^2) ~ 1 / (4 pi)
    assert predicted[100, 100] < 0.15 * 500 + 9 + 1
    # correlation area ~ 4 pi sigma^2 ~ 13 px: ~4500 effective samples, 2 % rel. s.e.
    assert inner.var(ddof=1) == pytest.approx(predicted[100, 100], rel=0.1)
    assert inner.mean() == pytest.approx(noise_free(q, det, 1.0)[100, 100], abs=0.2)


def test_dark_flat_correction_recovers_transmission() -> None:
    det = PanelModel(
        rows=64,
        cols=64,
        gain_nonuniformity_pct=10.0,
        offset_nonuniformity_adu=50.0,
        bad_pixel_fraction=0.01,
        seed=7,
    )
    q0 = 2e4
    transmission = np.full(det.shape, 0.3)
    transmission[:, 32:] = 0.7
    rng = np.random.default_rng(3)
    raw = expose(q0 * transmission, det, 1.3, rng).astype(float)
    dark = dark_frame(det, rng, n_average=32)
    flat = flat_frame(det, q0, rng, n_average=64)
    good = ~bad_pixel_mask(det)
    with np.errstate(divide="ignore", invalid="ignore"):
        corrected = (raw - dark) / (flat - dark)
    for cols, t in ((slice(4, 28), 0.3), (slice(36, 60), 0.7)):
        region, ok = corrected[4:60, cols], good[4:60, cols]
        assert region[ok].mean() == pytest.approx(t, abs=0.002)
        # gain non-uniformity (10 %) is removed: residual scatter is quantum noise only
        assert region[ok].std() < 0.3 * 0.1 * t
    uncorrected = (raw - det.offset_adu) / (q0 * det.gain_adu_per_quantum)
    assert uncorrected[4:60, 4:28][good[4:60, 4:28]].std() > 0.5 * 0.1 * 0.3


def test_fixed_pattern_shared_by_all_exposures_of_a_detector() -> None:
    params = {**IDEAL, "offset_nonuniformity_adu": 40.0, "bad_pixel_fraction": 0.02}
    det = PanelModel(rows=50, cols=40, seed=11, **params)
    zero = np.zeros(det.shape)
    a = expose(zero, det, 1.0, np.random.default_rng(1))
    fixed_pattern.cache_clear()
    same = PanelModel(rows=50, cols=40, seed=11, **params)
    b = expose(zero, same, 1.0, np.random.default_rng(2))
    np.testing.assert_array_equal(a, b)  # no quanta, no electronic noise: pure fixed pattern
    other_det = PanelModel(rows=50, cols=40, seed=12, **params)
    other = expose(zero, other_det, 1.0, np.random.default_rng(1))
    assert not np.array_equal(a, other)


def test_bad_pixels_at_requested_fraction() -> None:
    det = PanelModel(rows=100, cols=80, bad_pixel_fraction=0.01)
    fp = fixed_pattern(det)
    assert int(bad_pixel_mask(det).sum()) == 80
    assert int(fp.dead.sum()) == 40 and int(fp.hot.sum()) == 40
    assert not np.any(fp.dead & fp.hot)
    img = expose(np.full(det.shape, 1e4), det, 1.0, np.random.default_rng(0))
    assert np.all(img[fp.dead] == 0) and np.all(img[fp.hot] == 65535)
    assert np.all(np.isinf(noise_variance(np.full(det.shape, 1e4), det, 1.0)[fp.dead]))


def test_determinism_same_seed_same_bytes() -> None:
    det = PanelModel(rows=300, cols=260)  # large enough for the threaded chunk path
    q = np.random.default_rng(9).uniform(100, 5000, det.shape)
    a = expose(q, det, 1.5, np.random.default_rng(42))
    b = expose(q, det, 1.5, np.random.default_rng(42))
    c = expose(q, det, 1.5, np.random.default_rng(43))
    assert a.tobytes() == b.tobytes()
    assert a.tobytes() != c.tobytes()


def test_focal_spot_blur_grows_with_magnification() -> None:
    det = PanelModel(rows=32, cols=32, **{**IDEAL, "focal_spot_mm": 1.0})
    assert det.focal_blur_sigma_px(1.0) == 0.0
    q = np.zeros(det.shape)
    q[16, 16] = 1e4
    peaks = [noise_free(q, det, m)[16, 16] for m in (1.0, 1.2, 2.0)]
    assert peaks[0] > peaks[1] > peaks[2]
    # the blur conserves signal
    assert noise_free(q, det, 2.0).sum() - det.offset_adu * q.size == pytest.approx(1e4, rel=1e-5)


def test_saturation_and_validation() -> None:
    det = PanelModel(rows=8, cols=8, bad_pixel_fraction=0.0)
    img = expose(np.full(det.shape, 1e6), det, 1.0, np.random.default_rng(0))
    assert np.all(img == 65535)
    with pytest.raises(ValueError):
        expose(np.zeros((4, 4)), det, 1.0, np.random.default_rng(0))
    with pytest.raises(ValueError):
        expose(np.full(det.shape, -1.0), det, 1.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="magnification"):
        noise_free(np.zeros(det.shape), det, 0.5)
    with pytest.raises(ValueError):
        PanelModel(bad_pixel_fraction=2.0)


def test_quantum_weight_scales_variance_not_mean() -> None:
    det = PanelModel(rows=128, cols=128, **IDEAL)
    q = np.full(det.shape, 2000.0)
    img = expose(q, det, 1.0, np.random.default_rng(4), quantum_weight=2.0).astype(float)
    counts = img - det.offset_adu
    assert counts.mean() == pytest.approx(2000.0, abs=5 * math.sqrt(4000 / counts.size))
    assert counts.var(ddof=1) == pytest.approx(4000.0, rel=5 * math.sqrt(2 / counts.size))
    v = noise_variance(q, det, 1.0, quantum_weight=2.0)
    assert v[0, 0] == pytest.approx(4000.0 + 1 / 12)
