"""Analytic solids, ordered CSG, and exact path lengths along cone-beam rays.

A part is an ordered tuple of :class:`Solid` primitives (box, finite cylinder,
ellipsoid), each with a rigid local -> object placement and a flag ``removed``.
At any point, the *last* solid of the tuple that contains the point decides:
metal if it is a material solid, void if it is a removed one, void if none
contains it. With all removed solids after all material solids this is exactly
``union(material) - union(removed)`` (:func:`csg` builds that order); listing a
material solid after a removed one puts metal back (a wheel hub inside the
rim's bore).

The path length along a ray is the 1-D measure of the metal on it, computed
exactly: each convex primitive gives one entry/exit interval, the interval
endpoints are sorted, and each elementary segment is classified by the rule
above, so overlapping solids (ribs meeting walls) are never counted twice.
Inclusions of a second material are just another list of solids: call
:func:`path_length_image` with it. Pores can be appended to a part as removed
solids and rendered only in their bounding box (``window``).

>>> from castsight.simulate.geometry import Geometry, Pose
>>> g = Geometry(1000.0, 1100.0, 10.0, 3, 3)
>>> plate = box((0, 0, 0), (50, 50, 2))                      # 4 mm thick plate
>>> hole = cylinder((0, 0, 0), 5.0, 10.0, removed=True)
>>> img = path_length_image([plate, hole], g, Pose.identity())
>>> float(img[1, 1]), round(float(img[0, 0]), 3)
(0.0, 4.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from castsight.simulate.geometry import F64, Geometry, Pose, project, rotation_from_euler

Kind = Literal["box", "cylinder", "ellipsoid", "tube"]
_KIND_CODE: dict[str, int] = {"box": 0, "cylinder": 1, "ellipsoid": 2, "tube": 3}
Vec3 = tuple[float, float, float]


@dataclass(frozen=True)
class Solid:
    """One convex primitive in its local frame, placed by ``x_obj = R @ x_loc + center``.

    ``size_mm``: box half-extents; cylinder ``(radius, radius, half_height)``,
    axis along local z; ellipsoid semi-axes; tube (hollow cylinder, the one
    non-convex primitive: up to two intervals per ray) ``(outer radius, inner
    radius, half_height)``. ``rotation`` is row-major 3 x 3.
    """

    kind: Kind
    size_mm: Vec3
    center_mm: Vec3
    rotation: tuple[Vec3, Vec3, Vec3] = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
    removed: bool = False
    label: str = ""

    def __post_init__(self) -> None:
        if self.kind not in _KIND_CODE:
            raise ValueError(f"unknown solid kind {self.kind!r}")
        if min(self.size_mm) <= 0.0:
            raise ValueError(f"solid sizes must be > 0, got {self.size_mm}")
        if self.kind == "tube" and self.size_mm[1] >= self.size_mm[0]:
            raise ValueError(f"tube inner radius must be < outer, got {self.size_mm}")


def _vec3(v: ArrayLike) -> Vec3:
    a = np.asarray(v, dtype=np.float64).reshape(3)
    return (float(a[0]), float(a[1]), float(a[2]))


def _rot(euler_deg: ArrayLike) -> tuple[Vec3, Vec3, Vec3]:
    r = rotation_from_euler(*_vec3(euler_deg))
    return (_vec3(r[0]), _vec3(r[1]), _vec3(r[2]))


def box(
    center: ArrayLike,
    half_extents: ArrayLike,
    *,
    euler_deg: ArrayLike = (0, 0, 0),
    removed: bool = False,
    label: str = "",
) -> Solid:
    """Box with the given half-extents, rotated by Euler angles (x, y, z) about its centre."""
    return Solid("box", _vec3(half_extents), _vec3(center), _rot(euler_deg), removed, label)


def cylinder(
    center: ArrayLike,
    radius: float,
    half_height: float,
    *,
    euler_deg: ArrayLike = (0, 0, 0),
    removed: bool = False,
    label: str = "",
) -> Solid:
    """Finite circular cylinder, axis along local z (tilt it with ``euler_deg``)."""
    size = (float(radius), float(radius), float(half_height))
    return Solid("cylinder", size, _vec3(center), _rot(euler_deg), removed, label)


def ellipsoid(
    center: ArrayLike,
    semi_axes: ArrayLike,
    *,
    euler_deg: ArrayLike = (0, 0, 0),
    removed: bool = False,
    label: str = "",
) -> Solid:
    """Ellipsoid with semi-axes along the local x, y, z axes."""
    return Solid("ellipsoid", _vec3(semi_axes), _vec3(center), _rot(euler_deg), removed, label)


def tube(
    center: ArrayLike,
    r_outer: float,
    r_inner: float,
    half_height: float,
    *,
    euler_deg: ArrayLike = (0, 0, 0),
    removed: bool = False,
    label: str = "",
) -> Solid:
    """Hollow cylinder (axis along local z): the same set as cylinder minus its bore,
    but the bore removes nothing else, and rays through the bore cost nothing."""
    size = (float(r_outer), float(r_inner), float(half_height))
    return Solid("tube", size, _vec3(center), _rot(euler_deg), removed, label)


def csg(material: Sequence[Solid], removed: Sequence[Solid]) -> tuple[Solid, ...]:
    """``union(material) - union(removed)`` as an ordered solid tuple."""
    if any(s.removed for s in material) or not all(s.removed for s in removed):
        raise ValueError("material solids must have removed=False, removed ones removed=True")
    return (*material, *removed)


@dataclass(frozen=True, eq=False)
class PackedSolids:
    """Solids as flat arrays for the numba kernels (build with :func:`pack`)."""

    kind: NDArray[np.int64]
    sign: F64  # +1 material, -1 removed
    size: F64  # (n, 3)
    rotation: F64  # (n, 3, 3) local -> object
    center: F64  # (n, 3)

    def __len__(self) -> int:
        return int(self.kind.shape[0])


def pack(solids: Sequence[Solid] | PackedSolids) -> PackedSolids:
    """Pack solids into arrays (a :class:`PackedSolids` passes through)."""
    if isinstance(solids, PackedSolids):
        return solids
    n = len(solids)
    return PackedSolids(
        kind=np.array([_KIND_CODE[s.kind] for s in solids], dtype=np.int64),
        sign=np.array([-1.0 if s.removed else 1.0 for s in solids], dtype=np.float64),
        size=np.array([s.size_mm for s in solids], dtype=np.float64).reshape(n, 3),
        rotation=np.array([s.rotation for s in solids], dtype=np.float64).reshape(n, 3, 3),
        center=np.array([s.center_mm for s in solids], dtype=np.float64).reshape(n, 3),
    )


def bounding_box(solids: Sequence[Solid] | PackedSolids, *, material_only: bool = True) -> F64:
    """Object-frame axis-aligned bounds ``[[xmin, ymin, zmin], [xmax, ymax, zmax]]``."""
    p = pack(solids)
    keep = p.sign > 0 if material_only else np.ones(len(p), dtype=bool)
    corners = _corners_obj(p)[keep].reshape(-1, 3)
    return np.stack([corners.min(axis=0), corners.max(axis=0)])


def _corners_obj(p: PackedSolids) -> F64:
    """(n, 8, 3) corners of each solid's local bounding box, in the object frame."""
    signs = np.array(np.meshgrid([-1, 1], [-1, 1], [-1, 1], indexing="ij")).reshape(3, 8).T
    ext = p.size.copy()
    round_ = (p.kind == 1) | (p.kind == 3)
    ext[round_, 1] = ext[round_, 0]
    local = signs[None, :, :] * ext[:, None, :]
    out: F64 = np.einsum("nij,nkj->nki", p.rotation, local) + p.center[:, None, :]
    return out


