"""Casting defects as 3-D bodies placed inside a phantom's metal, with their truth.

Each :class:`Defect` is a small set of solids (voids, or a second material)
that lies wholly inside metal, so its path length along any ray simply moves
length from the alloy to the defect's material:

* gas pore: one ellipsoidal void, diameter 0.2-5 mm;
* shrinkage: a cluster of many small voids around a thick node (hot spot);
* crack / cold shut: a thin planar void (opening 0.05-0.15 mm) whose plane
  holds the wall normal, reaching part-way through the wall;
* inclusion: an irregular lump of 2-3 overlapping ellipsoids of iron or
  alumina (denser than the alloy) or sand (lighter).

``size_mm`` is the governing size the plan judges: pore diameter, cluster
extent, crack length, inclusion largest dimension.

>>> import numpy as np
>>> from castsight.simulate.phantoms import make_phantom
>>> ph = make_phantom("giga-underbody", np.random.default_rng(0))
>>> d = place_defect(ph, "pore", 1.5, np.random.default_rng(1), defect_id=1)
>>> d.kind, d.material, round(d.size_mm, 2) <= 1.5
('pore', 'void', True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from castsight.simulate.geometry import F64, rotation_from_euler
from castsight.simulate.phantoms import Phantom, sample_inside, wall_thickness_at
from castsight.simulate.solids import Solid, Vec3, contains, ellipsoid

KINDS = ("pore", "shrinkage", "crack", "inclusion")
INCLUSION_MATERIALS = ("iron", "alumina", "sand")


@dataclass(frozen=True)
class Defect:
    """One defect: what, where (object frame, mm), how big, and the solids that make it."""

    defect_id: int
    kind: str
    material: str
    center_mm: Vec3
    size_mm: float
    solids: tuple[Solid, ...]

    @property
    def radius_mm(self) -> float:
        """Radius of a sphere around ``center_mm`` holding every solid (for culling)."""
        c = np.asarray(self.center_mm)
        return float(
            max(np.linalg.norm(np.asarray(s.center_mm) - c) + max(s.size_mm) for s in self.solids)
        )


def _surface_points(solid: Solid) -> F64:
    """Points on the solid's surface (corners, face centres, axis ends) in object frame."""
    s = np.asarray(solid.size_mm)
    if solid.kind == "box":
        grid = np.array(np.meshgrid([-1, 0, 1], [-1, 0, 1], [-1, 0, 1])).reshape(3, -1).T
        local = grid[np.any(grid != 0, axis=1)] * s
    else:
        dirs = np.array(np.meshgrid([-1, 0, 1], [-1, 0, 1], [-1, 0, 1])).reshape(3, -1).T
        dirs = dirs[np.any(dirs != 0, axis=1)].astype(np.float64)
        local = dirs / np.linalg.norm(dirs, axis=1, keepdims=True) * s
    rot = np.asarray(solid.rotation)
    return np.asarray(local @ rot.T + np.asarray(solid.center_mm), dtype=np.float64)


def fits(phantom: Phantom, solids: tuple[Solid, ...]) -> bool:
    """True when every solid's surface probes lie in the phantom's metal."""
    pts = np.concatenate([_surface_points(s) for s in solids])
    return bool(contains(phantom.solids, pts).all())


def _pore(rng: np.random.Generator, centre: F64, size: float) -> tuple[Solid, ...]:
    axes = size / 2.0 * np.array([1.0, rng.uniform(0.7, 1.0), rng.uniform(0.7, 1.0)])
    return (ellipsoid(centre, axes, euler_deg=rng.uniform(0.0, 360.0, 3)),)


def _inclusion(rng: np.random.Generator, centre: F64, size: float) -> tuple[Solid, ...]:
    parts = []
    for k in range(int(rng.integers(2, 4))):
        axes = size / 2.0 * rng.uniform(0.35, 0.6, 3)
        axes[0] = size / 2.0 * (0.95 if k == 0 else rng.uniform(0.4, 0.7))
        offset = np.zeros(3) if k == 0 else rng.normal(0.0, size * 0.12, 3)
        parts.append(ellipsoid(centre + offset, axes, euler_deg=rng.uniform(0.0, 360.0, 3)))
    return tuple(parts)


def _wall_normal(phantom: Phantom, centre: F64) -> tuple[F64, float]:
    """Direction of the shortest metal chord (the wall normal) and that chord's length."""
    dirs = rotation_from_euler(0.0, 0.0, 0.0)
    probes = np.concatenate(
        [dirs, [[1, 1, 0], [1, -1, 0], [1, 0, 1], [1, 0, -1], [0, 1, 1], [0, 1, -1]]]
    ).astype(np.float64)
    probes /= np.linalg.norm(probes, axis=1, keepdims=True)
    chords = wall_thickness_at(phantom, centre[None, :], probes)[0]
    k = int(np.argmin(chords))
    return probes[k], float(chords[k])


