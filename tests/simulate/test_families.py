"""Part families: every seed another design (simulate.families)."""

from __future__ import annotations

import numpy as np
import pytest

from castsight.simulate.defects import place_defect
from castsight.simulate.families import FAMILIES, make_family_part, part_extent_mm
from castsight.simulate.geometry import Geometry
from castsight.simulate.solids import contains, path_length_image


@pytest.mark.parametrize("family", list(FAMILIES))
def test_each_seed_gives_another_design(family: str) -> None:
    designs = {make_family_part(family, np.random.default_rng(s)).dimensions_mm for s in range(4)}
    assert len(designs) == 4
    again = make_family_part(family, np.random.default_rng(2))
    assert again.dimensions_mm == make_family_part(family, np.random.default_rng(2)).dimensions_mm


@pytest.mark.parametrize("family", list(FAMILIES))
def test_family_part_is_imaged_and_holds_a_pore(family: str) -> None:
    part = make_family_part(family, np.random.default_rng(7))
    assert part.thick_nodes and contains(part.solids, [n.point_mm for n in part.thick_nodes]).all()
    extent = part_extent_mm(part)
    pitch = 1.1 * 1.5 * extent / 96  # the part fills two thirds of a 96 px wide view
    g = Geometry(1000.0, 1100.0, pitch, 72, 96)
    img = path_length_image(part.solids, g, part.default_pose())
    assert 0.05 < float((img > 0).mean()) < 0.98  # metal and air (or holes) both show
    assert float(img.max()) > 2 * part.nominal_wall_mm  # thick sections exist
    pore = place_defect(part, "pore", 3.0, np.random.default_rng(1), defect_id=0)
    assert contains(part.solids, [pore.center_mm]).all()


def test_unknown_family_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown part family"):
        make_family_part("gearbox", np.random.default_rng(0))
