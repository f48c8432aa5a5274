"""Light inclusions told from pores by the physics of the acquisition, not by their shape."""

from __future__ import annotations

import numpy as np
import pytest

from castsight.detect.base import Indication, Profile
from castsight.measure import measure_indications
from castsight.measure.material import (
    LIGHT_INCLUSION_RATIO,
    parse_filters,
    void_attenuation_per_mm,
)
from castsight.measure.sizing import sphere_template
from castsight.physics import TransmissionModel, tube_spectrum
from tests.measure import PSF, indication_of

PIXEL_MM = 0.25
KV, FILTER = 150.0, "Al 2 mm"


def _sphere(
    material: str, diameter_mm: float, wall_mm: float, noise: float, seed: int
) -> tuple[Indication, float]:
    """The deviation a sphere of ``material`` (``void``: none) makes in ``wall_mm`` of alloy,
    rendered with the simulator's polychromatic model, blurred, with noise; and the
    local attenuation."""
    model = TransmissionModel(tube_spectrum(KV, {"Al": 2.0}))
    rng = np.random.default_rng(seed)
    chord = diameter_mm * sphere_template(diameter_mm / PIXEL_MM, tuple(rng.uniform(-0.5, 0.5, 2)),
                                          psf_sigma_px=PSF, shape=(41, 41))  # fmt: skip
    base = -float(np.log(model.signal(wall_mm)))
    other = None if material == "void" else chord
    seen = -np.log(model.signal(wall_mm - chord, other, material if other is not None else "iron"))
    raw = (base - seen + rng.normal(0.0, noise, chord.shape)).astype(np.float32)
    return indication_of(raw), base


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("wall_mm", [6.0, 25.0])
def test_a_pore_and_a_sand_inclusion_of_one_size_are_told_apart(seed: int, wall_mm: float) -> None:
    per_mm = void_attenuation_per_mm(KV, FILTER)
    expected = (("void", "pore", (0.85, 1.25)), ("sand", "inclusion", (0.35, 0.6)))
    for material, kind, share in expected:
        ind, background = _sphere(material, 1.8, wall_mm, noise=0.002, seed=seed)
        (m,) = measure_indications([ind], pixel_size_mm=PIXEL_MM, background=[background],
                                   void_attenuation=per_mm)  # fmt: skip
        assert m.void_share is not None and share[0] < m.void_share < share[1], material
        assert m.kind == kind
    assert share[1] < LIGHT_INCLUSION_RATIO < 0.85


def test_without_the_tube_kv_a_bright_spot_is_typed_by_shape_alone() -> None:
    ind, background = _sphere("sand", 1.8, 10.0, noise=0.0, seed=0)
    (m,) = measure_indications([ind], pixel_size_mm=PIXEL_MM, background=[background],
                               void_attenuation=void_attenuation_per_mm(None, FILTER))  # fmt: skip
    assert m.void_share is None and m.kind == "pore"


def test_unreadable_or_unknown_filters_give_no_figure() -> None:
    assert parse_filters("Al 2 mm + Cu 0.5 mm") == {"Al": 2.0, "Cu": 0.5}
    assert void_attenuation_per_mm(150.0, "2 mm of something") is None
    assert void_attenuation_per_mm(150.0, "Xx 2 mm") is None  # not in the tables
    assert void_attenuation_per_mm(500.0, FILTER) is None  # beyond the tube tables


def test_a_sphere_fitted_wider_than_its_footprint_says_nothing_of_the_material() -> None:
    """Low in the noise, a fit can trade amplitude for width: a shallow dome far wider than
    the footprint the detector cut. Its amplitude is then no measure of the material."""
    wide = 0.01 * sphere_template(14.0, (0.0, 0.0), psf_sigma_px=PSF, shape=(21, 21))
    ind = Indication((9, 9, 3, 3), np.ones((3, 3), bool), 1, 0.01, 5.0, "reference",
                     profile=Profile(wide.astype(np.float32), (0, 0), 1.0, 0.25))  # fmt: skip
    (m,) = measure_indications([ind], pixel_size_mm=PIXEL_MM, background=[1.0],
                               void_attenuation=void_attenuation_per_mm(KV, FILTER))  # fmt: skip
    assert m.fitted_diameter_px is not None and m.fitted_diameter_px > 10.0
    assert m.void_share is None and m.kind == "pore"