def _crack(
    phantom: Phantom, rng: np.random.Generator, centre: F64, size: float
) -> tuple[Solid, ...]:
    normal, wall = _wall_normal(phantom, centre)
    helper = np.array([0.0, 0.0, 1.0]) if abs(normal[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    u = np.cross(normal, helper)
    u /= np.linalg.norm(u)
    v = np.cross(normal, u)
    angle = rng.uniform(0, np.pi)
    length_dir = np.cos(angle) * u + np.sin(angle) * v
    width_dir = np.cross(normal, length_dir)
    rot = np.stack([length_dir, normal, width_dir], axis=1)  # local x, y, z -> object
    depth = max(0.3, wall * rng.uniform(0.3, 0.7))
    opening = float(rng.uniform(0.05, 0.15))
    half = (size / 2.0, depth / 2.0, opening / 2.0)
    rows = [(float(r[0]), float(r[1]), float(r[2])) for r in rot]
    centre_v: Vec3 = (float(centre[0]), float(centre[1]), float(centre[2]))
    return (Solid("box", half, centre_v, (rows[0], rows[1], rows[2])),)


def _shrinkage(
    phantom: Phantom, rng: np.random.Generator, near: F64, size: float
) -> tuple[Solid, ...]:
    n_voids = int(np.clip(size * 8, 12, 80))
    radius = float(np.clip(size / 12.0, 0.1, 0.5))
    centres = sample_inside(phantom, rng, n_voids, margin_mm=radius * 1.2, near=near,
                            radius_mm=size * 0.35)  # fmt: skip
    voids = []
    for c in centres:
        r = radius * rng.uniform(0.5, 1.2)
        axes = (r * rng.uniform(1.0, 2.5), r, r * rng.uniform(0.6, 1.0))
        voids.append(ellipsoid(c, axes, euler_deg=rng.uniform(0.0, 360.0, 3)))
    return tuple(voids)


def place_defect(
    phantom: Phantom,
    kind: str,
    size_mm: float,
    rng: np.random.Generator,
    *,
    defect_id: int,
    tries: int = 40,
    at_nodes: bool = True,
) -> Defect:
    """Place one defect of ``kind`` wholly inside metal; shrink it if it cannot fit.

    Large pores, shrinkage and inclusions prefer the thick nodes, where they
    form in a real casting (unless ``at_nodes`` is False: anywhere in metal).
    The returned ``size_mm`` is the size actually placed.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown defect kind '{kind}' (known: {', '.join(KINDS)})")
    size = float(size_mm)
    nodes = phantom.thick_nodes if at_nodes else ()
    for _ in range(12):
        for _ in range(tries):
            if kind == "shrinkage" or (kind != "crack" and size > 2.0 and nodes):
                node = nodes[int(rng.integers(len(nodes)))]
                near: F64 | None = np.asarray(node.point_mm)
            else:
                near = None
            margin = 0.1 if kind in ("crack", "shrinkage") else size / 2.0
            try:
                centre = sample_inside(phantom, rng, 1, margin_mm=margin, near=near,
                                       radius_mm=max(size, 4.0))[0]  # fmt: skip
            except ValueError:
                continue
            if kind == "pore":
                solids = _pore(rng, centre, size)
            elif kind == "inclusion":
                solids = _inclusion(rng, centre, size)
            elif kind == "crack":
                solids = _crack(phantom, rng, centre, size)
            else:
                try:
                    solids = _shrinkage(phantom, rng, centre, size)
                except ValueError:
                    continue
            if kind == "shrinkage" or fits(phantom, solids):
                placed = _extent(solids) if kind == "shrinkage" else size
                where: Vec3 = (float(centre[0]), float(centre[1]), float(centre[2]))
                return Defect(defect_id, kind, _material(kind, rng), where, placed, solids)
        size *= 0.8
    raise ValueError(f"no room for a {kind} in {phantom.name}")


def _extent(solids: tuple[Solid, ...]) -> float:
    """Largest distance across a cluster of voids, surface to surface."""
    pts = np.concatenate([_surface_points(s) for s in solids])
    span = pts.max(axis=0) - pts.min(axis=0)
    return float(np.linalg.norm(span) if len(solids) > 1 else max(span))


def _material(kind: str, rng: np.random.Generator) -> str:
    if kind != "inclusion":
        return "void"
    return str(rng.choice(INCLUSION_MATERIALS, p=[0.45, 0.3, 0.25]))
