"""X-ray physics for the simulator and the measurements: spectra, materials, transmission.

All data come from ``data/physics_tables.npz`` (built by ``tools/build_physics_tables.py``
with spekpy and xraylib); neither is needed at run time. Units: lengths in mm, energies
in keV, fluence in photons / (mm^2 mAs) per energy bin at 1 m from the focal spot.

Models
------
* Spectrum: W anode, 12 degree, 1 mm Be inherent filtration (spekpy), 1 keV bins from
  10 keV to the kV. Between the 1 kV table points the spectra are interpolated linearly
  in kV (exact at integer kV). Filters attenuate each bin by exp(-mu(E_centre) t).
* Detector response (energy integrating scintillator, default 0.6 mm CsI): a photon of
  energy E interacts with probability eta = 1 - exp(-mu t) and then deposits on average
  E mu_en/mu (local absorption). Signal = sum_E N(E) E (mu_en/mu) eta; noise variance
  = sum_E N(E) eta (E mu_en/mu)^2 (Swank spread of deposits ignored).
* Detected quanta are *noise-equivalent quanta*: open-beam NEQ = S0^2/V0, scaled by the
  transmission, so Poisson(quanta) has the open-beam signal-to-noise ratio.
  :meth:`TransmissionModel.quantum_weight` gives the per-pixel variance correction for
  the beam-hardened spectrum behind material.

>>> model = TransmissionModel(tube_spectrum(150.0))
>>> round(float(model.signal(10.0)), 3)
0.414
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any, cast

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "DEFAULT_FILTERS",
    "MATERIALS",
    "DetectorResponse",
    "Spectrum",
    "TransmissionModel",
    "density",
    "linear_attenuation",
    "mass_attenuation",
    "mass_energy_absorption",
    "table_provenance",
    "tube_spectrum",
]

F64 = NDArray[np.float64]

DEFAULT_FILTERS: Mapping[str, float] = MappingProxyType({"Al": 2.0})
"""Default tube filtration: 2 mm Al (in addition to the 1 mm Be window)."""


@functools.cache
def _tables() -> dict[str, Any]:
    ref = resources.files("castsight").joinpath("data/physics_tables.npz")
    with resources.as_file(ref) as path, np.load(path, allow_pickle=False) as npz:
        out = {k: npz[k] for k in npz.files}
    for v in out.values():
        v.setflags(write=False)
    return out


MATERIALS: tuple[str, ...] = tuple(str(n) for n in _tables()["material_names"])
"""Material names known to :func:`linear_attenuation`."""


def table_provenance() -> dict[str, Any]:
    """Provenance of the shipped tables (tool versions, compositions).

    >>> table_provenance()["materials"]["alloy"]["density_g_cm3"]
    2.68
    """
    return cast(dict[str, Any], json.loads(str(_tables()["provenance"])))


def _index(material: str) -> int:
    if material not in MATERIALS:
        raise ValueError(f"unknown material {material!r}; known: {', '.join(MATERIALS)}")
    return MATERIALS.index(material)


def _loglog(material: str, key: str, energies_kev: ArrayLike) -> F64:
    i = _index(material)
    e = np.asarray(energies_kev, dtype=np.float64)
    grid = _tables()["mu_energy_kev"]
    if e.size and (not np.all(np.isfinite(e)) or e.min() < grid[0] or e.max() > grid[-1]):
        raise ValueError(f"energies must lie in [{grid[0]:g}, {grid[-1]:g}] keV")
    y: F64 = np.log(_tables()[key][i])
    out: F64 = np.exp(np.interp(np.log(e), np.log(grid), y))
    return out


def density(material: str) -> float:
    """Density in g/cm^3.

    >>> density("alloy")
    2.68
    """
    return float(_tables()["density_g_cm3"][_index(material)])


def mass_attenuation(material: str, energies_kev: ArrayLike) -> F64:
    """Mass attenuation coefficient incl. coherent scattering (cm^2/g), log-log interpolated.

    >>> round(float(mass_attenuation("alloy", 80.0)), 3)
    0.206
    """
    return _loglog(material, "mu_rho_total", energies_kev)


def mass_energy_absorption(material: str, energies_kev: ArrayLike) -> F64:
    """Mass energy-absorption coefficient (cm^2/g).

    >>> bool(mass_energy_absorption("CsI", 60.0) < mass_attenuation("CsI", 60.0))
    True
    """
    return _loglog(material, "mu_en_rho", energies_kev)


def linear_attenuation(material: str, energies_kev: ArrayLike) -> F64:
    """Linear attenuation coefficient in 1/mm (mu/rho * rho / 10).

    >>> round(float(linear_attenuation("iron", 80.0)), 3)
    0.468
    >>> linear_attenuation("unobtainium", 80.0)
    Traceback (most recent call last):
    ...
    ValueError: unknown material 'unobtainium'; known: alloy, iron, alumina, sand, air, Al, Cu, Sn, Be, CsI, GOS
    """  # noqa: E501
    return mass_attenuation(material, energies_kev) * density(material) / 10.0


def _readonly(a: ArrayLike) -> F64:
    out = np.array(a, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class Spectrum:
    """A photon spectrum: fluence per bin in photons / (mm^2 mAs) at 1 m.

    >>> s = Spectrum.monochromatic(60.0)
    >>> s.mean_energy_kev, s.total_fluence
    (60.0, 1.0)
    """

    kv: float
    energies_kev: F64
    fluence: F64

    def __post_init__(self) -> None:
        e, f = _readonly(self.energies_kev), _readonly(self.fluence)
        if e.ndim != 1 or e.shape != f.shape or e.size == 0:
            raise ValueError("energies_kev and fluence must be 1-D arrays of equal length")
        if not (np.all(np.isfinite(f)) and np.all(f >= 0) and np.all(e > 0) and f.sum() > 0):
            raise ValueError("need positive energies and non-negative, non-zero fluence")
        object.__setattr__(self, "energies_kev", e)
        object.__setattr__(self, "fluence", f)

    @classmethod
    def monochromatic(cls, energy_kev: float, fluence: float = 1.0) -> Spectrum:
        """A one-bin spectrum (for exact Beer-Lambert checks)."""
        return cls(energy_kev, np.array([energy_kev]), np.array([fluence]))

    @property
    def total_fluence(self) -> float:
        """Photons / (mm^2 mAs) at 1 m, all bins."""
        return float(self.fluence.sum())

    @property
    def mean_energy_kev(self) -> float:
        """Fluence-weighted mean photon energy."""
        return float(np.dot(self.fluence, self.energies_kev) / self.fluence.sum())

    def filtered(self, filters: Mapping[str, float]) -> Spectrum:
        """Spectrum after filters ``{material: thickness_mm}`` (Beer-Lambert per bin)."""
        f = self.fluence.copy()
        for material, thickness in filters.items():
            if not thickness >= 0:
                raise ValueError(f"filter thickness must be >= 0 mm, got {thickness!r}")
            f *= np.exp(-linear_attenuation(material, self.energies_kev) * thickness)
        return Spectrum(self.kv, self.energies_kev, f)


def tube_spectrum(kv: float, filters: Mapping[str, float] = DEFAULT_FILTERS) -> Spectrum:
    """Tungsten-anode tube spectrum at ``kv`` (30-225 kV) after ``filters`` (mm).

    Linear interpolation in kV between the shipped 1 kV table spectra.

    >>> s = tube_spectrum(150.0)
    >>> round(s.mean_energy_kev, 1), float(s.energies_kev[-1])
    (60.4, 149.5)
    """
    t = _tables()
    grid = t["spectrum_kv"]
    if not grid[0] <= kv <= grid[-1]:
        raise ValueError(f"kv must lie in [{grid[0]:g}, {grid[-1]:g}], got {kv!r}")
    j = min(int(np.searchsorted(grid, kv, side="right")) - 1, grid.size - 2)
    w = (kv - grid[j]) / (grid[j + 1] - grid[j])
    flu = (1.0 - w) * t["spectrum_fluence"][j] + w * t["spectrum_fluence"][j + 1]
    e = t["spectrum_energy_kev"]
    keep = e - 0.5 < kv
    return Spectrum(float(kv), e[keep], flu[keep]).filtered(filters)


@dataclass(frozen=True)
class DetectorResponse:
    """Energy-integrating scintillator of ``thickness_mm`` (default 0.6 mm CsI).

    >>> r = DetectorResponse()
    >>> round(float(r.detection_efficiency(60.0)), 3)
    0.883
    """

    scintillator: str = "CsI"
    thickness_mm: float = 0.6

    def __post_init__(self) -> None:
        _index(self.scintillator)
        if not self.thickness_mm > 0:
            raise ValueError("thickness_mm must be > 0")

    def detection_efficiency(self, energies_kev: ArrayLike) -> F64:
        """Interaction probability 1 - exp(-mu t)."""
        mu = linear_attenuation(self.scintillator, energies_kev)
        return -np.expm1(-mu * self.thickness_mm)

    def deposit_per_interaction_kev(self, energies_kev: ArrayLike) -> F64:
        """Mean energy deposited by an interacting photon, E mu_en/mu."""
        e = np.asarray(energies_kev, dtype=np.float64)
        s = self.scintillator
        return e * mass_energy_absorption(s, e) / mass_attenuation(s, e)


# ---------------------------------------------------------------- fast interpolation

_POOL: dict[int, ThreadPoolExecutor] = {}  # keyed by pid: a forked child makes its own
_N_CHUNKS = 8
_MIN_PARALLEL = 1 << 16


def _map_chunks(fn: Callable[[int, slice], None], n: int) -> None:
    """Run ``fn`` over a fixed split of ``range(n)`` (threads; result independent of cores)."""
    if n < _MIN_PARALLEL:
        fn(0, slice(0, n))
        return
    pid = os.getpid()
    if pid not in _POOL:
        _POOL.clear()
        _POOL[pid] = ThreadPoolExecutor(max_workers=min(os.cpu_count() or 1, _N_CHUNKS))
    bounds = np.linspace(0, n, _N_CHUNKS + 1).astype(int)
    pairs = itertools.pairwise(bounds)
    futures = [_POOL[pid].submit(fn, k, slice(a, b)) for k, (a, b) in enumerate(pairs)]
    for fut in futures:
        fut.result()


def _bilinear_py(
    lut: F64, ta: F64, to: F64, inv_da: float, inv_do: float, scale: float, out: F64
) -> None:  # pragma: no cover - compiled by numba
    na, no = lut.shape
    for k in range(ta.size):
        x = max(ta[k] * inv_da, 0.0)
        i = min(int(x), na - 2)
        fx = x - i
        y = max(to[k] * inv_do, 0.0)
        j = min(int(y), no - 2)
        fy = y - j
        v0 = lut[i, j] + fx * (lut[i + 1, j] - lut[i, j])
        v1 = lut[i, j + 1] + fx * (lut[i + 1, j + 1] - lut[i, j + 1])
        out[k] = scale * math.exp(v0 + fy * (v1 - v0))


_bilinear = cast(Callable[..., None], njit(cache=True, nogil=True)(_bilinear_py))


def _interp_exp(
    lut: F64, ta: ArrayLike, to: ArrayLike, da: float, do: float, scale: ArrayLike
) -> F64:
    """scale * exp(bilinear lut(ta, to)); clamps at 0, extrapolates linearly past the end."""
    scalar_scale = np.ndim(scale) == 0
    a, b, s = np.broadcast_arrays(np.asarray(ta), np.asarray(to), np.asarray(scale))
    if a.size and not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("thicknesses must be finite")
    shape = a.shape
    fa = np.ascontiguousarray(a, dtype=np.float64).ravel()
    fb = np.ascontiguousarray(b, dtype=np.float64).ravel()
    out = np.empty(fa.size, dtype=np.float64)
    sc = None if scalar_scale else np.ascontiguousarray(s, dtype=np.float64).ravel()
    const = float(np.asarray(scale)) if scalar_scale else 1.0

    def run(_: int, sl: slice) -> None:
        _bilinear(lut, fa[sl], fb[sl], 1.0 / da, 1.0 / do, const, out[sl])

    _map_chunks(run, fa.size)
    if sc is not None and sc.size:
        out *= sc
    return out.reshape(shape)


class TransmissionModel:
    """Noise-free detector signal behind alloy + one other material, via a 2-D lookup table.

    The table holds ln(signal / open-beam signal) on a grid of alloy thickness
    (0..``max_alloy_mm`` step ``alloy_step_mm``) x other-material thickness
    (0..``max_other_mm`` step ``other_step_mm``); queries interpolate bilinearly in the
    log domain (exact for a monochromatic spectrum), clamp negative thickness to 0 and
    extrapolate linearly in ln(T) beyond the grid. One table per other material, built
    lazily (a matrix product, milliseconds).

    >>> m = TransmissionModel(Spectrum.monochromatic(80.0))
    >>> t = np.array([0.0, 10.0])
    >>> bool(np.allclose(m.signal(t), np.exp(-linear_attenuation("alloy", 80.0) * t)))
    True
    >>> m = TransmissionModel(tube_spectrum(150.0))
    >>> bool(m.signal(9.0, 1.0, "iron") < m.signal(10.0) < m.signal(9.0, 1.0, "sand"))
    True
    """

    def __init__(
        self,
        spectrum: Spectrum,
        response: DetectorResponse | None = None,
        *,
        max_alloy_mm: float = 300.0,
        alloy_step_mm: float = 0.25,
        max_other_mm: float = 20.0,
        other_step_mm: float = 0.05,
    ) -> None:
        self.spectrum = spectrum
        self.response = response if response is not None else DetectorResponse()
        e = spectrum.energies_kev
        eta = self.response.detection_efficiency(e)
        dep = self.response.deposit_per_interaction_kev(e)
        self._a = spectrum.fluence * eta * dep  # signal weight per bin
        self._b = spectrum.fluence * eta * dep**2  # variance weight per bin
        self._s0 = float(self._a.sum())
        self._v0 = float(self._b.sum())
        self._mu_alloy = linear_attenuation("alloy", e)
        self._ta = np.arange(0.0, max_alloy_mm + 0.5 * alloy_step_mm, alloy_step_mm)
        self._to = np.arange(0.0, max_other_mm + 0.5 * other_step_mm, other_step_mm)
        self._da, self._do = alloy_step_mm, other_step_mm
        self._luts: dict[str, tuple[F64, F64]] = {}

    @property
    def open_beam_neq_per_mm2_mas(self) -> float:
        """Noise-equivalent quanta per mm^2 per mAs at 1 m, open beam (S0^2 / V0)."""
        return self._s0**2 / self._v0

    def open_beam_quanta(self, mas: float, pixel_pitch_mm: float, sdd_mm: float = 1000.0) -> float:
        """Expected open-beam quanta in one square pixel at ``sdd_mm`` (inverse square).

        >>> m = TransmissionModel(tube_spectrum(150.0))
        >>> round(m.open_beam_quanta(mas=1.0, pixel_pitch_mm=0.139), -3)
        71000.0
        """
        return self.open_beam_neq_per_mm2_mas * mas * pixel_pitch_mm**2 * (1000.0 / sdd_mm) ** 2

    def _lut(self, other: str) -> tuple[F64, F64]:
        if other not in self._luts:
            mu_o = linear_attenuation(other, self.spectrum.energies_kev)
            att_a = np.exp(-np.outer(self._ta, self._mu_alloy))
            att_o = np.exp(-np.outer(self._to, mu_o))
            s = (att_a * self._a) @ att_o.T
            v = (att_a * self._b) @ att_o.T
            tiny = np.finfo(np.float64).tiny
            ln_s = np.log(np.maximum(s, tiny)) - math.log(self._s0)
            ln_w = np.log(np.maximum(v, tiny)) - np.log(np.maximum(s, tiny))
            ln_w -= math.log(self._v0 / self._s0)
            self._luts[other] = (ln_s, ln_w)
        return self._luts[other]

    def _query(
        self, which: int, ta: ArrayLike, to: ArrayLike | None, other: str, scale: ArrayLike
    ) -> F64:
        if to is None:
            to, other = 0.0, "alloy"
        _index(other)
        return _interp_exp(self._lut(other)[which], ta, to, self._da, self._do, scale)

    def signal(
        self, t_alloy_mm: ArrayLike, t_other_mm: ArrayLike | None = None, other: str = "iron"
    ) -> F64:
        """Energy-weighted transmission S/S0 (1.0 for no material); exact for one bin."""
        if self.spectrum.energies_kev.size == 1:
            return self.transmission_exact(t_alloy_mm, t_other_mm, other)
        return self._query(0, t_alloy_mm, t_other_mm, other, 1.0)

    def quanta(
        self,
        t_alloy_mm: ArrayLike,
        t_other_mm: ArrayLike | None = None,
        other: str = "iron",
        *,
        mas: float,
        pixel_pitch_mm: float,
        sdd_mm: ArrayLike = 1000.0,
    ) -> F64:
        """Expected noise-equivalent quanta per pixel (signal x open-beam quanta).

        ``sdd_mm`` may be an array (per-pixel focal-spot distance) for inverse square.
        """
        q0 = self.open_beam_quanta(mas, pixel_pitch_mm) * (1000.0 / np.asarray(sdd_mm)) ** 2
        return self._query(0, t_alloy_mm, t_other_mm, other, q0)

    def quantum_weight(
        self, t_alloy_mm: ArrayLike, t_other_mm: ArrayLike | None = None, other: str = "iron"
    ) -> F64:
        """Variance-per-mean of the hardened beam relative to the open beam (>= ~1).

        Pass it to :func:`castsight.simulate.panel.expose` for exact noise behind thick
        material; 1.0 in the open beam.
        """
        return self._query(1, t_alloy_mm, t_other_mm, other, 1.0)

    def transmission_exact(
        self, t_alloy_mm: ArrayLike, t_other_mm: ArrayLike | None = None, other: str = "iron"
    ) -> F64:
        """S/S0 by direct spectral sum (slow; reference for the table)."""
        ta = np.asarray(t_alloy_mm, dtype=np.float64)
        to = np.zeros_like(ta) if t_other_mm is None else np.asarray(t_other_mm, np.float64)
        ta, to = np.broadcast_arrays(np.maximum(ta, 0.0), np.maximum(to, 0.0))
        mu_o = linear_attenuation(other, self.spectrum.energies_kev)
        att = np.exp(-ta[..., None] * self._mu_alloy - to[..., None] * mu_o)
        out: F64 = att @ self._a / self._s0
        return out

    def effective_mu(self, t_alloy_mm: ArrayLike) -> F64:
        """-d ln(S)/dt behind ``t_alloy_mm`` of alloy, 1/mm (falls with t: beam hardening).

        >>> m = TransmissionModel(tube_spectrum(150.0))
        >>> bool(m.effective_mu(50.0) < m.effective_mu(5.0))
        True
        """
        t = np.asarray(t_alloy_mm, dtype=np.float64)[..., None]
        w = self._a * np.exp(-t * self._mu_alloy)
        return cast(F64, (w @ self._mu_alloy) / w.sum(axis=-1))
