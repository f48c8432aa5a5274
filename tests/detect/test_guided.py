"""The guided detector's input: what the network sees must not depend on units, and an
unjudged bad pixel must not look like a dip."""

from __future__ import annotations

import numpy as np
import pytest

from castsight.detect.guided import CHANNELS, GUIDED_NORMALISATION, GuidedDetector, guided_input
from castsight.detect.learned import LearnedDetector, LearnedSettings
from castsight.detect.reference import ReferenceDetector, ReferenceView
from castsight.errors import InputError


def _scene(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.normal(1.0, 0.01, (96, 96)).astype(np.float32)
    a[:, 40:60] += 0.5  # a rib
    dev = np.zeros_like(a)
    dev[:, 38:42] = 0.05  # good variation along the rib's edge
    scale = np.full_like(a, 0.004)
    valid = np.ones(a.shape, bool)
    return a, dev, scale, valid


def test_input_does_not_depend_on_attenuation_units() -> None:
    a, dev, scale, valid = _scene()
    x = guided_input(a, dev, scale, valid)
    assert x.shape == (CHANNELS, 96, 96) and x.dtype == np.float32
    # another spectrum or material scales attenuation, deviation and spread alike
    y = guided_input(3.0 * a + 2.0, 3.0 * dev, 3.0 * scale, valid)
    assert np.abs(x - y).max() < 1e-3


def test_unjudged_pixel_is_filled_not_a_hole() -> None:
    a, dev, scale, valid = _scene()
    valid[50, 39] = False  # a bad pixel inside the strong deviation
    x = guided_input(a, dev, scale, valid)
    assert x[3, 50, 39] == -1.0 and x[3, 50, 38] == 1.0
    # the deviation there is its neighbours', not zero
    assert x[1, 50, 39] == pytest.approx(x[1, 49, 39], rel=0.15)
    assert x[2, 50, 39] == pytest.approx(x[2, 49, 39], rel=0.15)
    far = np.ones(a.shape, bool)
    far[:, :80] = False  # nothing judged within reach: zero
    assert np.all(guided_input(a, dev, scale, far)[1:3, :, :60] == 0.0)


def test_refuses_a_network_made_for_other_input() -> None:
    ref = ReferenceView("V01", np.ones((8, 8), np.float32), np.full((8, 8), 0.01, np.float32),
                        np.ones((8, 8), bool), 10, 1e-4)  # fmt: skip

    class _Net:  # only its settings are looked at
        settings = LearnedSettings()

    with pytest.raises(InputError, match="guided"):
        GuidedDetector(ReferenceDetector({"V01": ref}), _Net())  # type: ignore[arg-type]
    assert LearnedSettings(normalisation=GUIDED_NORMALISATION).normalisation != (
        LearnedSettings().normalisation
    )
    assert LearnedDetector.name == "learned"


def test_network_indication_is_sized_like_the_reference() -> None:
    from castsight.detect.base import Indication
    from castsight.detect.guided import _footprint

    yy, xx = np.mgrid[:64, :64]
    r = 8.0  # a pore: the path length through a sphere, a dome
    dev = -0.05 * np.sqrt(np.clip(1 - ((yy - 30) ** 2 + (xx - 30) ** 2) / r**2, 0, None))
    dev = dev.astype(np.float32)
    dev[:, 50:53] = -0.05  # a deep line nearby (good variation) must not be swallowed
    core = Indication((29, 29, 3, 3), np.ones((3, 3), bool), 1, 0.05, 6.0, "guided")
    grown = _footprint(core, dev, np.ones(dev.shape, bool))
    x, y, w, h = grown.bbox
    assert y < 30 < y + h
    # the quarter-depth footprint of a dome: 2 r sqrt(1 - 1/16) = 15.5 px across
    assert 14 <= w <= 17 and 14 <= h <= 17 and x + w < 50
    assert grown.mask.shape == (h, w) and grown.mask.sum() > 150
