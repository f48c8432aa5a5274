"""Tests for castsight.physics: spectra, attenuation, polychromatic transmission."""

from __future__ import annotations

import numpy as np
import pytest

from castsight.physics import (
    MATERIALS,
    Spectrum,
    TransmissionModel,
    linear_attenuation,
    mass_attenuation,
    table_provenance,
    tube_spectrum,
)


@pytest.fixture(scope="module")
def model150() -> TransmissionModel:
    return TransmissionModel(tube_spectrum(150.0, {"Al": 2.0}))


def test_monochromatic_beer_lambert_exact() -> None:
    mu_a = float(linear_attenuation("alloy", 60.0))
    mu_fe = float(linear_attenuation("iron", 60.0))
    m = TransmissionModel(Spectrum.monochromatic(60.0))
    t = np.array([0.0, 0.5, 3.0, 10.0, 57.3, 250.0])
    np.testing.assert_allclose(m.signal(t), np.exp(-mu_a * t), rtol=1e-9, atol=0)
    t_fe = np.array([0.0, 0.1, 1.0, 2.5, 7.0, 19.0])
    np.testing.assert_allclose(
        m.signal(t, t_fe, "iron"), np.exp(-mu_a * t - mu_fe * t_fe), rtol=1e-9, atol=0
    )
    assert float(m.signal(0.0)) == 1.0


def test_lookup_table_is_exact_for_monochromatic_beam_also_off_grid() -> None:
    # two identical bins: still monochromatic physics, but the table path is taken;
    # ln T is bilinear in (t_alloy, t_other), so bilinear interpolation and linear
    # extrapolation beyond the grid are exact up to rounding.
    s = Spectrum(60.0, np.array([60.0, 60.0]), np.array([0.5, 0.5]))
    m = TransmissionModel(s)
    mu_a = float(linear_attenuation("alloy", 60.0))
    mu_s = float(linear_attenuation("sand", 60.0))
    ta = np.array([0.13, 17.77, 299.9, 340.0])
    to = np.array([0.013, 4.321, 19.99, 23.0])
    np.testing.assert_allclose(m.signal(ta, to, "sand"), np.exp(-mu_a * ta - mu_s * to), rtol=1e-9)


def test_table_matches_direct_spectral_sum(model150: TransmissionModel) -> None:
    rng = np.random.default_rng(5)
    ta, to = rng.uniform(0, 300, 500), rng.uniform(0, 20, 500)
    for other in ("iron", "alumina", "sand"):
        exact = model150.transmission_exact(ta, to, other)
        np.testing.assert_allclose(model150.signal(ta, to, other), exact, rtol=1e-3)
    np.testing.assert_allclose(model150.signal(ta), model150.transmission_exact(ta), rtol=1e-3)


def test_step_wedge_monotonic_and_beam_hardening(model150: TransmissionModel) -> None:
    t = np.arange(0.0, 101.0, 5.0)
    signal = model150.signal(t)
    assert signal[0] == pytest.approx(1.0)
    assert np.all(np.diff(signal) < 0)
    mu_eff = model150.effective_mu(t)
    assert np.all(np.diff(mu_eff) < 0)  # hardening: effective mu falls with thickness
    # effective_mu is -d ln T / dt: compare with a central difference of the exact sum
    h = 1e-3
    fd = -(
        np.log(model150.transmission_exact(t[1:] + h))
        - np.log(model150.transmission_exact(t[1:] - h))
    ) / (2 * h)
    np.testing.assert_allclose(mu_eff[1:], fd, rtol=1e-5)
    # a single effective mu is off by far more than 20 % over 0..100 mm
    assert mu_eff[0] / mu_eff[-1] > 1.2


def test_reference_numbers() -> None:
    s = tube_spectrum(150.0, {"Al": 2.0})
    assert 50.0 < s.mean_energy_kev < 80.0
    assert 0.18 < float(mass_attenuation("alloy", 80.0)) < 0.22
    assert 0.55 < float(mass_attenuation("iron", 80.0)) < 0.65
    assert float(linear_attenuation("alloy", 80.0)) == pytest.approx(
        float(mass_attenuation("alloy", 80.0)) * 2.68 / 10.0
    )
    assert set(MATERIALS) >= {"alloy", "iron", "alumina", "sand", "air", "Al", "Cu", "Sn", "CsI"}
    assert table_provenance()["spectrum"]["anode"] == "W"


def test_dense_inclusion_darker_light_inclusion_brighter(model150: TransmissionModel) -> None:
    # 2 mm of inclusion replacing 2 mm of alloy in a 10 mm wall
    base = float(model150.signal(10.0))
    assert float(model150.signal(8.0, 2.0, "iron")) < base
    assert float(model150.signal(8.0, 2.0, "alumina")) < base
    assert float(model150.signal(8.0, 2.0, "sand")) > base
    assert float(model150.signal(8.0)) > base  # a 2 mm pore


def test_spectrum_interpolation_and_filters() -> None:
    a, b = tube_spectrum(150.0, {}), tube_spectrum(151.0, {})
    mid = tube_spectrum(150.5, {})
    assert mid.total_fluence == pytest.approx(0.5 * (a.total_fluence + b.total_fluence))
    assert b.total_fluence > a.total_fluence
    hard = tube_spectrum(150.0, {"Al": 2.0, "Cu": 1.0})
    assert hard.mean_energy_kev > tube_spectrum(150.0).mean_energy_kev
    assert hard.total_fluence < a.total_fluence


def test_quanta_scale_with_mas_distance_and_give_several_thousand(
    model150: TransmissionModel,
) -> None:
    q = float(model150.quanta(10.0, mas=0.2, pixel_pitch_mm=0.139))
    assert 2000 < q < 20000
    assert float(model150.quanta(10.0, mas=0.4, pixel_pitch_mm=0.139)) == pytest.approx(2 * q)
    far = float(model150.quanta(10.0, mas=0.2, pixel_pitch_mm=0.139, sdd_mm=2000.0))
    assert far == pytest.approx(q / 4)
    q0 = model150.open_beam_quanta(0.2, 0.139)
    assert q == pytest.approx(q0 * float(model150.signal(10.0)))
    # noise-equivalent quanta cannot exceed the incident photons
    assert q0 < model150.spectrum.total_fluence * 0.2 * 0.139**2


def test_quantum_weight(model150: TransmissionModel) -> None:
    w = model150.quantum_weight(np.array([0.0, 20.0, 100.0]))
    assert w[0] == pytest.approx(1.0)
    assert 1.0 < w[1] < w[2]
    mono = TransmissionModel(Spectrum.monochromatic(80.0))
    assert float(mono.quantum_weight(50.0, 3.0, "iron")) == pytest.approx(1.0)


def test_errors() -> None:
    with pytest.raises(ValueError, match="unknown material"):
        linear_attenuation("gold", 60.0)
    with pytest.raises(ValueError, match="kv"):
        tube_spectrum(500.0)
    with pytest.raises(ValueError, match="thickness"):
        tube_spectrum(150.0, {"Al": -1.0})
    with pytest.raises(ValueError, match="energies"):
        mass_attenuation("alloy", 1000.0)
    with pytest.raises(ValueError, match="unknown material"):
        TransmissionModel(Spectrum.monochromatic(60.0)).signal(1.0, 1.0, "gold")
    with pytest.raises(ValueError):
        Spectrum(100.0, np.array([50.0]), np.array([-1.0]))
