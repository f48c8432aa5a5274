"""Part phantoms: determinism, plausible path lengths, thick nodes, defect sites."""

from __future__ import annotations

import numpy as np
import pytest

from castsight.simulate.geometry import DEFAULT_GEOMETRY, Geometry
from castsight.simulate.phantoms import (
    PART_TYPES,
    Phantom,
    make_phantom,
    sample_inside,
    wall_thickness_at,
)
from castsight.simulate.solids import contains, metal_chords, path_length_image

# The default cell geometry with 16 x 16 binned pixels: same field of view, fast.
COARSE = Geometry(DEFAULT_GEOMETRY.sod_mm, DEFAULT_GEOMETRY.sdd_mm, 0.139 * 16, 96, 96)


@pytest.fixture(scope="module", params=sorted(PART_TYPES))
def phantom(request: pytest.FixtureRequest) -> Phantom:
    return make_phantom(request.param, np.random.default_rng(11))


def test_deterministic_per_seed_and_jittered_across_seeds() -> None:
    for name in PART_TYPES:
        a = make_phantom(name, np.random.default_rng(1))
        assert a == make_phantom(name, np.random.default_rng(1))
        b = make_phantom(name, np.random.default_rng(2))
        assert a.dimensions_mm != b.dimensions_mm and a.solids != b.solids
        da, db = dict(a.dimensions_mm), dict(b.dimensions_mm)
        for k, v in da.items():  # jitter stays modest (+-8 %, walls from their ranges)
            assert 0.6 < db[k] / v < 1.6


def test_unknown_part_type_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="giga-underbody, wheel"):
        make_phantom("knuckle", np.random.default_rng(0))


def test_giga_underbody_dimensions_and_path_lengths() -> None:
    p = make_phantom("giga-underbody", np.random.default_rng(4))
    dims = dict(p.dimensions_mm)
    assert 3.0 <= dims["plate"] <= 4.5 and 2.5 <= dims["rib"] <= 3.5 and 4.0 <= dims["wall"] <= 6.0
    img = path_length_image(p.solids, COARSE, p.default_pose())
    ys, xs = COARSE.pixel_centres_mm()
    cos = COARSE.sdd_mm / np.sqrt(xs[None, :] ** 2 + ys[:, None] ** 2 + COARSE.sdd_mm**2)
    normal = img * cos  # thickness along the plate normal for a plate-only ray
    plate_only = np.abs(normal - dims["plate"]) < 1e-3
    assert plate_only.mean() > 0.5  # most of a view is bare plate (2.5-6 mm)
    assert 2.5 <= float(np.median(normal)) <= 6.0
    assert (img == 0).any()  # holes and the window
    assert img.max() > dims["rib_height"]  # ribs and tower walls seen edge-on


def test_wheel_default_view_sees_hub_bore_and_rim() -> None:
    p = make_phantom("wheel", np.random.default_rng(4))
    img = path_length_image(p.solids, COARSE, p.default_pose())
    assert (img == 0).mean() > 0.2  # windows between spokes and the bore
    assert img.max() > 60.0  # tangential rim walls, hub
    assert 2.0 * dict(p.dimensions_mm)["rim_half_width"] > 150.0


def test_thick_nodes_lie_in_metal_and_are_thick(phantom: Phantom) -> None:
    pts = np.array([n.point_mm for n in phantom.thick_nodes])
    assert contains(phantom.solids, pts).all()
    t = wall_thickness_at(phantom, pts)
    assert (t >= 0.9 * phantom.nominal_wall_mm).all()
    assert {n.kind for n in phantom.thick_nodes} >= (
        {"rib-crossing", "tower-base", "boss"}
        if phantom.name == "giga-underbody"
        else {"hub", "spoke-rim", "spoke-hub"}
    )


def test_sample_inside_respects_margin(phantom: Phantom) -> None:
    rng = np.random.default_rng(5)
    pts = sample_inside(phantom, rng, 60, margin_mm=1.0)
    assert pts.shape == (60, 3)
    assert contains(phantom.solids, pts).all()
    dirs = rng.normal(size=(40, 3))
    ch = metal_chords(phantom.solids, pts, dirs)
    assert (np.minimum(-ch[..., 0], ch[..., 1]) >= 1.0).all()  # margin in random directions too
    node = phantom.thick_nodes[0]
    near = sample_inside(phantom, rng, 10, 0.5, near=node.point_mm, radius_mm=node.thickness_mm)
    assert (np.linalg.norm(near - node.point_mm, axis=1) <= node.thickness_mm).all()
    with pytest.raises(ValueError, match="found only"):
        sample_inside(phantom, rng, 5, margin_mm=200.0, max_batches=2)


def test_wall_thickness_of_plate_and_rib() -> None:
    p = make_phantom("giga-underbody", np.random.default_rng(0))
    dims = dict(p.dimensions_mm)
    rib = next(s for s in p.solids if s.label == "rib")
    x, y = rib.center_mm[:2]
    t = wall_thickness_at(p, [[0.0, -95.0, 1.0], [x, y + 40.0, 20.0]])
    assert t[0] == pytest.approx(dims["plate"])
    assert t[1] == pytest.approx(dims["rib"])
    along = wall_thickness_at(p, [[0.0, -95.0, 1.0]], directions=[[0, 0, 1], [1, 0, 0]])
    assert along.shape == (1, 2) and along[0, 0] == pytest.approx(dims["plate"])
