"""Where an indication lies in the part, and which views saw it.

A cell presents the part to the tube in a fixed list of poses, so each view's
nominal projection (a 3x4 matrix ``P``: part millimetres to detector
``(col, row)``) is known. A real defect is one point in the part: every view
that sees it sees it where ``P`` projects that point, up to the part's
fixturing error. An indication is a ray from the source through the part;
two indications of the same sign in different views whose rays pass within
``tolerance_mm`` of each other inside the part are one defect, triangulated
to a point in part coordinates. An artefact of one view (an edge the pose
model did not follow, structure moving into the field) has no partner.

:func:`confirm` says, for every indication, which views saw it, where it lies
(when two or more views agree) and which other views would have seen it
(their detector judged every point of its ray inside the part's box and
could have detected its depth there: a pore's or an inclusion's depth is the
same from any angle, its chord through a sphere), so the plan can require
``min_views`` agreeing views where others could have seen it, and keep an
indication no other view could have seen.

>>> from castsight.simulate.geometry import Geometry, Pose, project, projection_matrix
>>> g = Geometry(1000.0, 1100.0, 0.25, 400, 400)
>>> poses = [Pose.identity(), Pose.from_euler(20.0, 0.0, 0.0)]
>>> mats = [projection_matrix(g, p) for p in poses]
>>> point = np.array([[10.0, -5.0, 3.0]])
>>> cands = [Candidate(f"V0{i + 1}", 0, 1, *(float(a[0]) for a in project(point, g, p)), 0.1)
...          for i, p in enumerate(poses)]
>>> box = ((-50.0, -50.0, -20.0), (50.0, 50.0, 20.0))
>>> sees = np.full((50, 50), 0.01, np.float32)  # 8 px blocks: detects 0.01 anywhere
>>> out = confirm(cands, dict(zip(["V01", "V02"], mats)), {"V01": sees, "V02": sees},
...               box, tolerance_mm=2.0)
>>> out[0].views, np.round(out[0].part_mm, 1).tolist()
(('V01', 'V02'), [10.0, -5.0, 3.0])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from castsight.detect.base import DETECTABLE_BLOCK

F64 = NDArray[np.float64]
Box = tuple[tuple[float, float, float], tuple[float, float, float]]
VISIBILITY_MARGIN = 1.5
"""Another view speaks against an indication only where the indication's depth is this
many times what that view would have detected there."""


def project_points(matrix: F64, points: F64) -> tuple[F64, F64]:
    """Rows and columns of part points ``(N, 3)`` under ``matrix``."""
    h = np.hstack([points, np.ones((len(points), 1))]) @ matrix.T
    return h[:, 1] / h[:, 2], h[:, 0] / h[:, 2]


def ray(matrix: F64, row: float, col: float) -> tuple[F64, F64]:
    """The source position and unit direction (part coordinates) through pixel ``(row, col)``."""
    m, p4 = matrix[:, :3], matrix[:, 3]
    inv = np.linalg.inv(m)
    origin = -inv @ p4
    direction = inv @ np.array([col, row, 1.0])
    return origin, direction / np.linalg.norm(direction)


@dataclass(frozen=True)
class Candidate:
    """One indication, as the views see it."""

    view: str
    index: int
    """Its position in its view's indication list."""
    polarity: int
    row: float
    col: float
    depth: float = 0.0
    """Its peak deviation (ln units): what another view must have been able to detect to
    speak against it (0: no view could; a crack's depth depends on the view's angle)."""


@dataclass(frozen=True)
class Confirmation:
    """Which views saw an indication, where it lies, and which views could have seen it."""

    views: tuple[str, ...]
    """Its own view first, then every view with an agreeing indication."""
    part_mm: tuple[float, float, float] | None
    """Triangulated position in part coordinates (mm); None when only one view saw it."""
    covered_by: tuple[str, ...]
    """Other views that would have seen it somewhere on its ray inside the part (their
    detector judged that point, able to detect its depth)."""
    coverage: int = 0
    """The fewest other views that would have seen it at any one point of its ray inside
    the part: 1 when wherever it lies some other view would have seen it."""
    seen_at_point: tuple[str, ...] = ()
    """Other views that would have detected it at :attr:`part_mm` (empty when it has no
    triangulated point): the views that looked where it lies."""


