"""Order statistics from grey-level histograms are numpy's, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from castsight.preprocess.levels import counted_median, counted_quantile, level_counts
from castsight.preprocess.mask import _air_level, _air_level_counted, _log_sample


@pytest.mark.parametrize("seed", range(5))
def test_counted_statistics_equal_numpys(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(200):
        k = int(rng.integers(1, 12))
        values = np.sort(rng.choice(np.log(np.arange(1, 300.0)), k, replace=False))
        counts = rng.integers(0, 5, k)
        counts[rng.integers(k)] += 1
        sample = np.repeat(values, counts)
        for q in (0.0, 0.1, 0.5, 0.995, 1.0, float(rng.random())):
            assert counted_quantile(values, counts, q) == float(np.quantile(sample, q))
        assert counted_median(values, counts) == np.median(sample)
        single = counted_median(values.astype(np.float32), counts)
        assert single.dtype == np.float32 and single == np.median(sample.astype(np.float32))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_level_counts_and_air_level_from_counts(dtype: type) -> None:
    rng = np.random.default_rng(1)
    top = np.iinfo(dtype).max
    img = np.full((200, 300), 0.95 * top)
    img[40:160, 60:240] = 0.4 * top
    raw = np.clip(np.round(rng.normal(img, 0.01 * top)), 0, top).astype(dtype)
    mask = raw < 0.9 * top
    counts = level_counts(raw, mask)
    assert np.array_equal(counts, np.bincount(raw[mask], minlength=top + 1))
    part = (raw > 0.002 * top) & (raw < 0.995 * top)
    counts = level_counts(raw, part)
    levels = np.flatnonzero(counts)
    logs = np.log(np.maximum(levels.astype(np.float64), 1e-6))
    by_counts = _air_level_counted(logs, counts[levels], float(top))
    assert by_counts is not None
    assert by_counts == _air_level(_log_sample(raw[part].astype(np.float64)), float(top))
