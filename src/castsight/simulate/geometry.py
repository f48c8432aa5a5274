"""Cone-beam geometry of a fixed X-ray cell and the poses a robot presents a part in.

World frame (millimetres): the rotation centre (object reference point) is the
origin, the point source sits at ``(0, 0, -sod)``, the flat detector lies in the
plane ``z = sdd - sod`` facing the source, centred on the z axis. Detector pixel
``(row r, col c)`` has its centre at ``x = (c - (cols - 1) / 2) * pitch``,
``y = (r - (rows - 1) / 2) * pitch``. A :class:`Pose` places the part:
``x_world = R @ x_obj + t``.

Default geometry (:data:`DEFAULT_GEOMETRY`): 1536 x 1536 px at 0.139 mm
(213.5 mm square panel), SOD 1000 mm, SDD 1100 mm, so M = 1.1, 0.126 mm per
pixel at the rotation centre and a 194 mm square field of view there: a view of
a large casting sees a section of it, as in a real cell. The cone half-angle is
under 8 degrees at the panel corners; with a 0.4 mm focal spot the geometric
unsharpness is Ug = 0.4 * (M - 1) = 0.04 mm, well under a pixel.

>>> g = Geometry(sod_mm=1000.0, sdd_mm=1100.0, pixel_pitch_mm=0.139, rows=5, cols=5)
>>> round(g.magnification, 3)
1.1
>>> rows, cols = project(np.zeros((1, 3)), g, Pose.identity())
>>> float(rows[0]), float(cols[0])
(2.0, 2.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class Geometry:
    """Source, object and flat detector distances (mm) and the detector grid."""

    sod_mm: float
    sdd_mm: float
    pixel_pitch_mm: float
    rows: int
    cols: int

    def __post_init__(self) -> None:
        if not 0.0 < self.sod_mm < self.sdd_mm:
            raise ValueError(f"need 0 < sod_mm < sdd_mm, got {self.sod_mm}, {self.sdd_mm}")
        if self.pixel_pitch_mm <= 0.0 or self.rows < 1 or self.cols < 1:
            raise ValueError("pixel pitch must be > 0 and the detector at least 1 x 1")

    @property
    def magnification(self) -> float:
        """Magnification of the rotation centre, SDD / SOD."""
        return self.sdd_mm / self.sod_mm

    @property
    def pixel_size_at_object_mm(self) -> float:
        """Pixel pitch projected back to the rotation-centre plane."""
        return self.pixel_pitch_mm / self.magnification

    @property
    def field_of_view_mm(self) -> tuple[float, float]:
        """(height, width) of the detector seen at the rotation-centre plane."""
        s = self.pixel_size_at_object_mm
        return (self.rows * s, self.cols * s)

    def pixel_centres_mm(self) -> tuple[F64, F64]:
        """Detector-plane (y of each row, x of each col) pixel centre coordinates."""
        y = (np.arange(self.rows, dtype=np.float64) - (self.rows - 1) / 2.0) * self.pixel_pitch_mm
        x = (np.arange(self.cols, dtype=np.float64) - (self.cols - 1) / 2.0) * self.pixel_pitch_mm
        return y, x


DEFAULT_GEOMETRY = Geometry(
    sod_mm=1000.0, sdd_mm=1100.0, pixel_pitch_mm=0.139, rows=1536, cols=1536
)
"""1536 x 1536 px, 0.139 mm pitch, M = 1.1 (see the module docstring)."""


def rotation_from_euler(rx_deg: float, ry_deg: float, rz_deg: float) -> F64:
    """Rotation matrix ``Rz @ Ry @ Rx`` (rotate about x, then y, then z; fixed axes).

    >>> np.round(rotation_from_euler(0, 0, 90) @ [1.0, 0.0, 0.0], 12).tolist()
    [0.0, 1.0, 0.0]
    """
    ax, ay, az = (math.radians(a) for a in (rx_deg, ry_deg, rz_deg))
    cx, sx, cy, sy, cz, sz = (math.cos(ax), math.sin(ax), math.cos(ay), math.sin(ay),
                              math.cos(az), math.sin(az))  # fmt: skip
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cx, -sx], [0.0, sx, cx]])
    ry = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
    rz = np.array([[cz, -sz, 0.0], [sz, cz, 0.0], [0.0, 0.0, 1.0]])
    out: F64 = rz @ ry @ rx
    return out


def rotation_about_axis(axis: ArrayLike, angle_deg: float) -> F64:
    """Rodrigues rotation about a (normalised here) axis by ``angle_deg``."""
    k = np.asarray(axis, dtype=np.float64)
    k = k / np.linalg.norm(k)
    a = math.radians(angle_deg)
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    out: F64 = np.eye(3) + math.sin(a) * kx + (1.0 - math.cos(a)) * (kx @ kx)
    return out


@dataclass(frozen=True, eq=False)
class Pose:
    """Rigid placement of the part: ``x_world = rotation @ x_obj + translation_mm``."""

    rotation: F64
    translation_mm: F64

    def __post_init__(self) -> None:
        r = np.array(self.rotation, dtype=np.float64).reshape(3, 3)
        t = np.array(self.translation_mm, dtype=np.float64).reshape(3)
        if not np.allclose(r @ r.T, np.eye(3), atol=1e-9) or np.linalg.det(r) < 0.0:
            raise ValueError("rotation must be a proper 3 x 3 rotation matrix")
        r.flags.writeable = False
        t.flags.writeable = False
        object.__setattr__(self, "rotation", r)
        object.__setattr__(self, "translation_mm", t)

    @staticmethod
    def identity() -> Pose:
        """The part frame coincides with the world frame."""
        return Pose(np.eye(3), np.zeros(3))

    @staticmethod
    def from_euler(
        rx_deg: float = 0.0,
        ry_deg: float = 0.0,
        rz_deg: float = 0.0,
        translation_mm: ArrayLike = (0.0, 0.0, 0.0),
    ) -> Pose:
        """Pose from :func:`rotation_from_euler` angles and a translation.

        >>> p = Pose.from_euler(0, 0, 90, (0, 0, 5))
        >>> np.round(p.apply([[1.0, 0.0, 0.0]]), 9).tolist()
        [[0.0, 1.0, 5.0]]
        """
        return Pose(rotation_from_euler(rx_deg, ry_deg, rz_deg), np.asarray(translation_mm))

    @staticmethod
    def look_at(point_obj: ArrayLike, rotation: ArrayLike | None = None) -> Pose:
        """Pose that rotates the part by ``rotation`` and puts ``point_obj`` at the origin."""
        r = np.eye(3) if rotation is None else np.asarray(rotation, dtype=np.float64)
        return Pose(r, -(r @ np.asarray(point_obj, dtype=np.float64)))

    def apply(self, points_obj: ArrayLike) -> F64:
        """Object points (N, 3) to world points (N, 3)."""
        p = np.asarray(points_obj, dtype=np.float64).reshape(-1, 3)
        out: F64 = p @ self.rotation.T + self.translation_mm
        return out


def project(points_obj: ArrayLike, geometry: Geometry, pose: Pose) -> tuple[F64, F64]:
    """Fractional detector (rows, cols) of object points (N, 3) under ``pose``.

    Points at or behind the source plane get NaN.

    >>> g = Geometry(1000.0, 1500.0, 0.1, 101, 101)
    >>> r, c = project([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]], g, Pose.identity())
    >>> round(float(c[1] - c[0]), 6)  # 1 mm at the centre plane -> 1.5 mm -> 15 px
    15.0
    """
    w = pose.apply(points_obj)
    depth = w[:, 2] + geometry.sod_mm
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(depth > 0.0, geometry.sdd_mm / depth, np.nan)
    cols = w[:, 0] * scale / geometry.pixel_pitch_mm + (geometry.cols - 1) / 2.0
    rows = w[:, 1] * scale / geometry.pixel_pitch_mm + (geometry.rows - 1) / 2.0
    return rows, cols


def projection_matrix(geometry: Geometry, pose: Pose) -> F64:
    """The 3x4 matrix of a cone-beam view: part mm (homogeneous) -> ``(col, row, 1) * w``.

    Matches :func:`castsight.simulate.geometry.project` exactly (source at
    ``(0, 0, -sod)``, flat panel at ``z = sdd - sod``).
    """
    f = geometry.sdd_mm / geometry.pixel_pitch_mm
    cc, rc = (geometry.cols - 1) / 2.0, (geometry.rows - 1) / 2.0
    k = np.array([[f, 0.0, cc], [0.0, f, rc], [0.0, 0.0, 1.0]])
    shift = pose.translation_mm + np.array([0.0, 0.0, geometry.sod_mm])
    rt = np.hstack([pose.rotation, shift[:, None]])
    return np.asarray(k @ rt, np.float64)


def _halton(i: int, base: int) -> float:
    f, r = 1.0, 0.0
    while i > 0:
        f /= base
        r += f * (i % base)
        i //= base
    return r


def view_poses(
    n_views: int = 28,
    rng: np.random.Generator | None = None,
    *,
    center_mm: ArrayLike = (0.0, 0.0, 0.0),
    span_mm: tuple[float, float] = (0.0, 0.0),
    max_tilt_deg: float = 35.0,
    jitter_deg: float = 0.5,
    jitter_mm: float = 0.5,
) -> list[Pose]:
    """Inspection views as a robot presents a part to a fixed tube and detector.

    View 0 looks along the object z axis at ``center_mm``. View i > 0 tilts the
    part by ``max_tilt_deg * sqrt(i / (n - 1))`` about an in-plane axis whose
    azimuth advances by the golden angle, turns it about its own z axis by
    ``i * 360 / n`` degrees, and aims at ``center_mm`` plus an x/y offset from a
    Halton sequence covering ``span_mm`` (width, height), so the views together
    cover a part larger than the field of view from many angles. Each nominal
    pose gets a seeded fixturing error: rotation ~ N(0, ``jitter_deg``) about
    each axis, translation ~ N(0, ``jitter_mm``) per axis (none if ``rng`` is None).

    >>> poses = view_poses(28, np.random.default_rng(0))
    >>> len(poses), bool(np.allclose(poses[0].rotation, np.eye(3), atol=0.05))
    (28, True)
    """
    if n_views < 1:
        raise ValueError("n_views must be >= 1")
    c = np.asarray(center_mm, dtype=np.float64).reshape(3)
    golden = 180.0 * (3.0 - math.sqrt(5.0))
    poses: list[Pose] = []
    for i in range(n_views):
        frac = math.sqrt(i / (n_views - 1)) if n_views > 1 else 0.0
        tilt = max_tilt_deg * frac
        az = math.radians(i * golden)
        r = rotation_about_axis((math.cos(az), math.sin(az), 0.0), tilt) @ rotation_from_euler(
            0.0, 0.0, 360.0 * i / n_views
        )
        off = np.zeros(3)
        if i > 0:
            off[0] = (_halton(i, 2) - 0.5) * span_mm[0]
            off[1] = (_halton(i, 3) - 0.5) * span_mm[1]
        t = -(r @ (c + off))
        if rng is not None:
            jr = rotation_from_euler(*rng.normal(0.0, jitter_deg, 3))
            r = jr @ r
            t = jr @ t + rng.normal(0.0, jitter_mm, 3)
        poses.append(Pose(r, t))
    return poses


__all__ = [
    "DEFAULT_GEOMETRY",
    "Geometry",
    "Pose",
    "project",
    "rotation_about_axis",
    "rotation_from_euler",
    "view_poses",
]
