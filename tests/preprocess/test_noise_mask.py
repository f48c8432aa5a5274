"""Noise, sharpness and part-mask estimates recover what generated the image."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from castsight.preprocess import estimate_noise, part_mask


def _poisson_ramp(seed: int, blur: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mean = np.broadcast_to(np.linspace(2000.0, 12000.0, 384), (384, 384))
    noise = rng.poisson(mean) - mean
    if blur:
        noise = ndi.gaussian_filter(noise, blur) * np.sqrt(4 * np.pi) * blur
    return mean + noise


def test_poisson_gain_is_recovered() -> None:
    est = estimate_noise(_poisson_ramp(0, 0.0))
    assert est.gain == pytest.approx(1.0, rel=0.1)
    assert est.blur_sigma_px < 0.3


@pytest.mark.parametrize("sigma", [0.7, 1.0])
def test_noise_blur_is_recovered_from_correlation(sigma: float) -> None:
    est = estimate_noise(_poisson_ramp(1, sigma))
    assert est.blur_sigma_px == pytest.approx(sigma, abs=0.2)


def test_variance_model_is_positive_and_increasing() -> None:
    est = estimate_noise(_poisson_ramp(2, 0.0))
    assert est.variance_at(1000.0) < est.variance_at(10000.0)


def test_air_and_saturation_are_excluded_but_thin_walls_kept() -> None:
    img = np.full((64, 64), 62000.0)  # air, near full scale
    img[10:54, 10:54] = 62000.0 * np.exp(-0.054 * 3.0)  # 3 mm wall: 85 % transmission
    img[20:44, 20:44] = 62000.0 * np.exp(-0.054 * 20.0)
    img[0:4, :] = 65535  # saturated strip
    mask = part_mask(img.astype(np.uint16))
    # a thin wall next to air fills the band below air: nothing is called air
    assert mask[12, 12] and mask[30, 30] and not mask[1, 1]
    separated = img.copy()
    separated[10:54, 10:54] = 62000.0 * np.exp(-0.054 * 10.0)
    mask = part_mask(separated.astype(np.uint16))
    assert mask[12, 12] and not mask[6, 6]


def test_bright_plate_filling_the_view_is_not_air() -> None:
    img = np.full((64, 64), 40000.0)  # a flat thin plate at 61 % of full scale
    img[:, 30:34] = 15000.0  # a rib
    assert part_mask(img.astype(np.uint16)).all()


def test_open_beam_defines_air() -> None:
    img = np.full((32, 32), 1000.0)
    img[8:24, 8:24] = 900.0
    assert part_mask(img.astype(np.uint16), open_beam=1000.0).sum() == 256
