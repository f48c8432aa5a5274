"""Exact path lengths through analytic solids along cone-beam rays."""

from __future__ import annotations

import numpy as np
import pytest

from castsight.simulate.geometry import Geometry, Pose, rotation_from_euler
from castsight.simulate.solids import (
    Solid,
    bounding_box,
    box,
    contains,
    csg,
    cylinder,
    ellipsoid,
    metal_chords,
    pack,
    path_length_image,
    tube,
)

G = Geometry(sod_mm=500.0, sdd_mm=800.0, pixel_pitch_mm=0.5, rows=41, cols=37)


def _rays(g: Geometry) -> tuple[np.ndarray, np.ndarray]:
    """World source and unit ray directions (rows, cols, 3) to every pixel centre."""
    ys, xs = g.pixel_centres_mm()
    d = np.stack(np.broadcast_arrays(xs[None, :], ys[:, None], np.full((1, 1), g.sdd_mm)), -1)
    return np.array([0.0, 0.0, -g.sod_mm]), d / np.linalg.norm(d, axis=-1, keepdims=True)


def test_sphere_chord_is_2_sqrt_r2_minus_b2() -> None:
    radius, centre = 6.0, np.array([1.5, -2.0, 30.0])
    pose = Pose.from_euler(0, 0, 0, (0.0, 0.0, 0.0))
    img = path_length_image([ellipsoid(centre, (radius,) * 3)], G, pose)
    src, d = _rays(G)
    v = centre - src
    b = np.linalg.norm(v - (d @ v)[..., None] * d, axis=-1)  # impact parameter of each ray
    expected = 2.0 * np.sqrt(np.clip(radius**2 - b**2, 0.0, None))
    assert (expected > 0).sum() > 50 and (expected == 0).sum() > 50
    np.testing.assert_allclose(img, expected, atol=2e-5, rtol=1e-6)


def test_rotated_ellipsoid_through_pose_matches_sphere_scaled() -> None:
    # An ellipsoid (a, a, c) rotated by 90 deg about x looks like (a, c, a); at the
    # central ray (along z) the chord is 2a whatever the rotation about z.
    e = ellipsoid((0, 0, 0), (4.0, 4.0, 9.0), euler_deg=(90, 0, 0))
    g = Geometry(500.0, 800.0, 0.5, 1, 1)
    assert path_length_image([e], g, Pose.from_euler(0, 0, 33))[0, 0] == pytest.approx(8.0)
    assert path_length_image([e], g, Pose.from_euler(90, 0, 0))[0, 0] == pytest.approx(18.0)


def test_plate_with_through_hole() -> None:
    t, r_hole = 4.0, 3.0
    part = csg([box((0, 0, 0), (60, 60, t / 2))], [cylinder((0, 0, 0), r_hole, 10.0, removed=True)])
    img = path_length_image(part, G, Pose.identity())
    src, d = _rays(G)
    cos_theta = d[..., 2]
    # where the ray meets the plate mid-plane, relative to the hole axis
    hit = src + (G.sod_mm / cos_theta)[..., None] * d
    rr = np.hypot(hit[..., 0], hit[..., 1])
    assert img[20, 18] == 0.0  # central ray through the hole
    clear = rr > r_hole + 0.2
    inside = rr < r_hole - 0.2
    np.testing.assert_allclose(img[clear], t / cos_theta[clear], rtol=1e-6)
    assert (img[inside] == 0.0).all() and inside.sum() > 20
    # normal incidence: an odd detector has a ray along z; move the hole off it
    g1 = Geometry(500.0, 800.0, 0.5, 1, 1)
    shifted = [box((0, 0, 0), (60, 60, t / 2)), cylinder((20, 0, 0), r_hole, 10.0, removed=True)]
    assert path_length_image(shifted, g1, Pose.identity())[0, 0] == pytest.approx(t)
    # oblique: tilt the plate by 30 deg about x
    tilted = path_length_image(shifted, g1, Pose.from_euler(30, 0, 0))[0, 0]
    assert tilted == pytest.approx(t / np.cos(np.radians(30)), rel=1e-6)


def test_overlapping_material_is_not_double_counted() -> None:
    g1 = Geometry(500.0, 800.0, 0.5, 1, 1)
    a = box((0, 0, 5), (10, 10, 5))  # z in [0, 10]
    b = box((0, 0, 12.5), (10, 10, 7.5))  # z in [5, 20]
    assert path_length_image([a, b], g1, Pose.identity())[0, 0] == pytest.approx(20.0)
    rib_on_plate = [box((0, 0, 0), (50, 50, 2)), box((0, 0, 10), (1.5, 50, 12))]
    assert path_length_image(rib_on_plate, g1, Pose.identity())[0, 0] == pytest.approx(24.0)