# ----------------------------------------------------------------- numba kernels


@nb.njit(cache=True)
def _slab(o: float, d: float, h: float, t0: float, t1: float) -> tuple[float, float]:
    """Clip (t0, t1) to the slab |o + t d| <= h."""
    if abs(d) < 1e-15:
        return (t0, t1) if abs(o) <= h else (1.0, 0.0)
    a = (-h - o) / d
    b = (h - o) / d
    if a > b:
        a, b = b, a
    return max(t0, a), min(t1, b)


@nb.njit(cache=True)
def _interval(
    kind: int, sx: float, sy: float, sz: float,
    ox: float, oy: float, oz: float, dx: float, dy: float, dz: float,
) -> tuple[float, float]:  # fmt: skip
    """Entry/exit of the line o + t d with a convex local primitive (t0 >= t1: miss).

    A tube (kind 3) gets its outer cylinder here; :func:`_hits` removes the bore.
    """
    if kind == 0:
        t0, t1 = _slab(ox, dx, sx, -np.inf, np.inf)
        t0, t1 = _slab(oy, dy, sy, t0, t1)
        return _slab(oz, dz, sz, t0, t1)
    if kind == 1 or kind == 3:
        a = dx * dx + dy * dy
        t0, t1 = -np.inf, np.inf
        if a < 1e-30:
            if ox * ox + oy * oy > sx * sx:
                return 1.0, 0.0
        else:
            tc = -(ox * dx + oy * dy) / a  # closest approach to the axis
            px, py = ox + tc * dx, oy + tc * dy
            q = sx * sx - (px * px + py * py)
            if q <= 0.0:
                return 1.0, 0.0
            hw = np.sqrt(q / a)
            t0, t1 = tc - hw, tc + hw
        return _slab(oz, dz, sz, t0, t1)
    ux, uy, uz = ox / sx, oy / sy, oz / sz
    vx, vy, vz = dx / sx, dy / sy, dz / sz
    a = vx * vx + vy * vy + vz * vz
    tc = -(ux * vx + uy * vy + uz * vz) / a
    px, py, pz = ux + tc * vx, uy + tc * vy, uz + tc * vz
    q = 1.0 - (px * px + py * py + pz * pz)
    if q <= 0.0:
        return 1.0, 0.0
    hw = np.sqrt(q / a)
    return tc - hw, tc + hw


