"""The local detector on display exports: 8-bit archive views, windowed, gamma-mapped and
filtered as X-ray systems write them (:mod:`castsight.simulate.archive`).

Each fixture is a plate of castings' structure drawn in transmission (a wall step, a rib,
a cored hole through to air, a boss with a blind hole) with Poisson noise, then archived;
structure must give no indication, a pore (less material: brighter) must give one.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from castsight.detect.base import BELOW_CALL, Indication
from castsight.detect.local import LocalDetector, is_display_export
from castsight.preprocess.prepare import prepare
from castsight.radiograph import Acquisition, Radiograph
from castsight.simulate.archive import FILTERS, ArchiveLook, archive_image

OPEN_BEAM = 4000.0
MU = 0.09
"""Attenuation per unit of the drawn thickness (ln units)."""


def _thickness(size: tuple[int, int] = (240, 320), blind_hole: bool = False) -> NDArray[np.float64]:
    """Material along each ray: a plate (8) with a thicker half (14), a rib (22), a cored
    hole through to air and a boss (18), with a blind hole at its centre (down to the
    wall's 14) when ``blind_hole``."""
    rows, cols = size
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float64)
    t = np.full(size, 8.0)
    t[:, cols // 2 :] = 14.0  # a wall step
    t[:, 200:208] = 22.0  # a rib
    t[np.hypot(yy - 60.0, xx - 250.0) < 14.0] = 0.0  # a cored hole: air
    boss = np.hypot(yy - 180.0, xx - 250.0)
    t[boss < 16.0] = 18.0
    if blind_hole:
        t[boss < 7.0] = 14.0  # a blind (tapped) hole, drilled down to the wall
    return t


def _crossing(size: tuple[int, int] = (240, 320)) -> NDArray[np.float64]:
    """:func:`_thickness` with a second rib (22) crossing the first at (120, 204)."""
    t = _thickness(size, blind_hole=True)
    t[116:124, :] = np.maximum(t[116:124, :], 22.0)
    return t


def _bar(size: tuple[int, int] = (240, 320)) -> NDArray[np.float64]:
    """A bar 70 px wide (8) across air, with two cored holes through it."""
    rows, cols = size
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float64)
    t = np.zeros(size)
    t[85:155, :] = 8.0
    t[np.hypot(yy - 120.0, xx - 100.0) < 15.0] = 0.0
    t[np.hypot(yy - 120.0, xx - 220.0) < 15.0] = 0.0
    return t


def _pore(t: NDArray[np.float64], y: float, x: float, radius: float) -> NDArray[np.float64]:
    """``t`` less a gas pore at ``(y, x)``: a sphere's chord, scaled to a contrast of about
    15 % at its centre (as the real archives' median)."""
    rows, cols = t.shape
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float64)
    d2 = (yy - y) ** 2 + (xx - x) ** 2
    return np.asarray(t - 0.25 * np.sqrt(np.clip(radius**2 - d2, 0.0, None)))


def _archive(t: NDArray[np.float64], look: ArchiveLook, seed: int = 0) -> Radiograph:
    """Transmission of ``t``, blurred by the panel, Poisson noise, then the archive look."""
    mean = np.asarray(cv2.GaussianBlur(OPEN_BEAM * np.exp(-MU * t), (0, 0), 1.2), np.float64)
    raw = np.random.default_rng(seed).poisson(mean).astype(np.float64)
    return Radiograph(archive_image(raw, open_beam=OPEN_BEAM, look=look))


def called(found: list[Indication]) -> list[Indication]:
    """The indications the detector called (not those it reports below its call)."""
    return [i for i in found if not i.extras.get(BELOW_CALL)]


LOOKS = {f: ArchiveLook(white=0.9, black=0.5, gamma=1.6, filter=f,
                        strength={"median": 0.0, "unsharp": 1.2, "smooth": 0.8}[f])
         for f in FILTERS}  # fmt: skip


@pytest.mark.parametrize("filt", FILTERS)
def test_structure_of_an_unseen_casting_gives_no_indication(filt: str) -> None:
    """Wall step, rib, cored hole (air) and a boss: nothing called (before the ring tests
    the untaught default fired all along such edges, 11 false indications per archive
    image of the foreign suite)."""
    image = prepare(_archive(_thickness(), LOOKS[filt]))
    assert is_display_export(image)
    assert called(LocalDetector().detect(image)) == []


