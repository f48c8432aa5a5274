"""Procedurally varied part families: castings castsight was never taught.

The two phantoms of :mod:`castsight.simulate.phantoms` are one design each
(dimensions jitter a few per cent). A family is a *kind* of casting whose
every member is another design: counts, positions and sizes of ribs, bosses,
cored holes, arms and eyes are drawn from the generator, so every seed gives
a different part. Four families, each one small function built from the
primitives of :mod:`castsight.simulate.solids` and returning a
:class:`~castsight.simulate.phantoms.Phantom` (solids in ordered-CSG order,
thick nodes where shrinkage and large pores form, a view centre and span):

* ``ribbed-plate``: a plate with ribs (one or two directions, with or
  without a rim), bosses with blind drilled holes, through holes;
* ``housing``: an open box with a thick floor, a bearing seat (a tube)
  bored through the floor, corner bosses with tapped holes, cored holes
  through the walls, an optional bolting flange;
* ``bracket``: an L of a base and an upright joined by a root fillet and
  gussets, an eye boss on the upright, holes in both;
* ``knuckle``: a bored hub, two or three arms to eyes (bored along the view
  axis or across it), fillet lumps at the arm roots, a web between two arms.

Dimensions are millimetres, the object z axis points to the detector, and
every part sits on z >= 0 roughly centred on the origin. The foreign-part
benchmark (:mod:`castsight.bench.foreign`) images members of these families
as an X-ray system's 8-bit archive would hold them.

>>> rng = np.random.default_rng(0)
>>> parts = [make_family_part(name, rng) for name in FAMILIES]
>>> [p.name for p in parts]
['ribbed-plate', 'housing', 'bracket', 'knuckle']
>>> all(len(p.thick_nodes) >= 2 for p in parts)
True
>>> a, b = (make_family_part("knuckle", np.random.default_rng(s)) for s in (1, 2))
>>> a.dimensions_mm != b.dimensions_mm
True
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from castsight.simulate.phantoms import Phantom, ThickNode
from castsight.simulate.solids import (
    Solid,
    bounding_box,
    box,
    contains,
    cylinder,
    ellipsoid,
    tube,
)

Design = tuple[list[Solid], list[ThickNode], list[tuple[str, float]]]
"""What a family function builds: ordered solids, thick nodes, named dimensions (one of
them ``wall``, the nominal wall)."""


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _ribbed_plate(rng: np.random.Generator) -> Design:
    """A plate with ribs, a rim or not, bosses with blind holes, through holes."""
    length, width, t = _u(rng, 110, 170), _u(rng, 80, 130), _u(rng, 4.0, 8.0)
    hr, tr = _u(rng, 10, 24), _u(rng, 3.0, 6.0)  # rib height and thickness
    mat: list[Solid] = [box((0, 0, t / 2), (length / 2, width / 2, t / 2), label="plate")]
    nodes: list[ThickNode] = []
    nx, ny = int(rng.integers(1, 4)), int(rng.integers(0, 3))
    xs = [float(x) for x in np.linspace(-length / 2, length / 2, nx + 2)[1:-1]]
    ys = [float(y) for y in np.linspace(-width / 2, width / 2, ny + 2)[1:-1]]
    xs = [x + _u(rng, -8, 8) for x in xs]
    ys = [y + _u(rng, -8, 8) for y in ys]
    for x in xs:
        mat.append(box((x, 0, t + hr / 2), (tr / 2, width / 2, hr / 2), label="rib"))
    for y in ys:
        mat.append(box((0, y, t + hr / 2), (length / 2, tr / 2, hr / 2), label="rib"))
    for x in xs:
        for y in ys:
            mat.append(cylinder((x, y, t + hr / 2), 1.4 * tr, hr / 2, label="rib-node"))
            nodes.append(ThickNode((x, y, t + 2.0), 2.8 * tr, "rib-crossing"))
    if rng.random() < 0.5:  # a rim around the edge
        hw = 0.7 * hr
        for s in (-1.0, 1.0):
            mat.append(box((s * (length - tr) / 2, 0, t + hw / 2), (tr / 2, width / 2, hw / 2),
                           label="rim"))  # fmt: skip
            mat.append(box((0, s * (width - tr) / 2, t + hw / 2), (length / 2, tr / 2, hw / 2),
                           label="rim"))  # fmt: skip
    rem: list[Solid] = []
    for _ in range(int(rng.integers(2, 5))):
        bx, by = _u(rng, -0.4, 0.4) * length, _u(rng, -0.4, 0.4) * width
        rb, hb, rh = _u(rng, 7, 13), _u(rng, 8, 20), _u(rng, 2.5, 5.0)
        mat.append(cylinder((bx, by, t + hb / 2), rb, hb / 2, label="boss"))
        depth = _u(rng, 0.4, 0.8) * hb
        rem.append(cylinder((bx, by, t + hb - depth / 2 + 0.5), rh, depth / 2 + 0.5,
                            removed=True, label="drill"))  # fmt: skip
        nodes.append(ThickNode((bx, by, t + 0.5 * (hb - depth)), min(2 * rb, t + hb - depth),
                               "boss"))  # fmt: skip
    for _ in range(int(rng.integers(1, 5))):
        hx, hy = _u(rng, -0.45, 0.45) * length, _u(rng, -0.45, 0.45) * width
        rem.append(cylinder((hx, hy, t / 2), _u(rng, 3, 8), t, removed=True, label="hole"))
    dims = [("length", length), ("width", width), ("wall", t), ("rib", tr),
            ("rib_height", hr), ("ribs", float(nx + ny))]  # fmt: skip
    return [*mat, *rem], nodes, dims


def _housing(rng: np.random.Generator) -> Design:
    """An open box: thick floor, bearing seat bored through it, corner bosses, cored holes."""
    length, width, height = _u(rng, 100, 150), _u(rng, 70, 110), _u(rng, 35, 60)
    tw, tb = _u(rng, 4.0, 8.0), _u(rng, 6.0, 11.0)  # wall, floor
    outer: list[Solid] = [box((0, 0, height / 2), (length / 2, width / 2, height / 2),
                              label="shell")]  # fmt: skip
    nodes: list[ThickNode] = []
    bolts: list[Solid] = []
    if rng.random() < 0.6:  # a bolting flange around the foot
        fw, tf = _u(rng, 8, 16), _u(rng, 5, 9)
        outer.append(box((0, 0, tf / 2), (length / 2 + fw, width / 2 + fw, tf / 2),
                         label="flange"))  # fmt: skip
        for sx in (-1.0, 1.0):
            for sy in (-1.0, 1.0):
                at = (sx * (length / 2 + fw / 2), sy * (width / 2 + fw / 2), tf / 2)
                bolts.append(cylinder(at, fw / 4, tf, removed=True, label="bolt-hole"))
    cz = tb + (height - tb) / 2 + 1.0
    cavity = box((0, 0, cz), (length / 2 - tw, width / 2 - tw, (height - tb) / 2 + 1.0),
                 removed=True, label="cavity")  # fmt: skip
    back: list[Solid] = []  # metal put back inside the cavity
    bx, by = _u(rng, -0.2, 0.2) * length, _u(rng, -0.2, 0.2) * width
    ro = _u(rng, 15, 24)
    ri = ro - _u(rng, 6, 11)
    hs = _u(rng, 0.4, 0.8) * height
    back.append(tube((bx, by, hs / 2), ro, ri, hs / 2, label="bearing-seat"))
    nodes.append(ThickNode((bx + (ro + ri) / 2, by, tb / 2 + 1.0), ro - ri, "bearing-seat"))
    rc = _u(rng, 5, 9)
    for sx in (-1.0, 1.0):
        for sy in (-1.0, 1.0):
            x, y = sx * (length / 2 - tw - rc * 0.6), sy * (width / 2 - tw - rc * 0.6)
            back.append(cylinder((x, y, height / 2), rc, height / 2, label="corner-boss"))
            nodes.append(ThickNode((x, y, tb + 3.0), 2 * rc, "corner-boss"))
    holes: list[Solid] = [cylinder((bx, by, hs / 2), ri, hs / 2 + 1.0, removed=True,
                                   label="bore")]  # fmt: skip
    for sx in (-1.0, 1.0):
        for sy in (-1.0, 1.0):
            x, y = sx * (length / 2 - tw - rc * 0.6), sy * (width / 2 - tw - rc * 0.6)
            holes.append(cylinder((x, y, height - 7.0), rc * 0.4, 7.5, removed=True, label="tap"))
    for _ in range(int(rng.integers(1, 5))):  # cored holes through the walls
        r = _u(rng, 4, 10)
        z = _u(rng, tb + r + 1.0, max(tb + r + 1.5, height - r - 2.0))
        if rng.random() < 0.5:
            y = _u(rng, -0.3, 0.3) * width
            at = (float(rng.choice([-1.0, 1.0])) * length / 2, y, z)
            holes.append(cylinder(at, r, tw + 2, euler_deg=(0, 90, 0), removed=True,
                                  label="cored-hole"))  # fmt: skip
        else:
            x = _u(rng, -0.3, 0.3) * length
            at = (x, float(rng.choice([-1.0, 1.0])) * width / 2, z)
            holes.append(cylinder(at, r, tw + 2, euler_deg=(90, 0, 0), removed=True,
                                  label="cored-hole"))  # fmt: skip
    nodes.append(ThickNode((0.0, width / 2 - tw / 2, tb / 2 + 1.0), tw + tb, "wall-floor"))
    dims = [("length", length), ("width", width), ("height", height), ("wall", tw),
            ("floor", tb), ("seat_outer", ro), ("seat_inner", ri)]  # fmt: skip
    return [*outer, cavity, *back, *holes, *bolts], nodes, dims


def _bracket(rng: np.random.Generator) -> Design:
    """An L bracket: base and upright, root fillet, gussets, an eye boss, holes."""
    lb, width = _u(rng, 90, 150), _u(rng, 50, 90)
    tb, tu, hu = _u(rng, 7, 14), _u(rng, 7, 14), _u(rng, 40, 80)
    x0 = -lb / 2
    mat: list[Solid] = [box((0, 0, tb / 2), (lb / 2, width / 2, tb / 2), label="base"),
                        box((x0 + tu / 2, 0, hu / 2), (tu / 2, width / 2, hu / 2),
                            label="upright")]  # fmt: skip
    nodes = [ThickNode((x0 + tu / 2, 0.0, tb / 2), max(tb, tu) * 1.3, "root")]
    f = 0.6 * min(tb, tu) * _u(rng, 0.6, 1.0)  # a 45-degree root fillet, inside the L
    mat.append(box((x0 + tu, 0, tb), (f, width / 2, f), euler_deg=(0, 45, 0), label="fillet"))
    ng = int(rng.integers(1, 3))
    tg, e = _u(rng, 5, 9), _u(rng, 6, 10)  # gusset width (y) and depth
    ga, ha = _u(rng, 0.35, 0.6) * lb, _u(rng, 0.4, 0.7) * hu
    phi = math.atan2(ha - tb, ga)  # a diagonal strut from the upright down to the base
    span = math.hypot(ga, ha - tb) + e
    mid = (x0 + tu + ga / 2, tb + (ha - tb) / 2)
    for k in range(ng):
        y = 0.0 if ng == 1 else (k - 0.5) * _u(rng, 0.5, 0.8) * width
        mat.append(box((mid[0] + e / 4, y, mid[1] + e / 4), (span / 2, tg / 2, e / 2),
                       euler_deg=(0, math.degrees(phi), 0), label="gusset"))  # fmt: skip
        nodes.append(ThickNode((x0 + tu + 2.0, y, tb + 2.0), tg * 1.4, "gusset-root"))
    g = ga
    re, he = _u(rng, 10, 16), _u(rng, 0.45, 0.65) * hu  # eye on the upright, bored along x
    ze = hu - re * 0.8
    mat.append(cylinder((x0 + tu / 2, 0, ze), re, tu / 2 + _u(rng, 2, 6), euler_deg=(0, 90, 0),
                        label="eye"))  # fmt: skip
    nodes.append(ThickNode((x0 + tu / 2, 0.0, ze - re * 0.75), re * 0.6, "eye"))
    rem: list[Solid] = [cylinder((x0 + tu / 2, 0, ze), re * _u(rng, 0.35, 0.55), tu + 8,
                                 euler_deg=(0, 90, 0), removed=True, label="eye-bore")]  # fmt: skip
    for _ in range(int(rng.integers(1, 4))):
        hx = _u(rng, x0 + tu + g * 0.8 + 8, lb / 2 - 10) if lb / 2 - 10 > x0 + tu + g * 0.8 + 8 \
            else lb / 2 - 12  # fmt: skip
        rem.append(cylinder((hx, _u(rng, -0.3, 0.3) * width, tb / 2), _u(rng, 3, 7), tb,
                            removed=True, label="hole"))  # fmt: skip
    dims = [("base_length", lb), ("width", width), ("wall", tb), ("upright", tu),
            ("upright_height", hu), ("eye_radius", re), ("eye_height", he)]  # fmt: skip
    return [*mat, *rem], nodes, dims


def _knuckle(rng: np.random.Generator) -> Design:
    """A bored hub with two or three arms to eyes, fillet lumps, a web between two arms."""
    rh, hh = _u(rng, 22, 34), _u(rng, 14, 24)  # hub radius, half height
    rb = rh - _u(rng, 9, 14)
    mat: list[Solid] = [cylinder((0, 0, hh), rh, hh, label="hub")]
    nodes = [ThickNode((rb + (rh - rb) / 2, 0.0, hh), rh - rb, "hub")]
    rem: list[Solid] = [cylinder((0, 0, hh), rb, hh + 1.0, removed=True, label="hub-bore")]
    n_arms = int(rng.integers(2, 4))
    start = _u(rng, 0, 360)
    azimuths = [start + k * 360.0 / n_arms + _u(rng, -25, 25) for k in range(n_arms)]
    ends = []
    for k, az in enumerate(azimuths):
        reach, wa, ta = _u(rng, 55, 90), _u(rng, 14, 22), _u(rng, 12, 20)
        ca, sa = math.cos(math.radians(az)), math.sin(math.radians(az))
        za = _u(rng, ta / 2, 2 * hh - ta / 2)
        mid = (rh * 0.7 + reach) / 2
        mat.append(box((mid * ca, mid * sa, za), ((reach - rh * 0.7) / 2, wa / 2, ta / 2),
                       euler_deg=(0, 0, az), label="arm"))  # fmt: skip
        mat.append(ellipsoid(((rh + 2) * ca, (rh + 2) * sa, za), (10.0, wa * 0.8, ta * 0.7),
                             euler_deg=(0, 0, az), label="arm-root"))  # fmt: skip
        nodes.append(ThickNode(((rh + 3) * ca, (rh + 3) * sa, za), ta, "arm-root"))
        re, ex, ey = _u(rng, 10, 15), reach * ca, reach * sa
        across = k == 0 and rng.random() < 0.5  # one eye bored across the view axis
        tilt = (0.0, 90.0, az) if across else (0.0, 0.0, 0.0)
        mat.append(cylinder((ex, ey, za), re, ta / 2 + _u(rng, 2, 6), euler_deg=tilt, label="eye"))
        rem.append(cylinder((ex, ey, za), re * _u(rng, 0.4, 0.6), ta + 10, euler_deg=tilt,
                            removed=True, label="eye-bore"))  # fmt: skip
        nodes.append(ThickNode((ex - 0.75 * re * ca, ey - 0.75 * re * sa, za), 0.5 * re, "eye"))
        ends.append((ex, ey, za))
    (ax, ay, az0), (bx, by, bz) = ends[0], ends[1]
    web = _u(rng, 4.0, 6.0)  # a web between the first two arms, half way out
    wx, wy = (ax + bx) / 4, (ay + by) / 4
    ang = math.degrees(math.atan2(by - ay, bx - ax))
    half = math.hypot(bx - ax, by - ay) / 4
    mat.append(box((wx, wy, (az0 + bz) / 2), (half, web / 2, _u(rng, 6, 10)),
                   euler_deg=(0, 0, ang), label="web"))  # fmt: skip
    dims = [("hub_radius", rh), ("hub_height", 2 * hh), ("bore_radius", rb),
            ("arms", float(n_arms)), ("wall", web)]  # fmt: skip
    return [*mat, *rem], nodes, dims


FAMILIES: dict[str, Callable[[np.random.Generator], Design]] = {
    "ribbed-plate": _ribbed_plate,
    "housing": _housing,
    "bracket": _bracket,
    "knuckle": _knuckle,
}
"""The part families by name; each draws a new design from the generator."""


def make_family_part(family: str, rng: np.random.Generator) -> Phantom:
    """A new member of ``family``: a design of its own, drawn from ``rng``.

    The view centre is the middle of the part's bounding box and the views spread
    over a third of its extent (the whole part is meant to fit one field of view,
    as in archive series of a part turned in front of the detector).

    >>> p = make_family_part("housing", np.random.default_rng(5))
    >>> p.name, p.view_span_mm[0] > 0
    ('housing', True)
    >>> make_family_part("gearbox", np.random.default_rng(5))
    Traceback (most recent call last):
    ...
    ValueError: unknown part family 'gearbox'; known: bracket, housing, knuckle, ribbed-plate
    """
    try:
        build = FAMILIES[family]
    except KeyError:
        known = ", ".join(sorted(FAMILIES))
        raise ValueError(f"unknown part family {family!r}; known: {known}") from None
    solids, nodes, dims = build(rng)
    inside = contains(solids, [n.point_mm for n in nodes])  # a node drawn into a bore
    nodes = [n for n, ok in zip(nodes, inside, strict=True) if ok]
    lo, hi = bounding_box(solids)
    centre = (lo + hi) / 2
    extent = hi - lo
    wall = dict(dims)["wall"]
    return Phantom(
        name=family,
        solids=tuple(solids),
        thick_nodes=tuple(nodes),
        nominal_wall_mm=float(wall),
        view_center_mm=(float(centre[0]), float(centre[1]), float(centre[2])),
        view_span_mm=(float(extent[0]) / 3, float(extent[1]) / 3),
        dimensions_mm=tuple((k, round(float(v), 3)) for k, v in dims),
    )


def part_extent_mm(phantom: Phantom) -> float:
    """The larger in-plane (x, y) extent of the part's material, mm.

    >>> 80.0 < part_extent_mm(make_family_part("bracket", np.random.default_rng(0))) < 200.0
    True
    """
    lo, hi = bounding_box(phantom.solids)
    return float(max(hi[0] - lo[0], hi[1] - lo[1]))


__all__ = ["FAMILIES", "Design", "make_family_part", "part_extent_mm"]