@nb.njit(cache=True, inline="always")
def _hits(
    cand: NDArray[np.int64], kind: NDArray[np.int64], size: F64, m: F64, o: F64,
    dx: float, dy: float, dz: float, tmin: float, tmax: float,
    t0s: F64, t1s: F64, hid: NDArray[np.int64],
) -> int:  # fmt: skip
    """Clipped intervals of the ray with the candidate solids, in candidate order."""
    nh = 0
    for j in range(cand.shape[0]):
        k = cand[j]
        lx = m[k, 0, 0] * dx + m[k, 0, 1] * dy + m[k, 0, 2] * dz
        ly = m[k, 1, 0] * dx + m[k, 1, 1] * dy + m[k, 1, 2] * dz
        lz = m[k, 2, 0] * dx + m[k, 2, 1] * dy + m[k, 2, 2] * dz
        a, b = _interval(kind[k], size[k, 0], size[k, 1], size[k, 2],
                         o[k, 0], o[k, 1], o[k, 2], lx, ly, lz)  # fmt: skip
        a = max(a, tmin)
        b = min(b, tmax)
        if b <= a:
            continue
        if kind[k] == 3:  # tube: remove the bore's interval
            c, d = _interval(1, size[k, 1], size[k, 1], size[k, 2],
                             o[k, 0], o[k, 1], o[k, 2], lx, ly, lz)  # fmt: skip
            c = max(c, a)
            d = min(d, b)
            if d > c:
                if c > a:
                    t0s[nh] = a
                    t1s[nh] = c
                    hid[nh] = k
                    nh += 1
                a = d
        if b > a:
            t0s[nh] = a
            t1s[nh] = b
            hid[nh] = k
            nh += 1
    return nh