@pytest.mark.xfail(
    strict=True,
    reason="known limitation: untaught, a blind hole at a boss's "
    "centre looks like the pores the training data place at thick nodes",
)
def test_a_blind_hole_at_the_centre_of_a_boss_is_not_called() -> None:
    """A tapped hole drilled into a boss is design, not a void: no indication under any
    archive look. The shipped classifier scores it 0.38 (median), 0.55 (unsharp mask) and
    0.80 (smoothing), since a pore at a boss's centre, which its training data hold,
    looks the same. Taught models see the hole in every good part."""
    t = _thickness(blind_hole=True)
    found = [called(LocalDetector().detect(prepare(_archive(t, LOOKS[f])))) for f in FILTERS]
    assert all(f == [] for f in found)


@pytest.mark.parametrize("filt", FILTERS)
@pytest.mark.parametrize(("y", "x"), [(120.0, 70.0), (130.0, 226.0)])
def test_a_pore_in_plate_or_next_to_a_rib_is_one_bright_indication(
    filt: str, y: float, x: float
) -> None:
    """A pore of 16 px (contrast about 10 % of the level) in the open plate, and one in the
    thick wall 10 px from the rib: one indication, on the pore, brighter than around it (one
    touching the rib is not found, one 6 px from it only without the unsharp mask's halo)."""
    image = prepare(_archive(_pore(_thickness(), y, x, 8.0), LOOKS[filt]))
    found = called(LocalDetector().detect(image))
    assert len(found) == 1, [(f.bbox, f.significance) for f in found]
    bx, by, bw, bh = found[0].bbox
    assert found[0].polarity == 1
    assert bx <= x < bx + bw and by <= y < by + bh
    assert 6 <= max(bw, bh) <= 24  # about the pore's size, not the structure's


def test_a_faint_pore_below_the_noise_is_not_called() -> None:
    """A pore of 2 % contrast under the noise of a low dose: no indication there (the
    classifier weighs the core's contrast against the ring's own spread and the image's
    noise, not against a fixed grey level)."""
    thin = _pore(_thickness(), 120.0, 70.0, 6.0)
    faint = _thickness() + (thin - _thickness()) * 0.08
    look = LOOKS["unsharp"]
    found = called(LocalDetector().detect(prepare(_archive(faint, look, seed=3))))
    near = [i for i in found if abs(i.centroid[0] - 70) < 20 and abs(i.centroid[1] - 120) < 20]
    assert near == []


@pytest.mark.xfail(
    strict=True,
    reason="known limitation: an unsharp mask brightens a boss's "
    "centre against its darkened rim, and the classifier calls it on some noise",
)
def test_an_unsharp_masked_boss_is_not_called() -> None:
    """A boss (18 on a wall of 14, 32 px across) under an unsharp mask of amount 1.2, on 8
    noise seeds: no indication. Its centre is called at 0.54-0.68 on 4 of them (never
    under the median or the smoothing)."""
    look = LOOKS["unsharp"]
    found = [called(LocalDetector().detect(prepare(_archive(_thickness(), look, seed=k))))
             for k in range(8)]  # fmt: skip
    assert all(f == [] for f in found)


def test_calibrated_16bit_radiographs_keep_the_residual_path() -> None:
    """A raw 16-bit radiograph is no display export: the residual-and-Hessian path judges
    it (the standard suite's and the taught models' fallback behaviour)."""
    raw = np.random.default_rng(0).poisson(np.full((64, 64), 20000.0)).astype(np.uint16)
    assert not is_display_export(prepare(Radiograph(raw, Acquisition(bit_depth=16))))


@pytest.mark.parametrize("filt", FILTERS)
def test_a_plate_with_structure_is_judged_and_a_bar_near_air_is_not(filt: str) -> None:
    """The judged share: ~1 on a plain plate and on a plate with ribs crossing, a boss and a
    wall step (the classifier weighs structure in a blob's ring); well below 1 on a narrow
    bar with cored holes, where the rings of the blob sizes sought lie on air, so the plan's
    ``quality.min_judged_pct`` sends such a view to REVIEW rather than OK."""
    plain = LocalDetector().detect_judged(prepare(_archive(np.full((240, 320), 8.0), LOOKS[filt])))
    assert called(plain.indications) == [] and plain.share >= 0.97
    ribbed = LocalDetector().detect_judged(prepare(_archive(_crossing(), LOOKS[filt])))
    assert ribbed.share >= 0.9, ribbed.share
    bar = LocalDetector().detect_judged(prepare(_archive(_bar(), LOOKS[filt])))
    assert 0.2 <= bar.share <= 0.8, bar.share


def test_the_judged_share_leaves_the_indications_unchanged() -> None:
    """``detect_judged`` finds what ``detect`` finds (the share is computed beside it)."""
    image = prepare(_archive(_pore(_bar(), 120.0, 160.0, 8.0), LOOKS["median"]))
    judged = LocalDetector().detect_judged(image)
    found = LocalDetector().detect(image)
    assert [i.bbox for i in judged.indications] == [i.bbox for i in found]
    assert len(called(found)) == 1 and judged.share < 0.9
