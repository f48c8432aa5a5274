"""Pose modes: a low-rank model of how good parts differ, fitted robustly and held out."""

from __future__ import annotations

import numpy as np
import pytest

from castsight.detect.modes import choose_count, fit_coefficients, leave_one_out, mode_weights
from castsight.detect.reference import _misfit_ratio

PIXELS = 900


def _rows(rank: int, n: int = 30, noise: float = 0.01, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(rank, PIXELS))
    return (rng.normal(size=(n, rank)) @ basis + noise * rng.normal(size=(n, PIXELS))).astype(
        np.float32
    )


HALF = (np.arange(PIXELS) // 3) % 2 == 0
ALL = np.ones(PIXELS, bool)


@pytest.mark.parametrize("rank", [1, 3, 5])
def test_the_count_of_modes_is_the_rank_of_the_variation(rank: int) -> None:
    assert choose_count(_rows(rank), ALL, HALF) == rank


def test_pure_noise_has_no_modes() -> None:
    """Modes of noise do not predict held-out pixels: cross-validation keeps none."""
    noise = np.random.default_rng(1).normal(size=(30, PIXELS)).astype(np.float32)
    assert choose_count(noise, ALL, HALF) == 0


def test_few_images_cap_the_count() -> None:
    assert choose_count(_rows(5, n=6), ALL, HALF) <= 2


def test_a_defect_does_not_pull_the_fit() -> None:
    """A defect is a few pixels far off the pose model: the robust fit ignores it, so it
    stays whole in the residual the detector judges."""
    rows = _rows(2)
    modes = (mode_weights(rows, ALL, 2) @ (rows - rows.mean(axis=0))).astype(np.float32)
    y = np.float32(0.5) * modes[0] - np.float32(0.3) * modes[1]
    defect = y.copy()
    defect[100:130] += np.float32(5.0 * np.abs(y).max())
    clean, pulled = fit_coefficients(y, modes, ALL), fit_coefficients(defect, modes, ALL)
    assert np.abs(clean - pulled).max() < 0.02 * np.abs(clean).max()
    residual = defect - pulled @ modes
    assert residual[100:130].min() > 0.9 * 5.0 * np.abs(y).max()


def test_leave_one_out_never_uses_the_image_itself() -> None:
    rows = _rows(2, n=12)
    predict = leave_one_out(rows, ALL, 2)
    assert np.allclose(np.diag(predict), 0.0)
    assert np.allclose(predict.sum(axis=1), 1.0)  # mean of the others plus centred modes
    held_out = rows - predict @ rows
    in_sample = rows - rows.mean(axis=0)
    assert float(np.abs(held_out).mean()) < 0.1 * float(np.abs(in_sample).mean())


def test_misfit_widens_only_the_band_that_fits_worse() -> None:
    rng = np.random.default_rng(2)
    z = rng.normal(size=(100, 100)).astype(np.float32)
    band = np.ones((100, 100), np.uint8)
    band[:, 50:] = 2
    z[:, 50:] *= np.float32(3.0)
    ratio = _misfit_ratio(z, band, np.ones((100, 100), bool))
    assert np.all(ratio[:, :50] < 1.05)  # as fitted as the good ones: left as it is
    assert 2.7 < float(ratio[0, 60]) < 3.3
