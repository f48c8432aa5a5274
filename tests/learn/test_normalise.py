"""The learned detector's input does not care about intensity scale, offset or bit depth."""

from __future__ import annotations

import numpy as np

from castsight.detect.normalise import local_noise, normalise
from castsight.preprocess.prepare import prepare
from castsight.radiograph import Acquisition, Radiograph
from tests.learn.conftest import scene


def _norm(raw: np.ndarray, bits: int | None = None) -> np.ndarray:
    acq = Acquisition(bit_depth=bits) if bits else Acquisition()
    return normalise(prepare(Radiograph(raw, acq)).attenuation)


def test_noise_is_measured_on_the_image() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(0.0, 0.02, (256, 256)).astype(np.float32)
    a[:, 128:] += 1.0  # an edge barely counts
    noise = local_noise(a)
    assert abs(float(np.median(noise)) / 0.02 - 1.0) < 0.1


def test_gain_and_exposure_do_not_change_the_input() -> None:
    rng = np.random.default_rng(1)
    raw = rng.poisson(scene((192, 192), 20000.0)).astype(np.float64)
    x1 = _norm(raw.astype(np.uint16))
    x2 = _norm((raw * 0.5).astype(np.uint16))  # half the gain: an offset in attenuation
    inner = (slice(None), slice(8, -8), slice(8, -8))
    assert float(np.abs(x1 - x2)[inner].mean()) < 0.05


def test_eight_bit_and_sixteen_bit_agree() -> None:
    rng = np.random.default_rng(2)
    raw = rng.normal(scene((192, 192), 30000.0), 2500.0)  # noise well above 8-bit steps
    x16 = _norm(np.clip(raw, 0, 65535).astype(np.uint16), 16)
    x8 = _norm(np.clip(np.round(raw / 257.0), 0, 255).astype(np.uint8), 8)
    inner = (slice(None), slice(8, -8), slice(8, -8))
    assert float(np.corrcoef(x16[inner].ravel(), x8[inner].ravel())[0, 1]) > 0.95
    assert abs(float(x16[inner].std()) / float(x8[inner].std()) - 1.0) < 0.15
