"""Build the X-ray physics tables shipped with castsight.

Writes ``src/castsight/data/physics_tables.npz``, read at run time by
:mod:`castsight.physics` (which needs neither spekpy nor xraylib).
Rerun from the repository root after installing the ``physics`` extra::

    .venv/bin/python tools/build_physics_tables.py

Takes about a minute (spekpy computes one spectrum per kV).

Contents (all float64 unless noted):

``spectrum_kv`` (n_kv,)
    Tube voltages in kV: 30 to 225 kV every 1 kV.
``spectrum_energy_kev`` (n_e,)
    Centres of 1 keV wide energy bins, 10.5 to 224.5 keV (bins 10-225 keV).
``spectrum_fluence`` (n_kv, n_e)
    Tungsten anode (spekpy default physics model), 12 degree anode angle,
    inherent filtration 1.0 mm Be, on the central axis. Photon fluence per bin in
    photons / (mm^2 mAs) at 1 m from the focal spot. spekpy returns photons /
    (cm^2 mAs keV) at ``z`` = 100 cm; multiplied by the 1 keV bin width and
    divided by 100 (cm^2 -> mm^2). Bins above the kV are zero.
``material_names`` (n_mat,) unicode
    ``alloy`` (AlSi10MnMg), ``iron``, ``alumina`` (Al2O3), ``sand`` (SiO2 bulk),
    ``air``, ``Al``, ``Cu``, ``Sn``, ``Be``, ``CsI``, ``GOS`` (Gd2O2S).
``density_g_cm3`` (n_mat,)
``mu_energy_kev`` (n_mu,)
    Energy grid for the attenuation tables: 1 to 300 keV every 0.25 keV plus a
    pair of points just below / above every absorption edge of the constituent
    elements, so that log-log interpolation keeps the edges sharp.
``mu_rho_total`` (n_mat, n_mu)
    Mass attenuation coefficient incl. coherent scattering, cm^2/g
    (xraylib ``CS_Total``, mass-fraction weighted).
``mu_en_rho`` (n_mat, n_mu)
    Mass energy-absorption coefficient, cm^2/g (xraylib ``CS_Energy``).
``provenance`` () unicode
    JSON: tool versions, date, spectrum settings, compositions.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import numpy as np
import spekpy
import xraylib as xr

OUT = Path(__file__).resolve().parents[1] / "src/castsight/data/physics_tables.npz"

KV_GRID = np.arange(30.0, 225.0 + 0.5, 1.0)
E_LO, E_HI = 10.0, 225.0
ANODE_ANGLE_DEG = 12.0
INHERENT_BE_MM = 1.0

# name -> (mass fractions by element symbol, density g/cm^3)
MATERIALS: dict[str, tuple[dict[str, float], float]] = {
    # AlSi10MnMg die-casting alloy; nominal wt-% Al 88.6 Si 10.0 Mg 0.3 Mn 0.6 Fe 0.15
    "alloy": ({"Al": 88.6, "Si": 10.0, "Mg": 0.3, "Mn": 0.6, "Fe": 0.15}, 2.68),
    "iron": ({"Fe": 100.0}, 7.87),
    "alumina": ({"Al": 52.925, "O": 47.075}, 3.95),
    "sand": ({"Si": 46.743, "O": 53.257}, 1.6),
    "air": ({"N": 75.527, "O": 23.178, "Ar": 1.283, "C": 0.012}, 1.205e-3),
    "Al": ({"Al": 100.0}, 2.699),
    "Cu": ({"Cu": 100.0}, 8.96),
    "Sn": ({"Sn": 100.0}, 7.31),
    "Be": ({"Be": 100.0}, 1.848),
    "CsI": ({"Cs": 51.155, "I": 48.845}, 4.51),
    "GOS": ({"Gd": 83.09, "O": 8.35, "S": 8.56}, 7.32),
}

SHELLS = (
    xr.K_SHELL,
    xr.L1_SHELL,
    xr.L2_SHELL,
    xr.L3_SHELL,
    xr.M1_SHELL,
    xr.M2_SHELL,
    xr.M3_SHELL,
    xr.M4_SHELL,
    xr.M5_SHELL,
)


def _fractions(comp: dict[str, float]) -> dict[int, float]:
    total = sum(comp.values())
    return {xr.SymbolToAtomicNumber(sym): w / total for sym, w in comp.items()}


def _edges(z: int) -> list[float]:
    out = []
    for shell in SHELLS:
        try:
            e = xr.EdgeEnergy(z, shell)
        except ValueError:
            continue
        if 1.0 < e < 300.0:
            out.append(e)
    return out


def _mu_grid() -> np.ndarray:
    grid = set(np.round(np.arange(1.0, 300.0 + 1e-9, 0.25), 6).tolist())
    zs = {z for comp, _ in MATERIALS.values() for z in _fractions(comp)}
    for z in zs:
        for e in _edges(z):
            # xraylib's jump sits within ~1e-3 keV below EdgeEnergy
            grid.add(round(e - 2e-3, 6))
            grid.add(round(e + 1e-3, 6))
    return np.array(sorted(grid))


def _coefficients(energies: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mu = np.zeros((len(MATERIALS), energies.size))
    mu_en = np.zeros_like(mu)
    rho = np.zeros(len(MATERIALS))
    for i, (comp, density) in enumerate(MATERIALS.values()):
        rho[i] = density
        for z, w in _fractions(comp).items():
            mu[i] += w * np.array([xr.CS_Total(z, float(e)) for e in energies])
            mu_en[i] += w * np.array([xr.CS_Energy(z, float(e)) for e in energies])
    return mu, mu_en, rho


def _spectra(centres: np.ndarray) -> np.ndarray:
    flu = np.zeros((KV_GRID.size, centres.size))
    for i, kv in enumerate(KV_GRID):
        s = spekpy.Spek(kvp=float(kv), th=ANODE_ANGLE_DEG, dk=1.0)
        s.filter("Be", INHERENT_BE_MM)
        k, f = s.get_spectrum()  # bin centres (keV), photons / (cm^2 mAs keV) at z = 100 cm
        for kc, fc in zip(k, f, strict=True):
            j = round(float(kc - centres[0]))
            if 0 <= j < centres.size and abs(centres[j] - kc) < 1e-6:
                flu[i, j] = fc * 1.0 / 100.0  # * 1 keV bin, cm^-2 -> mm^-2
    return flu


def main() -> None:
    centres = np.arange(E_LO + 0.5, E_HI, 1.0)
    mu_e = _mu_grid()
    mu, mu_en, rho = _coefficients(mu_e)
    flu = _spectra(centres)
    provenance = {
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "spekpy": getattr(spekpy, "__version__", "unknown"),
        "xraylib": xr.__version__,
        "spectrum": {
            "anode": "W",
            "anode_angle_deg": ANODE_ANGLE_DEG,
            "inherent_filtration": {"Be": INHERENT_BE_MM},
            "units": "photons / (mm^2 mAs) per 1 keV bin at 1 m",
            "kv_grid": [float(KV_GRID[0]), float(KV_GRID[-1]), 1.0],
        },
        "attenuation": "xraylib CS_Total (incl. coherent) and CS_Energy, cm^2/g",
        "materials": {
            k: {"mass_percent": c, "density_g_cm3": d} for k, (c, d) in MATERIALS.items()
        },
        "script": "tools/build_physics_tables.py",
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        OUT,
        spectrum_kv=KV_GRID,
        spectrum_energy_kev=centres,
        spectrum_fluence=flu,
        material_names=np.array(list(MATERIALS), dtype=str),
        density_g_cm3=rho,
        mu_energy_kev=mu_e,
        mu_rho_total=mu,
        mu_en_rho=mu_en,
        provenance=np.array(json.dumps(provenance, sort_keys=True)),
    )
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