@nb.njit(cache=True, inline="always")
def _segments(t0s: F64, t1s: F64, nh: int, ends: F64) -> int:
    """Sorted interval endpoints into ``ends``; returns their count."""
    ne = 0
    for i in range(nh):
        for v in (t0s[i], t1s[i]):
            j = ne
            while j > 0 and ends[j - 1] > v:
                ends[j] = ends[j - 1]
                j -= 1
            ends[j] = v
            ne += 1
    return ne


@nb.njit(cache=True)
def _metal_at(t: float, t0s: F64, t1s: F64, hid: NDArray[np.int64], nh: int, sign: F64) -> bool:
    for i in range(nh - 1, -1, -1):
        if t0s[i] <= t < t1s[i]:
            return bool(sign[hid[i]] > 0.0)
    return False


@nb.njit(cache=True, inline="always")
def _measure(t0s: F64, t1s: F64, hid: NDArray[np.int64], nh: int, sign: F64, ends: F64) -> float:
    if nh == 0:
        return 0.0
    if nh == 1:
        return t1s[0] - t0s[0] if sign[hid[0]] > 0.0 else 0.0
    ne = _segments(t0s, t1s, nh, ends)
    total = 0.0
    for i in range(ne - 1):
        a, b = ends[i], ends[i + 1]
        if b > a and _metal_at(0.5 * (a + b), t0s, t1s, hid, nh, sign):
            total += b - a
    return total


@nb.njit(cache=True, parallel=True, error_model="numpy")
def _render(
    kind: NDArray[np.int64], sign: F64, size: F64, m: F64, o: F64,
    tile_r: NDArray[np.int64], tile_c: NDArray[np.int64], tsize: int,
    ptr: NDArray[np.int64], idx: NDArray[np.int64],
    ys: F64, xs: F64, sdd: float, out: NDArray[np.float32],
) -> None:  # fmt: skip
    nr, nc = out.shape
    for ti in nb.prange(tile_r.shape[0]):
        cand = idx[ptr[ti] : ptr[ti + 1]]
        n = cand.shape[0]
        if n == 0:
            continue
        t0s = np.empty(2 * n)
        t1s = np.empty(2 * n)
        hid = np.empty(2 * n, dtype=np.int64)
        ends = np.empty(4 * n)
        for r in range(tile_r[ti], min(tile_r[ti] + tsize, nr)):
            y = ys[r]
            for c in range(tile_c[ti], min(tile_c[ti] + tsize, nc)):
                x = xs[c]
                norm = np.sqrt(x * x + y * y + sdd * sdd)
                nh = _hits(cand, kind, size, m, o, x / norm, y / norm, sdd / norm,
                           0.0, norm, t0s, t1s, hid)  # fmt: skip
                out[r, c] = _measure(t0s, t1s, hid, nh, sign, ends)


