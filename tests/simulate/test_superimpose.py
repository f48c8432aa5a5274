"""Superimposed defects land inside the part, change the image where their masks say."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from castsight.radiograph import Acquisition, Radiograph
from castsight.simulate import shapes
from castsight.simulate.superimpose import superimpose


def _host(dtype: str, seed: int = 0) -> Radiograph:
    """Air around a plate with a thick rib: brightest where no metal."""
    rng = np.random.default_rng(seed)
    t = np.zeros((160, 200))
    t[20:140, 20:180] = 10.0
    t[60:100, :] += 8.0
    t[:20, :] = t[140:, :] = 0.0
    full = 245.0 if dtype == "uint8" else 62000.0
    counts = full * np.exp(-0.06 * t)
    gain = 20.0 if dtype == "uint8" else 1.0
    noisy = ndi.gaussian_filter(rng.poisson(counts * gain) / gain, 0.7)
    return Radiograph(np.clip(np.rint(noisy), 0, np.iinfo(dtype).max).astype(dtype))


@pytest.mark.parametrize("dtype", ["uint8", "uint16"])
def test_defects_inside_part_and_masks_cover_the_change(dtype: str) -> None:
    host = _host(dtype)
    out = superimpose(
        host, np.random.default_rng(4), n_defects=6, size_px=(6, 20), contrast=(0.15, 0.3)
    )
    assert len(out.defects) >= 4
    assert out.radiograph.dtype == host.dtype
    for d in out.defects:
        full = d.full_mask(host.shape)
        assert full.sum() == d.mask.sum() > 0
        assert out.part[full].all()  # never in air
        _x, _y, w, h = d.bbox
        assert d.mask.shape == (h, w)
        diff = out.radiograph.pixels.astype(float) - host.pixels.astype(float)
        inside = diff[full].mean()
        # voids brighten, dense inclusions darken; the change is where the mask is
        assert abs(inside) > 3 * np.abs(diff[~ndi.binary_dilation(full, iterations=8)]).mean()


def test_nothing_changes_far_from_defects() -> None:
    host = _host("uint16")
    out = superimpose(host, np.random.default_rng(2), n_defects=3, kinds=("pore",))
    near = np.zeros(host.shape, bool)
    for d in out.defects:
        near |= ndi.binary_dilation(d.full_mask(host.shape), iterations=6)
    assert np.array_equal(out.radiograph.pixels[~near], host.pixels[~near])


def test_seeded_and_sizes_reported_in_mm_when_known() -> None:
    acq = Acquisition(pixel_pitch_mm=0.2, sod_mm=500.0, sdd_mm=1000.0)
    host = Radiograph(_host("uint16").pixels, acq)
    a = superimpose(host, np.random.default_rng(9), n_defects=2)
    b = superimpose(host, np.random.default_rng(9), n_defects=2)
    assert np.array_equal(a.radiograph.pixels, b.radiograph.pixels)
    for d in a.defects:
        assert d.size_mm == pytest.approx(d.size_px * 0.1)


def test_physical_contrast_from_mu() -> None:
    host = Radiograph(np.full((64, 64), 30000, np.uint16))
    out = superimpose(
        host,
        np.random.default_rng(0),
        n_defects=1,
        kinds=("pore",),
        size_px=(10, 10.001),
        mu_per_px=0.01,
    )
    # peak path = diameter 10 px -> ln change 0.1; blur only lowers the peak
    assert out.defects[0].peak_contrast <= np.expm1(0.01 * 10.001) + 1e-9
    assert out.defects[0].peak_contrast > 0.5 * np.expm1(0.1)


def test_ellipsoid_projection_is_exact() -> None:
    p = shapes.pore(np.random.default_rng(0), diameter_px=12.0, aspect=1.0)
    mid = p.path.shape[0] // 2
    assert p.path[mid, mid] == pytest.approx(12.0)
    # sphere chord at offset b: 2 sqrt(R^2 - b^2), averaged over the pixel
    assert p.path[mid, mid + 3] == pytest.approx(2 * np.sqrt(36 - 9), rel=0.02)


@pytest.mark.parametrize("kind", shapes.KINDS)
def test_every_kind_has_a_footprint(kind: str) -> None:
    s = shapes.make_shape(kind, np.random.default_rng(1), 12.0)
    assert s.footprint.any() and s.kind == kind


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown defect kind"):
        superimpose(_host("uint8"), np.random.default_rng(0), kinds=("blowhole",))