def test_order_decides_material_after_removed_restores_metal() -> None:
    g1 = Geometry(500.0, 800.0, 0.5, 1, 1)
    rim = [cylinder((0, 0, 0), 50, 20), cylinder((0, 0, 0), 45, 21, removed=True)]
    hub = box((0, 0, 0), (5, 5, 8))
    assert path_length_image([*rim, hub], g1, Pose.identity())[0, 0] == pytest.approx(16.0)
    assert path_length_image([hub, *rim], g1, Pose.identity())[0, 0] == 0.0
    with pytest.raises(ValueError, match="removed"):
        csg([rim[1]], [])


def test_tube_equals_cylinder_minus_bore() -> None:
    pose = Pose.from_euler(25, -10, 5, (3, 1, 0))
    t = tube((2, 0, 0), 14.0, 9.0, 11.0, euler_deg=(0, 30, 0))
    c = [cylinder((2, 0, 0), 14.0, 11.0, euler_deg=(0, 30, 0)),
         cylinder((2, 0, 0), 9.0, 11.0, euler_deg=(0, 30, 0), removed=True)]  # fmt: skip
    a = path_length_image([t], G, pose, tile=8)
    b = path_length_image(c, G, pose, tile=8)
    assert a.max() > 20.0
    np.testing.assert_allclose(a, b, atol=1e-4)
    with pytest.raises(ValueError, match="inner radius"):
        tube((0, 0, 0), 3.0, 4.0, 1.0)


def _random_scene(rng: np.random.Generator, n: int) -> list[Solid]:
    out: list[Solid] = []
    for i in range(n):
        c = rng.uniform(-15, 15, 3)
        e = rng.uniform(0, 360, 3)
        s = rng.uniform(1.0, 8.0, 3)
        rem = i > 4 and rng.random() < 0.35
        k = i % 4
        if k == 0:
            out.append(box(c, s, euler_deg=e, removed=rem))
        elif k == 1:
            out.append(cylinder(c, s[0], s[2], euler_deg=e, removed=rem))
        elif k == 2:
            out.append(ellipsoid(c, s, euler_deg=e, removed=rem))
        else:
            out.append(tube(c, s[0] + 1.0, s[0], s[2], euler_deg=e, removed=rem))
    return out


def test_culled_render_matches_brute_force_sampling() -> None:
    """Independent check: sample each ray densely and ask ``contains`` (pure numpy)."""
    rng = np.random.default_rng(3)
    solids = _random_scene(rng, 40)
    g = Geometry(500.0, 700.0, 1.6, 14, 12)
    pose = Pose(rotation_from_euler(20, -35, 10), np.array([1.0, -2.0, 5.0]))
    img = path_length_image(solids, g, pose, tile=4)
    src, d = _rays(g)
    ts = np.linspace(g.sod_mm - 40.0, g.sod_mm + 40.0, 4001)  # 0.02 mm steps
    dt = ts[1] - ts[0]
    world = src + ts[None, None, :, None] * d[:, :, None, :]
    obj = (world - pose.translation_mm) @ pose.rotation  # world -> object
    inside = contains(solids, obj.reshape(-1, 3)).reshape(g.rows, g.cols, ts.size)
    brute = inside.sum(axis=-1) * dt
    assert img.max() > 10.0 and (img == 0).any()
    np.testing.assert_allclose(img, brute, atol=0.25)


def test_window_matches_full_render() -> None:
    solids = _random_scene(np.random.default_rng(5), 25)
    pose = Pose.from_euler(10, 20, 30)
    full = path_length_image(solids, G, pose, tile=8)
    win = path_length_image(solids, G, pose, window=(5, 23, 7, 30), tile=8)
    assert win.shape == (18, 23) and win.dtype == np.float32
    np.testing.assert_array_equal(win, full[5:23, 7:30])
    with pytest.raises(ValueError, match="window"):
        path_length_image(solids, G, pose, window=(0, 99, 0, 5))
    assert path_length_image([], G, pose).shape == (41, 37)


def test_contains_chords_and_bounds() -> None:
    part = [box((0, 0, 0), (10, 10, 2)), cylinder((0, 0, 0), 3.0, 5.0, removed=True)]
    assert contains(part, [[5, 5, 0], [0, 0, 0], [5, 5, 3]]).tolist() == [True, False, False]
    ch = metal_chords(part, [[5.0, 0.0, 1.0], [0.0, 0.0, 0.0]], [[0, 0, 1], [1, 0, 0]])
    np.testing.assert_allclose(ch[0], [[-3.0, 1.0], [-2.0, 5.0]])
    assert (ch[1] == 0).all()
    bb = bounding_box(part)
    np.testing.assert_allclose(bb, [[-10, -10, -2], [10, 10, 2]])
    assert len(pack(part)) == 2 and pack(pack(part)) is not None
    with pytest.raises(ValueError, match="> 0"):
        box((0, 0, 0), (1, 0, 1))