def _closest(o1: F64, d1: F64, o2: F64, d2: F64) -> tuple[float, F64 | None]:
    """Distance between two rays at their closest approach, and the midpoint there."""
    w = o1 - o2
    b, d, e = float(d1 @ d2), float(d1 @ w), float(d2 @ w)
    den = 1.0 - b * b
    if den < 1e-9:
        return float("inf"), None
    s, u = (b * e - d) / den, (e - b * d) / den
    p1, p2 = o1 + s * d1, o2 + u * d2
    return float(np.linalg.norm(p1 - p2)), (p1 + p2) / 2.0


def _in_box(point: F64, box: Box) -> bool:
    lo, hi = np.asarray(box[0]), np.asarray(box[1])
    return bool(np.all(point >= lo) and np.all(point <= hi))


def _segment(origin: F64, direction: F64, box: Box, n: int = 12) -> F64:
    """Points of the ray inside the box (slab method); empty when it misses."""
    lo, hi = np.asarray(box[0]), np.asarray(box[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        t1, t2 = (lo - origin) / direction, (hi - origin) / direction
    near = np.nanmax(np.minimum(t1, t2))
    far = np.nanmin(np.maximum(t1, t2))
    if not near < far:
        return np.zeros((0, 3))
    return origin + np.linspace(near, far, n)[:, None] * direction


def _sees(
    detectable: NDArray[np.float32], block: int, rows: F64, cols: F64, depth: float
) -> NDArray[np.bool_]:
    """Where would a view with this :attr:`~castsight.detect.base.Judged.detectable` map
    have detected ``depth``, pixel by pixel (outside its frame: nowhere)?"""
    r, c = np.floor(rows / block).astype(int), np.floor(cols / block).astype(int)
    inside = (r >= 0) & (c >= 0) & (r < detectable.shape[0]) & (c < detectable.shape[1])
    seen = np.zeros(len(r), bool)
    seen[inside] = detectable[r[inside], c[inside]] * VISIBILITY_MARGIN <= depth
    return seen


def confirm(
    candidates: Sequence[Candidate],
    projections: Mapping[str, F64],
    detectable: Mapping[str, NDArray[np.float32]],
    box: Box,
    *,
    tolerance_mm: float,
    block: int = DETECTABLE_BLOCK,
    agree: Callable[[int, int], bool] | None = None,
) -> list[Confirmation]:
    """Match ``candidates`` across views (see the module docstring), in their order.

    ``projections`` hold the views that were inspected and have a geometry;
    ``detectable`` their detectors' detectability maps (blocks of ``block`` px):
    a view without one never speaks against another's indication. A candidate of
    a view without a geometry is returned as seen by its view only, covered by none.
    ``agree(i, j)``, when given, must also hold for candidates ``i`` and ``j`` to
    confirm each other.
    """
    rays = {
        i: ray(projections[c.view], c.row, c.col)
        for i, c in enumerate(candidates)
        if c.view in projections
    }
    out: list[Confirmation] = []
    for i, c in enumerate(candidates):
        if i not in rays:
            out.append(Confirmation((c.view,), None, ()))
            continue
        o, d = rays[i]
        partners: dict[str, F64] = {}
        for j, other in enumerate(candidates):
            if j not in rays or other.view == c.view or other.polarity != c.polarity:
                continue
            if agree is not None and not agree(i, j):
                continue
            dist, mid = _closest(o, d, *rays[j])
            if mid is not None and dist <= tolerance_mm and _in_box(mid, box):
                best = partners.get(other.view)
                if best is None or dist < float(np.linalg.norm(best - mid)):
                    partners[other.view] = mid
        seg = _segment(o, d, box)
        covered, count = [], np.zeros(len(seg), int)
        for view, matrix in projections.items():
            if view == c.view or not len(seg) or view not in detectable or c.depth <= 0.0:
                continue
            rows, cols = project_points(matrix, seg)
            seen = _sees(detectable[view], block, rows, cols, c.depth)
            count += seen
            if seen.any():
                covered.append(view)
        where, at_point = None, []
        if partners:
            p = np.mean(list(partners.values()), axis=0)
            where = (round(float(p[0]), 2), round(float(p[1]), 2), round(float(p[2]), 2))
            at_point = [v for v in covered
                        if _sees(detectable[v], block, *project_points(projections[v], p[None]),
                                 c.depth)[0]]  # fmt: skip
        coverage = int(count.min()) if len(count) else 0
        out.append(Confirmation((c.view, *sorted(partners)), where, tuple(covered), coverage,
                                tuple(at_point)))  # fmt: skip
    return out