@nb.njit(cache=True, error_model="numpy")
def _chords(
    kind: NDArray[np.int64], sign: F64, size: F64, rot: F64, center: F64,
    points: F64, dirs: F64, out: F64,
) -> None:  # fmt: skip
    """out[i, j] = (t_lo, t_hi): the metal interval through points[i] along dirs[j]."""
    n = kind.shape[0]
    cand = np.arange(n)
    mt = np.ascontiguousarray(rot.transpose(0, 2, 1))
    for i in range(points.shape[0]):
        t0s = np.empty(2 * n)
        t1s = np.empty(2 * n)
        hid = np.empty(2 * n, dtype=np.int64)
        ends = np.empty(4 * n)
        o = np.empty((n, 3))
        for k in range(n):  # point in each local frame: R^T (p - c)
            for a in range(3):
                o[k, a] = 0.0
                for b in range(3):
                    o[k, a] += rot[k, b, a] * (points[i, b] - center[k, b])
        for j in range(dirs.shape[0]):
            nh = _hits(cand, kind, size, mt, o, dirs[j, 0], dirs[j, 1], dirs[j, 2],
                       -np.inf, np.inf, t0s, t1s, hid)  # fmt: skip
            out[i, j, 0] = 0.0
            out[i, j, 1] = 0.0
            if nh == 0 or not _metal_at(0.0, t0s, t1s, hid, nh, sign):
                continue
            ne = _segments(t0s, t1s, nh, ends)
            lo, hi = 0.0, 0.0
            for e in range(ne):  # first endpoint above 0 where the metal stops
                v = ends[e]
                if v > 0.0:
                    hi = v
                    if e + 1 < ne:
                        nxt = ends[e + 1]
                        if nxt <= v or _metal_at(0.5 * (v + nxt), t0s, t1s, hid, nh, sign):
                            continue
                    break
            for e in range(ne - 1, -1, -1):  # last endpoint at or below 0 where it starts
                v = ends[e]
                if v <= 0.0:
                    lo = v
                    if e > 0:
                        prv = ends[e - 1]
                        if prv >= v or _metal_at(0.5 * (v + prv), t0s, t1s, hid, nh, sign):
                            continue
                    break
            out[i, j, 0] = lo
            out[i, j, 1] = hi


# ----------------------------------------------------------------- public API


@nb.njit(cache=True, inline="always")
def _inside_bore(
    k: int, size: F64, m: F64, o: F64, ys: tuple[float, float], xs: tuple[float, float], sdd: float
) -> bool:
    """Whether every ray of a tile (spanned by its 4 corner rays) crosses the slab of
    tube k inside its bore: the pyramid-slab hull has these 8 vertices."""
    h, ri = size[k, 2], size[k, 1]
    if abs(o[k, 2]) <= h:
        return False
    for y in ys:
        for x in xs:
            lx = m[k, 0, 0] * x + m[k, 0, 1] * y + m[k, 0, 2] * sdd
            ly = m[k, 1, 0] * x + m[k, 1, 1] * y + m[k, 1, 2] * sdd
            lz = m[k, 2, 0] * x + m[k, 2, 1] * y + m[k, 2, 2] * sdd
            if abs(lz) < 1e-12:
                return False
            for zp in (-h, h):
                t = (zp - o[k, 2]) / lz
                px, py = o[k, 0] + t * lx, o[k, 1] + t * ly
                if t <= 0.0 or px * px + py * py >= ri * ri * (1.0 - 1e-9):
                    return False
    return True


@nb.njit(cache=True, error_model="numpy")
def _cull(
    pr: F64, pc: F64, behind: NDArray[np.bool_], kind: NDArray[np.int64], size: F64, m: F64,
    o: F64, tr: NDArray[np.int64], tc: NDArray[np.int64], ts: int, r1: int, c1: int,
    pitch: float, rows: int, cols: int, sdd: float, mask: NDArray[np.bool_],
) -> None:  # fmt: skip
    """mask[tile, k]: whether solid k's projection (hull of its 8 projected box corners,
    separating-axis test against the tile's pixel-centre rectangle) meets the tile."""
    ntc = tc.shape[0]
    for k in range(pr.shape[0]):
        if behind[k]:
            mask[:, k] = True
            continue
        rlo, rhi, clo, chi = pr[k].min(), pr[k].max(), pc[k].min(), pc[k].max()
        ax = np.empty((28, 2))
        lo = np.empty(28)
        hi = np.empty(28)
        na = 0
        for i in range(8):
            for j in range(i + 1, 8):
                nr, nc = pc[k, i] - pc[k, j], pr[k, j] - pr[k, i]
                ln = np.sqrt(nr * nr + nc * nc)
                if ln < 1e-9:
                    continue
                ax[na, 0], ax[na, 1] = nr / ln, nc / ln
                v = pr[k] * ax[na, 0] + pc[k] * ax[na, 1]
                lo[na], hi[na] = v.min(), v.max()
                na += 1
        for a in range(tr.shape[0]):
            ra, rb = tr[a] - 1.0, min(tr[a] + ts, r1)
            if rb < rlo or ra > rhi:
                continue
            for b in range(ntc):
                ca, cb = tc[b] - 1.0, min(tc[b] + ts, c1)
                if cb < clo or ca > chi:
                    continue
                hit = True
                for q in range(na):
                    u0, u1 = ra * ax[q, 0], rb * ax[q, 0]
                    w0, w1 = ca * ax[q, 1], cb * ax[q, 1]
                    if max(u0, u1) + max(w0, w1) < lo[q] or min(u0, u1) + min(w0, w1) > hi[q]:
                        hit = False
                        break
                if hit and kind[k] == 3:
                    yy = ((tr[a] - (rows - 1) / 2.0) * pitch, (rb - 1 - (rows - 1) / 2.0) * pitch)
                    xx = ((tc[b] - (cols - 1) / 2.0) * pitch, (cb - 1 - (cols - 1) / 2.0) * pitch)
                    hit = not _inside_bore(k, size, m, o, yy, xx, sdd)
                mask[a * ntc + b, k] = hit


