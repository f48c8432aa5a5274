"""Analytic part phantoms: a giga-casting underbody section and a cast wheel.

Each :class:`Phantom` is an ordered tuple of :class:`~castsight.simulate.solids.Solid`
(see :mod:`castsight.simulate.solids` for the CSG rule) plus the "thick nodes"
where shrinkage forms, and a default view. Dimensions jitter per part (about
+-8 %, walls drawn from their ranges) from the caller's generator, so the same
seed gives the same part.

>>> p = make_phantom("giga-underbody", np.random.default_rng(0))
>>> p.name, len(p.solids) > 30, len(p.thick_nodes) > 10
('giga-underbody', True, True)
>>> pts = sample_inside(p, np.random.default_rng(1), 5, margin_mm=0.5)
>>> bool(contains(p.solids, pts).all())
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from castsight.simulate.geometry import F64, Pose, view_poses
from castsight.simulate.solids import (
    Solid,
    Vec3,
    bounding_box,
    box,
    contains,
    cylinder,
    ellipsoid,
    metal_chords,
    tube,
)


@dataclass(frozen=True)
class ThickNode:
    """A hot spot: where shrinkage prefers to form. ``thickness_mm``: local section size."""

    point_mm: Vec3
    thickness_mm: float
    kind: str


@dataclass(frozen=True)
class Phantom:
    """A part: ordered solids, thick nodes, nominal wall, and where to look at it."""

    name: str
    solids: tuple[Solid, ...]
    thick_nodes: tuple[ThickNode, ...]
    nominal_wall_mm: float
    view_center_mm: Vec3
    view_span_mm: tuple[float, float]
    dimensions_mm: tuple[tuple[str, float], ...]

    def default_pose(self) -> Pose:
        """Looking along the object z axis at ``view_center_mm``."""
        return Pose.look_at(self.view_center_mm)

    def views(
        self,
        n_views: int = 28,
        rng: np.random.Generator | None = None,
        *,
        jitter_deg: float = 0.5,
        jitter_mm: float = 0.5,
    ) -> list[Pose]:
        """:func:`~castsight.simulate.geometry.view_poses` spread over this part."""
        return view_poses(n_views, rng, center_mm=self.view_center_mm, span_mm=self.view_span_mm,
                          jitter_deg=jitter_deg, jitter_mm=jitter_mm)  # fmt: skip


# Line directions for margin / thickness probes: 3 axes, 6 face and 4 body diagonals.
_LINES = np.array(
    [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, -1, 0], [1, 0, 1], [1, 0, -1],
     [0, 1, 1], [0, 1, -1], [1, 1, 1], [1, 1, -1], [1, -1, 1], [-1, 1, 1]], dtype=np.float64,
)  # fmt: skip
_LINES /= np.linalg.norm(_LINES, axis=1, keepdims=True)
# Largest angle between any direction and the nearest of the 26 probe rays (27.6 deg):
# a ray that stays in metal for margin / cos(angle) guarantees margin to a plane face.
_COVER_COS = 0.88


def wall_thickness_at(
    phantom: Phantom, points: ArrayLike, directions: ArrayLike | None = None
) -> F64:
    """Local wall thickness (mm) at metal points: the shortest metal chord through each.

    The chord is exact along each probe line (13 lines by default, or the given
    ``directions``: then the chord along each, shape (N, D)). 0 outside metal.

    >>> p = make_phantom("giga-underbody", np.random.default_rng(0))
    >>> t = wall_thickness_at(p, [[0.0, -95.0, 1.0]])
    >>> bool(2.5 <= t[0] <= 6.0)
    True
    """
    lines = _LINES if directions is None else np.asarray(directions, dtype=np.float64)
    ch = metal_chords(phantom.solids, points, lines)
    length: F64 = ch[..., 1] - ch[..., 0]
    return length.min(axis=1) if directions is None else length


def sample_inside(
    phantom: Phantom,
    rng: np.random.Generator,
    n: int,
    margin_mm: float = 0.0,
    *,
    near: ArrayLike | None = None,
    radius_mm: float = 10.0,
    max_batches: int = 200,
) -> F64:
    """``n`` random metal points at least ``margin_mm`` from every surface, shape (n, 3).

    Uniform in the material bounding box, or in the ball of ``radius_mm`` around
    ``near`` (a thick node, say); rejection-sampled. The margin is checked
    exactly along 26 rays from each point (scaled so it holds for plane faces).
    Raises ValueError if too few points are found.
    """
    bb = bounding_box(phantom.solids)
    centre = None if near is None else np.asarray(near, dtype=np.float64).reshape(3)
    found: list[F64] = []
    total = 0
    batch = max(256, 8 * n)
    for _ in range(max_batches):
        if total >= n:
            break
        if centre is None:
            cand = rng.uniform(bb[0], bb[1], size=(batch, 3))
        else:
            d = rng.normal(size=(batch, 3))
            d *= (radius_mm * rng.random(batch) ** (1 / 3) / np.linalg.norm(d, axis=1))[:, None]
            cand = centre + d
        cand = cand[contains(phantom.solids, cand)]
        if margin_mm > 0.0 and len(cand):
            ch = metal_chords(phantom.solids, cand, _LINES)
            reach = np.minimum(-ch[..., 0], ch[..., 1]).min(axis=1)
            cand = cand[reach >= margin_mm / _COVER_COS]
        found.append(cand)
        total += len(cand)
    if total < n:
        raise ValueError(f"found only {total} of {n} metal points with margin {margin_mm} mm")
    return np.concatenate(found)[:n]


def _jit(rng: np.random.Generator, rel: float = 0.08) -> Callable[[float], float]:
    return lambda v: float(v * (1.0 + rng.uniform(-rel, rel)))


def _giga_underbody(rng: np.random.Generator) -> Phantom:
    j = _jit(rng)
    L, W = j(300.0), j(240.0)  # section size (x, y)
    tp, tr, tw, tf = (rng.uniform(3.0, 4.5), rng.uniform(2.5, 3.5),
                      rng.uniform(4.0, 6.0), rng.uniform(4.0, 5.5))  # fmt: skip
    hr, hw, wf = j(30.0), j(55.0), j(22.0)  # rib height, wall height, flange width
    xs = [j(-105.0), j(-35.0), j(35.0), j(105.0)]  # ribs running along y
    ys = [j(-70.0), j(0.0), j(70.0)]  # ribs running along x
    x0, x1, y0, y1 = -L / 2, L / 2, -W / 2, W / 2
    wx, wy = x0 + tw, y1 - tw  # inner faces of the two side walls
    mat: list[Solid] = [box((0, 0, tp / 2), (L / 2, W / 2, tp / 2), label="plate")]
    nodes: list[ThickNode] = []
    f = tr / 2 + 2.5  # 45-degree fillets at rib roots: a diamond-section box per rib
    dz = tp + f - 0.9 * tp
    rn = 1.1 * tr  # rib-crossing node radius
    for x in xs:
        my, hy = (y0 + wy) / 2, (wy - y0) / 2
        mat.append(box((x, my, tp + hr / 2), (tr / 2, hy, hr / 2), label="rib"))
        mat.append(box((x, my, dz), (f / 2**0.5, hy, f / 2**0.5), euler_deg=(0, 45, 0),
                       label="fillet"))  # fmt: skip
        nodes.append(ThickNode((x, wy - 1.0, tp + 2.0), tw + tr, "rib-wall"))
    for y in ys:
        mx, hx = (wx + x1) / 2, (x1 - wx) / 2
        mat.append(box((mx, y, tp + hr / 2), (hx, tr / 2, hr / 2), label="rib"))
        mat.append(box((mx, y, dz), (hx, f / 2**0.5, f / 2**0.5), euler_deg=(45, 0, 0),
                       label="fillet"))  # fmt: skip
        nodes.append(ThickNode((wx + 1.0, y, tp + 2.0), tw + tr, "rib-wall"))
    for x in xs:
        for y in ys:
            mat.append(cylinder((x, y, tp + hr / 2), rn, hr / 2, label="node"))
            nodes.append(ThickNode((x, y, tp + 2.0), 2 * rn, "rib-crossing"))
    # Side walls with outward flanges along y = y1 and x = x0.
    mat.append(box((0, y1 - tw / 2, hw / 2), (L / 2, tw / 2, hw / 2), label="wall"))
    mat.append(box((0, y1 + (wf - tw) / 2, hw - tf / 2), (L / 2, (wf + tw) / 2, tf / 2),
                   label="flange"))  # fmt: skip
    mat.append(box((x0 + tw / 2, 0, hw / 2), (tw / 2, W / 2, hw / 2), label="wall"))
    mat.append(box((x0 - (wf - tw) / 2, 0, hw - tf / 2), ((wf + tw) / 2, W / 2, tf / 2),
                   label="flange"))  # fmt: skip
    nodes.append(ThickNode((x0 + tw / 2, y1 - tw / 2, hw / 2), tw * 2**0.5, "wall-corner"))
    fw = 0.85 * min(tp, tw) / 2**0.5  # 45-degree fillets at the wall roots
    mat.append(box((0, wy, tp), (L / 2, fw, fw), euler_deg=(45, 0, 0), label="fillet"))
    mat.append(box((wx, 0, tp), (fw, W / 2, fw), euler_deg=(0, 45, 0), label="fillet"))
    mat.append(box((0, wy - 15.0, tp + 0.6), (L / 2, 15.0, 0.6), label="land"))  # +1.2 mm zone
    cx = [(xs[i] + xs[i + 1]) / 2 for i in range(3)]  # rib cell centres
    cy = [(ys[i] + ys[i + 1]) / 2 for i in range(2)]
    rem: list[Solid] = []
    # Towers: hollow cylinders on a thick base ring; one bored through, one blind.
    towers = (((cx[2], cy[0]), j(60.0), True), ((cx[0], cy[1]), j(45.0), False))
    for (tx, ty), ht, through in towers:
        ro, ri, rb = j(12.0), j(6.5), j(17.0)
        mat.append(cylinder((tx, ty, ht / 2), ro, ht / 2, label="tower"))
        mat.append(cylinder((tx, ty, tp + 3.0), rb, 3.0, label="tower-base"))
        zb = -1.0 if through else tp + 6.0
        rem.append(cylinder((tx, ty, (zb + ht + 1) / 2), ri, (ht + 1 - zb) / 2, removed=True,
                            label="tower-bore"))  # fmt: skip
        nodes.append(ThickNode((tx + (ri + rb) / 2, ty, tp + 2.0), rb - ri, "tower-base"))
    # Bosses with blind drilled holes, and through holes.
    for bx, by in ((cx[1] - 12.0, cy[0]), (cx[2] + 14.0, cy[1] - 14.0)):
        rb, hb, rh = j(8.0), j(10.0), j(3.2)
        mat.append(cylinder((bx, by, tp + hb / 2), rb, hb / 2, label="boss"))
        rem.append(cylinder((bx, by, tp + hb - 4.0), rh, 4.0 + 0.5, removed=True, label="drill"))
        nodes.append(ThickNode((bx, by, tp + 1.5), tp + hb - 8.0, "boss"))
    for hx, hy, r in ((cx[1] + 18.0, cy[0] + 8.0, j(6.0)), (x1 - 22.0, y0 + 25.0, j(5.0)),
                      (x1 - 22.0, cy[1], j(5.0)), (cx[0] + 10.0, y0 + 22.0, j(7.0))):  # fmt: skip
        rem.append(cylinder((hx, hy, tp / 2), r, tp, removed=True, label="hole"))
    # Lightening pockets in a thick pad; a rounded window through the plate.
    px, py, hp = cx[0], cy[0], j(10.0)
    mat.append(box((px, py, hp / 2), (24.0, 20.0, hp / 2), label="pad"))
    for s in (-1.0, 1.0):
        rem.append(box((px + s * 11.0, py, tp + hp / 2), (9.0, 16.0, hp / 2), removed=True,
                       label="pocket"))  # fmt: skip
    nodes.append(ThickNode((px, py, tp + 1.0), 4.0, "pad-web"))
    wxc, wyc, a, b, rc = cx[1], cy[1], j(22.0), j(15.0), 6.0
    rem.append(box((wxc, wyc, tp / 2), (a - rc, b, tp), removed=True, label="window"))
    rem.append(box((wxc, wyc, tp / 2), (a, b - rc, tp), removed=True, label="window"))
    for sx in (-1.0, 1.0):
        for sy in (-1.0, 1.0):
            rem.append(cylinder((wxc + sx * (a - rc), wyc + sy * (b - rc), tp / 2), rc, tp,
                                removed=True, label="window"))  # fmt: skip
    # A diagonal rib in one cell and a raised stiffening bead outside the grid.
    dl = math.hypot(xs[3] - xs[2], ys[2] - ys[1]) / 2 - tr
    ang = math.degrees(math.atan2(ys[2] - ys[1], xs[3] - xs[2]))
    mat.append(box((cx[2], cy[1], tp + 0.35 * hr), (dl, tr / 2, 0.35 * hr),
                   euler_deg=(0, 0, ang), label="rib"))  # fmt: skip
    mat.append(ellipsoid(((xs[3] + x1) / 2, ys[0] / 2, tp), (4.0, j(45.0), 2.5), label="bead"))
    # Ejector-pin pads: on rib crossings (rib tops) and on the plate in the cells.
    for x, y in ((xs[1], ys[1]), (xs[2], ys[1]), (xs[1], ys[0]), (xs[2], ys[2])):
        mat.append(cylinder((x, y, tp + hr + 0.75), rn + 2.5, 0.75, label="ejector-pad"))
    for i, (x, y) in enumerate((a, b) for a in cx for b in cy):
        sx, sy = (1.0, -1.0)[i % 2], float(rng.choice([-1.0, 1.0]))
        mat.append(
            cylinder((x + sx * 25.0, y + sy * 25.0, tp + 0.4), 4.0, 0.4, label="ejector-pad")
        )
    for x in (-0.3 * L, 0.0, 0.3 * L):  # bolt holes in the flange
        rem.append(cylinder((x, y1 + wf / 2, hw), 4.5, tf, removed=True, label="flange-hole"))
    dims = (("section_x", L), ("section_y", W), ("plate", tp), ("rib", tr), ("rib_height", hr),
            ("wall", tw), ("wall_height", hw), ("flange", tf))  # fmt: skip
    return Phantom("giga-underbody", (*mat, *rem), tuple(nodes), tp, (-25.0, 20.0, 0.0),
                   (L - 150.0, W - 150.0), dims)  # fmt: skip


def _ring(r_out: float, r_in: float, za: float, zb: float, label: str) -> list[Solid]:
    """Hollow cylinder about the z axis between z = za and z = zb."""
    return [tube((0.0, 0.0, (za + zb) / 2), r_out, r_in, abs(zb - za) / 2, label=label)]


def _wheel(rng: np.random.Generator) -> Phantom:
    j = _jit(rng)
    rs, ts, half = j(216.0), rng.uniform(4.5, 6.5), j(95.0)  # bead seat radius, rim wall
    rw = rs - j(25.0)  # drop-centre (well) radius
    zs, zw, tfl, hfl = 0.55 * half, 0.48 * half, 8.0, j(17.0)
    # Rim: seats, flanges, steps and well, outboard side toward +z (the detector).
    sol: list[Solid] = []
    for s in (-1.0, 1.0):
        sol += _ring(rs, rs - ts, s * zs, s * (half - tfl), "rim-seat")
        sol += _ring(rs + hfl, rs - ts, s * (half - tfl), s * half, "rim-flange")
        sol += _ring(rs, rw - ts, s * zw, s * zs, "rim-step")
    sol += _ring(rw, rw - ts, -zw, zw, "rim-well")
    # Hub, spokes (tilted toward the outboard face), bore, bolt and lug holes, cap recess.
    rh, z0, z1 = j(75.0), j(30.0), 0.9 * half
    sol.append(cylinder((0, 0, (z0 + z1) / 2), rh, (z1 - z0) / 2, label="hub"))
    n_sp, w_sp, t_sp = 5, j(34.0), j(24.0)
    r_in, r_out = 0.8 * rh, rs - ts / 2
    zc, rc = z1 - t_sp / 2 - 2.0, (r_in + r_out) / 2
    nodes: list[ThickNode] = []
    rem: list[Solid] = []
    for k in range(n_sp):
        az = 90.0 + 360.0 * k / n_sp
        ca, sa = math.cos(math.radians(az)), math.sin(math.radians(az))
        sol.append(box((rc * ca, rc * sa, zc), ((r_out - r_in) / 2, w_sp / 2, t_sp / 2),
                       euler_deg=(0, -4.0, az), label="spoke"))  # fmt: skip
        rp = (rh + 20.0 + r_out - 35.0) / 2
        half_pocket = ((r_out - rh - 55.0) / 2, w_sp / 4, 0.45 * t_sp)
        rem.append(box((rp * ca, rp * sa, zc - t_sp / 2), half_pocket, euler_deg=(0, -4.0, az),
                       removed=True, label="spoke-pocket"))  # fmt: skip
        nodes.append(ThickNode(((rs - ts - 6) * ca, (rs - ts - 6) * sa, zc), t_sp, "spoke-rim"))
        nodes.append(ThickNode(((rh + 4) * ca, (rh + 4) * sa, zc), t_sp, "spoke-hub"))
    rv = rw - ts / 2  # valve hole through the well
    rem.append(cylinder((0.0, -rv, 0.3 * zw), 5.75, ts, euler_deg=(90, 0, 0), removed=True,
                        label="valve-hole"))  # fmt: skip
    rb, pcd, rbolt = j(33.0), j(57.0), 7.0
    rem.append(cylinder((0, 0, (z0 + z1) / 2), rb, (z1 - z0) / 2 + 1, removed=True, label="bore"))
    rem.append(cylinder((0, 0, z1 - 5.0), j(44.0), 5.5, removed=True, label="cap-recess"))
    for k in range(5):
        a = math.radians(90.0 + 36.0 + 72.0 * k)
        p = (pcd * math.cos(a), pcd * math.sin(a))
        rem.append(cylinder((*p, (z0 + z1) / 2), rbolt, (z1 - z0) / 2 + 1, removed=True,
                            label="bolt-hole"))  # fmt: skip
        rem.append(cylinder((*p, z1 - 6.0), 11.0, 6.5, removed=True, label="lug-seat"))
        nodes.append(ThickNode((pcd * math.cos(a + 0.63), pcd * math.sin(a + 0.63), z0 + 8.0),
                               z1 - z0 - 10.0, "hub"))  # fmt: skip
    dims = (("bead_seat_radius", rs), ("rim_wall", ts), ("rim_half_width", half),
            ("hub_radius", rh), ("bore_radius", rb), ("spoke_width", w_sp),
            ("spoke_thickness", t_sp))  # fmt: skip
    return Phantom("wheel", (*sol, *rem), tuple(nodes), ts, (0.0, 110.0, 40.0),
                   (2 * rs - 190.0, 2 * rs - 190.0), dims)  # fmt: skip


PART_TYPES: dict[str, Callable[[np.random.Generator], Phantom]] = {
    "giga-underbody": _giga_underbody,
    "wheel": _wheel,
}
"""Known part generators by name."""


def make_phantom(part_type: str, rng: np.random.Generator) -> Phantom:
    """A new part of the given type with per-part jittered dimensions.

    >>> make_phantom("wheel", np.random.default_rng(3)).name
    'wheel'
    """
    try:
        gen = PART_TYPES[part_type]
    except KeyError:
        known = ", ".join(sorted(PART_TYPES))
        raise ValueError(f"unknown part type {part_type!r}; known: {known}") from None
    return gen(rng)


__all__ = [
    "PART_TYPES",
    "Phantom",
    "ThickNode",
    "make_phantom",
    "sample_inside",
    "wall_thickness_at",
]
