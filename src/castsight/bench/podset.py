"""The POD set: single spherical pores of graded diameter in graded wall thickness.

Every part of a POD set is the series part (``config.series``) carrying
``pores_per_part`` round gas pores, nothing else. The pores walk through a grid
of diameters (:data:`POD_SIZES_MM`, log-spaced around the plan's pore limit)
crossed with bands of local wall thickness (:data:`WALL_BANDS_MM`): pore ``c``
of the set (counted over all parts) gets size ``c mod n_sizes`` and band
``(c div n_sizes) mod n_bands``, so every (size, band) cell is filled equally
often. A pore is placed at a random metal point whose local wall thickness
(:func:`~castsight.simulate.phantoms.wall_thickness_at`, the shortest metal
chord) lies in its band and whose margin holds the pore; when no such point
exists (a 3 mm pore in a 2.5 mm rib) the nearest thickness found is used and
recorded. Rendering, the per-view truth (size_mm, d') and parts.json are those
of :func:`castsight.simulate.dataset.write_dataset`; :func:`add_wall_thickness`
then writes each pore's ``wall_mm`` into ``truth.json`` and ``parts.json``.

>>> from castsight.accept.plan import load_plan
>>> from castsight.simulate.dataset import SimulationConfig
>>> make = PodPartMaker(pores_per_part=4)
>>> rules = load_plan("giga-underbody").rules
>>> part = make(SimulationConfig(n_views=1, size=64, series=1), 0, rules)
>>> [d.kind for d in part.defects], [round(d.size_mm, 2) for d in part.defects]
(['pore', 'pore', 'pore', 'pore'], [0.3, 0.39, 0.5, 0.65])
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from castsight.accept.plan import Rules
from castsight.io.files import atomic_write_bytes
from castsight.simulate.dataset import SimulatedPart, SimulationConfig, make_part
from castsight.simulate.defects import Defect
from castsight.simulate.phantoms import Phantom, sample_inside, wall_thickness_at
from castsight.simulate.solids import ellipsoid

POD_SIZES_MM: tuple[float, ...] = tuple(round(float(v), 3) for v in np.geomspace(0.3, 4.0, 11))
"""Pore diameters (mm): 0.3 to 4 mm, log-spaced (the plan's pore limit is 2 mm)."""
WALL_BANDS_MM: tuple[tuple[float, float], ...] = ((2.0, 3.5), (3.5, 5.0), (5.0, 8.0), (8.0, 60.0))
"""Bands of local wall thickness (mm): ribs, plate, walls and flanges, thick nodes."""
_GAP_MM = 6.0
"""Least distance between two pores of a part, beyond their radii."""
_CLEARANCE_MM = 0.15
"""Metal kept between a pore and the nearest surface."""


def band_of(wall_mm: float, bands: Sequence[tuple[float, float]] = WALL_BANDS_MM) -> str:
    """The label ``"lo-hi"`` of the band holding ``wall_mm`` (the nearest band outside).

    >>> band_of(4.2), band_of(1.0), band_of(99.0)
    ('3.5-5', '2-3.5', '8-60')
    """
    for lo, hi in bands:
        if lo <= wall_mm < hi:
            return f"{lo:g}-{hi:g}"
    lo, hi = bands[0] if wall_mm < bands[0][0] else bands[-1]
    return f"{lo:g}-{hi:g}"


def _place(
    phantom: Phantom,
    rng: np.random.Generator,
    size: float,
    band: tuple[float, float],
    taken: list[tuple[np.ndarray[Any, Any], float]],
) -> tuple[np.ndarray[Any, Any], float]:
    """A pore centre for ``size`` in ``band`` away from ``taken``; its wall thickness."""
    margin = size / 2.0 + _CLEARANCE_MM
    best: tuple[float, np.ndarray[Any, Any], float] | None = None
    nodes = phantom.thick_nodes
    for attempt in range(12):
        near = None
        if band[0] >= 8.0 and nodes and attempt % 2 == 0:
            near = np.asarray(nodes[int(rng.integers(len(nodes)))].point_mm)
        try:
            cand = sample_inside(phantom, rng, 48, margin_mm=margin, near=near, radius_mm=12.0)
        except ValueError:
            continue
        far = np.array(
            [all(np.linalg.norm(c - p) >= r + size / 2 + _GAP_MM for p, r in taken) for c in cand]
        )
        cand = cand[far]
        if not len(cand):
            continue
        wall = wall_thickness_at(phantom, cand)
        miss = np.maximum(band[0] - wall, 0.0) + np.maximum(wall - band[1], 0.0)
        k = int(np.argmin(miss))
        if best is None or miss[k] < best[0]:
            best = (float(miss[k]), cand[k], float(wall[k]))
        if miss[k] == 0.0:
            break
    if best is None:
        raise ValueError(f"no room for a {size:g} mm pore in {phantom.name}")
    return best[1], best[2]


class PodPartMaker:
    """A ``make`` for :func:`~castsight.simulate.dataset.write_dataset` placing graded pores.

    The phantom is the config's part (use ``series`` so it is the series part).
    ``walls`` keeps each pore's local wall thickness (mm) under ``(serial, defect_id)``
    for :func:`add_wall_thickness`.
    """

    def __init__(
        self,
        sizes_mm: Sequence[float] = POD_SIZES_MM,
        bands_mm: Sequence[tuple[float, float]] = WALL_BANDS_MM,
        pores_per_part: int = 8,
    ) -> None:
        self.sizes_mm = tuple(float(s) for s in sizes_mm)
        self.bands_mm = tuple(bands_mm)
        self.pores_per_part = pores_per_part
        self.walls: dict[tuple[str, int], float] = {}

    def __call__(self, config: SimulationConfig, index: int, rules: Rules) -> SimulatedPart:
        """Part ``index``: the config's phantom with its share of the graded pores."""
        base = make_part(dataclasses.replace(config, defect_rate=0.0), index, rules)
        rng = np.random.default_rng(np.random.SeedSequence([config.seed, index, 7]))
        taken: list[tuple[np.ndarray[Any, Any], float]] = []
        defects = []
        sizes, bands = self.sizes_mm, self.bands_mm
        for j in range(self.pores_per_part):
            cell = index * self.pores_per_part + j
            size = sizes[cell % len(sizes)]
            band = bands[(cell // len(sizes)) % len(bands)]
            centre, wall = _place(base.phantom, rng, size, band, taken)
            taken.append((centre, size / 2))
            where = (float(centre[0]), float(centre[1]), float(centre[2]))
            pore = ellipsoid(centre, (size / 2.0,) * 3)
            defects.append(Defect(j, "pore", "void", where, size, (pore,)))
            self.walls[(base.serial, j)] = round(wall, 3)
        return dataclasses.replace(base, defects=tuple(defects))


def add_wall_thickness(folder: Path, walls: dict[tuple[str, int], float]) -> int:
    """Write ``wall_mm`` into each annotation of ``folder/truth.json`` and each defect of
    ``folder/parts.json`` from ``walls`` (a :class:`PodPartMaker`'s); returns how many
    annotations got one."""
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    parts = json.loads((folder / "parts.json").read_text(encoding="utf-8"))
    for part in parts["parts"]:
        for d in part["defects"]:
            key = (part["serial"], int(d["defect_id"]))
            if key in walls:
                d["wall_mm"] = walls[key]
    n = 0
    for ann in truth["annotations"]:
        key = (str(ann.get("part")), int(ann.get("defect_id", -1)))
        if key in walls:
            ann["wall_mm"] = walls[key]
            n += 1
    for path, data in ((folder / "truth.json", truth), (folder / "parts.json", parts)):
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        atomic_write_bytes(path, text.encode("utf-8"))
    return n