def _tiles(
    p: PackedSolids, m: F64, o: F64, geometry: Geometry, pose: Pose,
    window: tuple[int, int, int, int], ts: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:  # fmt: skip
    """Tile origins (in the window) and, per tile, the solids that can meet its rays (CSR)."""
    r0, r1, c0, c1 = window
    tr = np.arange(r0, r1, ts, dtype=np.int64)
    tc = np.arange(c0, c1, ts, dtype=np.int64)
    rows, cols = project(_corners_obj(p).reshape(-1, 3), geometry, pose)
    rows, cols = rows.reshape(-1, 8), cols.reshape(-1, 8)
    behind = np.asarray(np.isnan(rows).any(axis=1), dtype=np.bool_)
    rows[behind], cols[behind] = 0.0, 0.0
    mask = np.zeros((tr.size * tc.size, len(p)), dtype=np.bool_)
    _cull(rows, cols, behind, p.kind, p.size, m, o, tr, tc, ts, r1, c1, geometry.pixel_pitch_mm,
          geometry.rows, geometry.cols, geometry.sdd_mm, mask)  # fmt: skip
    ptr = np.zeros(mask.shape[0] + 1, dtype=np.int64)
    np.cumsum(mask.sum(axis=1), out=ptr[1:])
    idx = np.nonzero(mask)[1].astype(np.int64)
    return np.repeat(tr - r0, tc.size), np.tile(tc - c0, tr.size), ptr, idx


def path_length_image(
    solids: Sequence[Solid] | PackedSolids,
    geometry: Geometry,
    pose: Pose,
    window: tuple[int, int, int, int] | None = None,
    *,
    tile: int = 32,
) -> NDArray[np.float32]:
    """Exact metal path length (mm) along the ray from the source to each pixel centre.

    ``window=(r0, r1, c0, c1)`` renders only detector rows r0..r1-1 and columns
    c0..c1-1 (the result has that shape). Solids are culled per ``tile`` x
    ``tile`` block (projected hull of their bounding box; tubes also when all
    the block's rays pass through the bore); blocks run in parallel.

    >>> from castsight.simulate.geometry import Geometry, Pose
    >>> g = Geometry(1000.0, 1100.0, 1.0, 1, 1)
    >>> ball = ellipsoid((0, 0, 0), (3, 3, 3))
    >>> round(float(path_length_image([ball], g, Pose.identity())[0, 0]), 6)
    6.0
    """
    win = (0, geometry.rows, 0, geometry.cols) if window is None else window
    r0, r1, c0, c1 = (int(v) for v in win)
    if not (0 <= r0 <= r1 <= geometry.rows and 0 <= c0 <= c1 <= geometry.cols):
        raise ValueError(f"window {win} outside the {geometry.rows} x {geometry.cols} detector")
    out = np.zeros((r1 - r0, c1 - c0), dtype=np.float32)
    p = pack(solids)
    if len(p) == 0 or out.size == 0:
        return out
    # World -> local rotation per solid, and the source in each local frame.
    m = np.ascontiguousarray(np.einsum("ij,njk->nik", pose.rotation, p.rotation).transpose(0, 2, 1))
    src = np.array([0.0, 0.0, -geometry.sod_mm])
    c_world = pose.apply(p.center)
    o = np.ascontiguousarray(np.einsum("nij,nj->ni", m, src[None, :] - c_world))
    tile_r, tile_c, ptr, idx = _tiles(p, m, o, geometry, pose, (r0, r1, c0, c1), tile)
    ys, xs = geometry.pixel_centres_mm()
    _render(p.kind, p.sign, p.size, m, o, tile_r, tile_c, tile, ptr, idx,
            np.ascontiguousarray(ys[r0:r1]), np.ascontiguousarray(xs[c0:c1]),
            geometry.sdd_mm, out)  # fmt: skip
    return out


def contains(solids: Sequence[Solid] | PackedSolids, points: ArrayLike) -> NDArray[np.bool_]:
    """Whether each object point (N, 3) lies in metal (ordered-CSG rule).

    >>> contains([box((0, 0, 0), (1, 1, 1)), box((0, 0, 0), (.5, .5, 2), removed=True)],
    ...          [[0.9, 0, 0], [0, 0, 0], [3, 0, 0]]).tolist()
    [True, False, False]
    """
    p = pack(solids)
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    decided = np.zeros(len(pts), dtype=bool)
    metal = np.zeros(len(pts), dtype=bool)
    for k in range(len(p) - 1, -1, -1):
        loc = (pts - p.center[k]) @ p.rotation[k]
        s = p.size[k]
        if p.kind[k] == 0:
            inside = np.all(np.abs(loc) <= s, axis=1)
        elif p.kind[k] in (1, 3):
            r2 = loc[:, 0] ** 2 + loc[:, 1] ** 2
            inside = (r2 <= s[0] ** 2) & (np.abs(loc[:, 2]) <= s[2])
            if p.kind[k] == 3:
                inside &= r2 >= s[1] ** 2
        else:
            inside = np.sum((loc / s) ** 2, axis=1) <= 1.0
        new = inside & ~decided
        metal[new] = p.sign[k] > 0
        decided |= inside
    return metal


def metal_chords(
    solids: Sequence[Solid] | PackedSolids, points: ArrayLike, directions: ArrayLike
) -> F64:
    """For each point and unit direction, the metal interval ``(t_lo, t_hi)`` around it.

    ``t_lo <= 0 <= t_hi`` are the signed distances (mm) along the line to where
    the metal around the point ends; ``(0, 0)`` if the point is not in metal.
    Shape (N, D, 2). Exact (interval arithmetic along the line).

    >>> metal_chords([box((0, 0, 0), (5, 5, 2))], [[0, 0, 0.5]], [[0, 0, 1]]).tolist()
    [[[-2.5, 1.5]]]
    """
    p = pack(solids)
    pts = np.ascontiguousarray(np.asarray(points, dtype=np.float64).reshape(-1, 3))
    d = np.asarray(directions, dtype=np.float64).reshape(-1, 3)
    d = np.ascontiguousarray(d / np.linalg.norm(d, axis=1, keepdims=True))
    out = np.zeros((len(pts), len(d), 2))
    if len(p) and len(pts):
        _chords(p.kind, p.sign, p.size, p.rotation, p.center, pts, d, out)
    return out


__all__ = [
    "PackedSolids",
    "Solid",
    "bounding_box",
    "box",
    "contains",
    "csg",
    "cylinder",
    "ellipsoid",
    "metal_chords",
    "pack",
    "path_length_image",
    "tube",
]
