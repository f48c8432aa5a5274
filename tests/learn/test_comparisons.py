"""Leave-one-out comparisons and guided training samples."""

from __future__ import annotations

import numpy as np

from castsight.detect.guided import CHANNELS
from castsight.detect.reference import ReferenceScore, Registration
from castsight.learn.comparisons import (
    GuidedSampleMaker,
    cut_guided_crops,
    leave_one_out,
    loo_score,
)
from castsight.learn.synth import SynthSettings

SMALL = SynthSettings(patch_px=32, margin_px=16, crops_per_image=8)


def _score(d: np.ndarray, s: np.ndarray) -> ReferenceScore:
    reg = Registration(np.eye(2, 3), 1.0, True)
    valid = np.ones(d.shape, bool)
    return ReferenceScore(d / s, valid, reg, 0.0, d, 1.0, 9, s)


def test_leave_one_out_is_exact_for_mean_and_variance() -> None:
    rng = np.random.default_rng(0)
    n = 12
    values = rng.normal(0.0, 0.01, (n, 3, 3))
    values[4] += 0.05  # one image far out at every pixel
    mean, var = values.mean(0), values.var(0, ddof=1)
    for i in (0, 4):
        d = (values[i] - mean).astype(np.float32)
        # the reference's scale for n images: sqrt(var * (1 + 1/n)), floor 0, k = 1
        scale = np.sqrt(var * (1 + 1 / n)).astype(np.float32)
        dev, loo = leave_one_out(_score(d, scale), n, 0.0)
        others = np.delete(values, i, axis=0)
        want_dev = values[i] - others.mean(0)
        want_scale = np.sqrt(others.var(0, ddof=1) * (1 + 1 / (n - 1)))
        np.testing.assert_allclose(dev, want_dev, rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(loo, want_scale, rtol=1e-3)
    # the far-out image looks far out again only when left out of its own reference
    d4 = (values[4] - mean).astype(np.float32)
    scale = np.sqrt(var * (1 + 1 / n)).astype(np.float32)
    assert np.all(np.abs(loo_score(_score(d4, scale), n, 0.0).z) > np.abs(d4 / scale))


def test_crops_reach_the_image_edge_and_samples_are_labelled_inside_judged_pixels() -> None:
    rng = np.random.default_rng(1)
    side = SMALL.patch_px + SMALL.margin_px  # smaller than a crop: only padding makes room
    a = rng.normal(1.0, 0.01, (side, side)).astype(np.float32)
    dev = np.zeros_like(a)
    dev[:, 20:24] = 0.02  # good variation: where half the crops are centred
    scale = np.full_like(a, 0.004)
    valid = np.ones(a.shape, bool)
    valid[:, :6] = False
    crops = cut_guided_crops(a, dev, scale, valid, 1.0, SMALL, rng)
    assert len(crops) == SMALL.crops_per_image
    assert all(c.attenuation.shape == (SMALL.crop_px, SMALL.crop_px) for c in crops)
    maker = GuidedSampleMaker(crops, SMALL, seed=3)
    x, y = maker.batch(6)
    assert x.shape == (6, CHANNELS, 32, 32) and y.shape == (6, 1, 32, 32)
    assert y.sum() > 0
    assert not np.any(y[:, 0][x[:, 3] < 0])  # no defect label where nothing is judged
    x2, y2 = maker.reseeded(3).batch(6)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
