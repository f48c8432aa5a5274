"""Cone-beam geometry: projection, magnification, poses and inspection views."""

from __future__ import annotations

import math

import numpy as np
import pytest

from castsight.simulate.geometry import (
    DEFAULT_GEOMETRY,
    Geometry,
    Pose,
    project,
    rotation_about_axis,
    rotation_from_euler,
    view_poses,
)


@pytest.mark.parametrize(("rows", "cols"), [(5, 7), (4, 6), (1, 1)])
def test_origin_projects_to_detector_centre(rows: int, cols: int) -> None:
    g = Geometry(800.0, 1200.0, 0.2, rows, cols)
    r, c = project([[0.0, 0.0, 0.0]], g, Pose.identity())
    assert (r[0], c[0]) == ((rows - 1) / 2, (cols - 1) / 2)


def test_distance_in_origin_plane_scales_with_magnification() -> None:
    g = Geometry(600.0, 1500.0, 0.1, 11, 11)
    d = 7.0
    r, c = project([[0.0, 0.0, 0.0], [d, 0.0, 0.0], [0.0, d, 0.0]], g, Pose.identity())
    expected_px = d * g.sdd_mm / g.sod_mm / g.pixel_pitch_mm
    assert c[1] - c[0] == pytest.approx(expected_px, rel=1e-12)
    assert r[2] - r[0] == pytest.approx(expected_px, rel=1e-12)
    assert g.magnification == pytest.approx(2.5)
    assert g.pixel_size_at_object_mm == pytest.approx(0.04)


def test_moving_toward_source_enlarges_projection() -> None:
    g = Geometry(1000.0, 1100.0, 0.139, 9, 9)
    sizes = []
    for z in (-200.0, 0.0, 200.0):  # toward the source first
        _, c = project([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0]], g, Pose.from_euler(0, 0, 0, (0, 0, z)))
        sizes.append(c[1] - c[0])
        # magnification of the plane at depth z is SDD / (SOD + z)
        assert sizes[-1] == pytest.approx(10.0 * 1100.0 / (1000.0 + z) / 0.139, rel=1e-12)
    assert sizes[0] > sizes[1] > sizes[2]


def test_points_behind_source_are_nan() -> None:
    r, c = project([[0.0, 0.0, -1000.0], [0, 0, -2000.0]], DEFAULT_GEOMETRY, Pose.identity())
    assert np.isnan(r).all() and np.isnan(c).all()


def test_default_geometry_sees_a_section() -> None:
    g = DEFAULT_GEOMETRY
    assert (g.rows, g.cols, g.pixel_pitch_mm) == (1536, 1536, 0.139)
    h, w = g.field_of_view_mm
    assert 150.0 < h < 220.0 and h == w
    assert 1.0 < g.magnification < 1.5


def test_geometry_validation() -> None:
    with pytest.raises(ValueError, match="sod_mm < sdd_mm"):
        Geometry(1000.0, 900.0, 0.1, 4, 4)
    with pytest.raises(ValueError, match="pitch"):
        Geometry(1000.0, 1100.0, 0.0, 4, 4)


def test_rotations_are_proper_and_compose() -> None:
    r = rotation_from_euler(10.0, -20.0, 30.0)
    assert np.allclose(r @ r.T, np.eye(3)) and np.linalg.det(r) == pytest.approx(1.0)
    assert np.allclose(rotation_about_axis((0, 0, 1), 30.0), rotation_from_euler(0, 0, 30.0))
    with pytest.raises(ValueError, match="rotation"):
        Pose(np.diag([1.0, 1.0, -1.0]), np.zeros(3))


def test_pose_apply_and_look_at() -> None:
    p = Pose.look_at((10.0, -5.0, 2.0), rotation_from_euler(0, 30, 0))
    assert np.allclose(p.apply([[10.0, -5.0, 2.0]]), 0.0)
    q = Pose.from_euler(90, 0, 0, (1, 2, 3))
    assert np.allclose(q.apply([[0.0, 1.0, 0.0]]), [[1.0, 2.0, 4.0]])
    assert not q.rotation.flags.writeable


def test_view_poses_spread_and_seeded_jitter() -> None:
    nominal = view_poses(28, None, span_mm=(100.0, 80.0), max_tilt_deg=35.0)
    assert len(nominal) == 28
    assert np.allclose(nominal[0].rotation, np.eye(3))
    tilts = [math.degrees(math.acos(np.clip(p.rotation[2, 2], -1, 1))) for p in nominal]
    assert max(tilts) == pytest.approx(35.0, abs=1e-6) and len({round(t, 3) for t in tilts}) > 20
    a = view_poses(28, np.random.default_rng(7), span_mm=(100.0, 80.0))
    b = view_poses(28, np.random.default_rng(7), span_mm=(100.0, 80.0))
    c = view_poses(28, np.random.default_rng(8), span_mm=(100.0, 80.0))
    assert all(np.array_equal(x.rotation, y.rotation) for x, y in zip(a, b, strict=True))
    assert not np.allclose(a[3].translation_mm, c[3].translation_mm)
    # jitter is small: about 0.5 deg and 0.5 mm
    for x, n in zip(a, nominal, strict=True):
        ang = math.degrees(math.acos(np.clip((np.trace(x.rotation @ n.rotation.T) - 1) / 2, -1, 1)))
        assert ang < 3.0
    # the aimed-at points cover the span: each view puts centre + offset at the origin
    aims = np.array([-(p.rotation.T @ p.translation_mm) for p in nominal])
    assert np.ptp(aims[:, 0]) > 70.0 and np.ptp(aims[:, 1]) > 55.0
    assert len(view_poses(1)) == 1
    with pytest.raises(ValueError, match="n_views"):
        view_poses(0)


def test_projection_matrix_projects_as_the_renderer_does() -> None:
    """The view's 3x4 matrix (carried in its metadata) maps part points where the
    renderer's own projection puts them."""
    from castsight.measure.multiview import project_points
    from castsight.simulate.geometry import projection_matrix

    g = Geometry(1000.0, 1100.0, 0.278, 768, 768)
    pose = Pose.from_euler(12.0, -20.0, 35.0, translation_mm=(4.0, -7.0, 2.5))
    pts = np.random.default_rng(0).uniform(-80, 80, (50, 3))
    rows, cols = project(pts, g, pose)
    r2, c2 = project_points(projection_matrix(g, pose), pts)
    assert np.allclose(rows, r2, atol=1e-9) and np.allclose(cols, c2, atol=1e-9)
