"""The ``reference`` detector on a simulated series: quiet on good parts, finds what differs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from castsight.detect.base import EDGE_EXPLAINED, WEAK, Detector
from castsight.detect.reference import ReferenceDetector, ReferenceView, t_to_sigmas
from castsight.errors import InputError
from castsight.io import discover_parts, read_radiograph
from castsight.measure import measure_indications
from castsight.preprocess.prepare import Calibration, PreparedImage, load_calibration, prepare
from castsight.radiograph import Radiograph
from castsight.teach import learn_reference
from tests.teach import series_dataset

N_TRAIN = 8
HELD_OUT = ("P0009", "P0010")


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return series_dataset(tmp_path_factory.mktemp("series"), n_parts=N_TRAIN + len(HELD_OUT))


@pytest.fixture(scope="module")
def refs(series: Path) -> dict[str, ReferenceView]:
    return learn_reference(discover_parts([series])[:N_TRAIN], _calibration(series))


@pytest.fixture(scope="module")
def detector(refs: dict[str, ReferenceView]) -> ReferenceDetector:
    return ReferenceDetector(refs)


def _calibration(series: Path) -> Calibration:
    return load_calibration(series / "_calibration")


def _held_out(series: Path, view: str = "V01", part: str = HELD_OUT[0]) -> PreparedImage:
    return prepare(read_radiograph(series / part / f"{view}.tif"), _calibration(series))


def _with_disk(image: PreparedImage, centre: tuple[int, int], delta: float) -> PreparedImage:
    yy, xx = np.mgrid[: image.shape[0], : image.shape[1]]
    disk = (xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 <= 16  # radius 4 px
    a = image.attenuation.copy()
    a[disk] += np.float32(delta)
    return dataclasses.replace(image, attenuation=a)


def _quiet_spot(ref: ReferenceView) -> tuple[int, int]:
    """x, y of the flattest well-covered pixel away from the frame (a plate area)."""
    score = cv2.dilate(ref.std, np.ones((15, 15), np.uint8))
    score[~cv2.erode(ref.mask.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)] = 1e9
    score[:40], score[-40:], score[:, :40], score[:, -40:] = 1e9, 1e9, 1e9, 1e9
    y, x = np.unravel_index(int(np.argmin(score)), score.shape)
    return int(x), int(y)


def test_is_a_detector(detector: ReferenceDetector) -> None:
    found: Detector = detector
    assert found.name == "reference" and set(detector.views) == {"V01", "V02"}


@pytest.mark.parametrize("part", HELD_OUT)
@pytest.mark.parametrize("view", ["V01", "V02"])
def test_held_out_good_part_gives_no_indication(
    series: Path, detector: ReferenceDetector, part: str, view: str
) -> None:
    image = _held_out(series, view, part)
    assert detector.detect(image) == []
    found, judged = detector.detect_judged(image)[:2]
    assert found == [] and 0.6 < judged < 1.0  # the frame's edge band is not judged
    score = detector.zscore(image)
    z = score.z[score.valid]
    assert score.valid.mean() > 0.6
    assert 0.4 < float(z.std()) < 1.4  # Student-t with 7 dof, conservatively pooled


def test_an_exposure_offset_is_not_a_defect(series: Path, detector: ReferenceDetector) -> None:
    image = _held_out(series)
    brighter = dataclasses.replace(image, attenuation=image.attenuation - np.float32(0.1))
    assert detector.detect(brighter) == []
    assert abs(detector.zscore(brighter).offset - detector.zscore(image).offset + 0.1) < 1e-3


@pytest.mark.parametrize(("delta", "polarity"), [(-0.05, 1), (0.05, -1)])
def test_pore_and_dense_inclusion_are_found_where_they_are(
    series: Path,
    refs: dict[str, ReferenceView],
    detector: ReferenceDetector,
    delta: float,
    polarity: int,
) -> None:
    image = _held_out(series)
    x, y = _quiet_spot(refs["V01"])
    found = detector.detect(_with_disk(image, (x, y), delta))
    assert len(found) == 1
    ind = found[0]
    bx, by, bw, bh = ind.bbox
    assert ind.polarity == polarity and ind.detector == "reference"
    assert bx <= x - 3 and x + 3 < bx + bw and by <= y - 3 and y + 3 < by + bh  # covers the disk
    assert bw <= 16 and bh <= 16
    assert 0.03 < ind.depth < 0.08
    assert ind.significance > 5.0
    assert ind.mask.shape == (bh, bw) and ind.area_px >= 20
    assert ind.extras[EDGE_EXPLAINED] == 0.0  # no edge there: a defect, whatever edges do
    # its deviation comes along, signed so the indication is positive, and sizes it
    assert ind.profile is not None and float(ind.profile.deviation.max()) > 0.03
    (m,) = measure_indications([ind], pixel_size_mm=None)
    assert m.fitted_diameter_px is not None and m.blur_excess_px > 0.0
    assert m.fitted_amplitude is not None
    assert 0.5 * abs(delta) < m.fitted_amplitude < 2.0 * abs(delta)  # the disk's deviation
    assert 7.0 <= m.max_length_px <= 10.5  # the disk's 9 px across, not its blurred footprint


def test_an_edge_moved_by_a_pixel_is_explained_by_the_edge_tolerance(
    series: Path, refs: dict[str, ReferenceView], detector: ReferenceDetector
) -> None:
    """Structure displaced by a pixel, as a pose beyond the taught range leaves it, is
    flagged as explained by a displaced edge (so only other views can make it count)."""
    image = _held_out(series)
    mean = refs["V01"].mean
    gy, gx = np.gradient(cv2.GaussianBlur(mean, (5, 5), 1.0))
    strength = np.hypot(gx, gy)
    strength[:40], strength[-40:], strength[:, :40], strength[:, -40:] = 0, 0, 0, 0
    y, x = np.unravel_index(int(np.argmax(strength)), strength.shape)
    a = image.attenuation.copy()
    win = (slice(y - 10, y + 10), slice(x - 10, x + 10))
    a[win] = image.attenuation[y - 10 : y + 10, x - 9 : x + 11]  # moved by one pixel
    score = detector.zscore(dataclasses.replace(image, attenuation=a))
    t = detector.z_threshold("V01")
    assert score.edge_z is not None
    assert float(np.abs(score.z[win]).max()) > t  # it deviates past the threshold
    assert float(np.abs(score.edge_z[win]).max()) <= t  # and a displaced edge explains it
    # a disk on even ground is not explained away
    x0, y0 = _quiet_spot(refs["V01"])
    disk = detector.zscore(_with_disk(image, (x0, y0), -0.05))
    assert disk.edge_z is not None
    assert float(np.abs(disk.edge_z[y0 - 3 : y0 + 4, x0 - 3 : x0 + 4]).max()) > t


def test_a_view_posed_beyond_the_taught_range_is_judged_with_a_wider_edge_tolerance(
    series: Path, refs: dict[str, ReferenceView], detector: ReferenceDetector
) -> None:
    """The middle of the view displaced by 3 px (a tilt beyond the taught range moves
    structure more than the pose modes follow): with 1 px of edge tolerance it deviates
    and gives indications; the detector settles on 3 px, where a displaced edge explains
    them (only other views can make them count), and a pore on even ground is still one."""
    image = _held_out(series)
    a = image.attenuation
    rows, cols = a.shape
    r0, r1, c0, c1 = rows // 4, 3 * rows // 4, cols // 4, 3 * cols // 4
    moved = a.copy()
    moved[r0:r1, c0:c1] = a[r0:r1, c0 + 3 : c1 + 3]
    x0, y0 = _quiet_spot(refs["V01"])
    posed = _with_disk(dataclasses.replace(image, attenuation=moved), (x0, y0), -0.05)
    strict = ReferenceDetector(refs, max_edge_tolerance_px=1).detect_judged(posed)
    assert strict.deviating is not None and strict.deviating > 0.001
    assert [i for i in strict.indications if not i.extras[EDGE_EXPLAINED]][1:]  # pore and more
    assert detector.zscore(posed).edge_tolerance_px == 3
    judged = detector.detect_judged(posed)
    assert judged.deviating is not None and judged.deviating < strict.deviating / 5
    (pore,) = [i for i in judged.indications if not i.extras[EDGE_EXPLAINED]]
    x, y, w, h = pore.bbox
    assert x <= x0 < x + w and y <= y0 < y + h
    assert pore.extras["edge_tolerance_px"] == 3.0
    assert detector.zscore(image).edge_tolerance_px == 1  # a good part posed in range


def test_a_defect_does_not_widen_the_edge_tolerance(
    series: Path, refs: dict[str, ReferenceView], detector: ReferenceDetector
) -> None:
    """A pore covering more than the settled share of a small view deviates whatever the
    edge tolerance: the view stays at 1 px, where nothing near an edge is explained away."""
    posed = _with_disk(_held_out(series), _quiet_spot(refs["V01"]), -0.05)
    judged = detector.detect_judged(posed)
    assert judged.deviating is not None and judged.deviating > 0.001
    assert detector.zscore(posed).edge_tolerance_px == 1


def test_the_edge_test_at_pixels_equals_the_edge_test_over_the_view(
    series: Path, refs: dict[str, ReferenceView], detector: ReferenceDetector
) -> None:
    """The detector gathers the edge envelope at the pixels it needs (edge_z_points); it
    must give what the window computation (edge_z) gives, to the image's edge."""
    posed = _with_disk(_held_out(series), _quiet_spot(refs["V01"]), -0.05)
    for tolerance in (1, 2, 3):
        score = dataclasses.replace(detector.zscore(posed), edge_tolerance_px=tolerance)
        ys, xs = np.indices(score.z.shape).reshape(2, -1)
        points, whole = score.edge_z_points(ys, xs), score.edge_z
        assert points is not None and whole is not None
        np.testing.assert_allclose(points, whole.ravel(), atol=1e-5)


def test_indications_are_in_the_image_own_pixels(
    series: Path, refs: dict[str, ReferenceView], detector: ReferenceDetector
) -> None:
    """The same disk, on two parts held with different fixturing, is found where it was put."""
    x, y = _quiet_spot(refs["V01"])
    for part in HELD_OUT:
        (ind,) = detector.detect(_with_disk(_held_out(series, "V01", part), (x, y), -0.05))
        cx, cy = ind.centroid
        assert abs(cx - x) < 1.0 and abs(cy - y) < 1.0


def test_a_view_without_reference_is_refused(series: Path, detector: ReferenceDetector) -> None:
    image = _held_out(series)
    other = dataclasses.replace(image, radiograph=image.radiograph.replace(view="V99"))
    with pytest.raises(InputError, match="V99"):
        detector.detect(other)


def test_an_image_of_unknown_name_is_matched_to_its_view(
    series: Path, detector: ReferenceDetector
) -> None:
    from castsight.detect.local import LocalDetector
    from castsight.detect.matcher import ViewMatcher

    matcher = ViewMatcher(detector, LocalDetector())
    assert matcher.name == "reference|local"
    for view in ("V01", "V02"):
        image = _held_out(series, view)
        renamed = dataclasses.replace(image, radiograph=image.radiograph.replace(view="img7"))
        found, cc = detector.match_view(renamed)
        assert found == view and cc > 0.9
        matched, direct = matcher.detect_judged(renamed), detector.detect_judged(image)
        assert matched[:3] == direct[:3]
        assert np.array_equal(matched.detectable, direct.detectable)  # type: ignore[arg-type]
        x, y = _quiet_spot(detector._refs[view])
        pore = _with_disk(renamed, (x, y), -0.05)
        assert [i.detector for i in matcher.detect(pore)] == ["reference"]
    rng = np.random.default_rng(2)
    noise = prepare(Radiograph(rng.integers(1000, 60000, (256, 256)).astype(np.uint16)))
    assert detector.match_view(noise)[0] is None
    assert matcher.detect_judged(noise)[1] == 1.0  # judged by the fallback, whole part


def test_an_image_unlike_its_reference_is_refused(detector: ReferenceDetector) -> None:
    rng = np.random.default_rng(1)
    noise = rng.integers(1000, 60000, (256, 256)).astype(np.uint16)
    with pytest.raises(InputError, match="does not match"):
        detector.detect(prepare(Radiograph(noise, view="V01")))


def test_student_t_maps_to_gaussian_sigmas() -> None:
    assert t_to_sigmas(5.0, 10_000) == pytest.approx(5.0, abs=0.01)
    assert t_to_sigmas(17.1, 7) == pytest.approx(5.0, abs=0.02)
    assert t_to_sigmas(1e6, 7) < 1e6


@pytest.mark.parametrize("diameter", [6.0, 12.0])
def test_a_round_pore_is_sized_at_its_diameter(diameter: float) -> None:
    """A blurred spherical pore (a dome of path length) gets a footprint of its diameter:
    at half depth it would be ~20 % small (a dome), at the 3-sigma support too large."""
    size, r = 96, diameter / 2
    yy, xx = np.mgrid[:size, :size]
    dome = np.sqrt(np.clip(r * r - (yy - 48.0) ** 2 - (xx - 48.0) ** 2, 0.0, None)) / r
    clean = 30000.0 * np.exp(0.15 * cv2.GaussianBlur(dome, (0, 0), 1.0))  # 15 % less metal
    good = (np.log(65535.0) - np.log(np.full((size, size), 30000.0))).astype(np.float32)
    raw = np.random.default_rng(1).poisson(clean).astype(np.uint16)
    img = prepare(Radiograph(raw, view="V01"))
    spread = np.full((size, size), 0.006, np.float32)  # about the smoothed Poisson noise
    ref = ReferenceView("V01", good, spread, np.ones((size, size), bool), 200, 3.3e-5)
    (ind,) = ReferenceDetector({"V01": ref}).detect(img)
    eq_diameter = 2.0 * np.sqrt(ind.area_px / np.pi)
    assert abs(eq_diameter - diameter) <= 1.5


def test_footprints_thinner_than_the_imaging_blur_are_not_defects() -> None:
    """An edge a fraction of a pixel out of place leaves 1-2 px wide lines at half depth;
    a real indication is blurred to 3 px or more across somewhere."""
    from castsight.detect.reference import _wide

    line = np.ones((1, 12), bool)
    double = np.ones((2, 12), bool)
    diagonal = np.eye(8, dtype=bool) | np.eye(8, k=1, dtype=bool)
    yy, xx = np.mgrid[:5, :5]
    small_pore = (yy - 2) ** 2 + (xx - 2) ** 2 <= 2
    assert not _wide(line) and not _wide(double) and not _wide(diagonal)
    assert _wide(small_pore) and _wide(np.ones((3, 3), bool))


def test_a_view_unlike_the_taught_ones_deviates_widely(
    series: Path, detector: ReferenceDetector
) -> None:
    image = _held_out(series)
    assert detector.detect_judged(image).deviating < 0.001  # a good part: next to nothing
    # the same part 3 % larger (nearer the source: magnification the rigid
    # registration cannot undo): every edge deviates, far more than a defect covers
    a = image.attenuation
    rows, cols = a.shape
    grown = cv2.resize(a, None, fx=1.03, fy=1.03, interpolation=cv2.INTER_LINEAR)
    y0, x0 = (grown.shape[0] - rows) // 2, (grown.shape[1] - cols) // 2
    moved = dataclasses.replace(image, attenuation=grown[y0 : y0 + rows, x0 : x0 + cols].copy())
    deviating = detector.detect_judged(moved).deviating
    assert deviating is not None and deviating > 0.01


def test_a_faint_deviation_is_a_weak_candidate_not_an_indication(
    series: Path, refs: dict[str, ReferenceView], detector: ReferenceDetector
) -> None:
    """Between the confirmation threshold and the threshold: a weak candidate, which only
    another view's agreement makes count (the pipeline); past the threshold, never weak."""
    image = _held_out(series)
    spot = _quiet_spot(refs["V01"])
    strong = _with_disk(image, spot, -0.05)
    peak = float(-detector.zscore(strong).z.min())
    t_low, t_high = detector.z_threshold("V01", 3.5), detector.z_threshold("V01")
    faint = _with_disk(image, spot, -0.05 * (t_low + t_high) / 2.0 / peak)
    judged = detector.detect_judged(faint)
    assert judged.indications == []
    (weak,) = judged.weak
    assert weak.extras[WEAK] == 1.0 and 3.5 < weak.significance <= 5.0
    assert detector.detect_judged(strong).weak == ()
    assert ReferenceDetector(refs, confirm_sigmas=None).detect_judged(faint).weak == ()


def test_a_pore_cut_by_the_judged_region_is_measured_whole(
    series: Path, detector: ReferenceDetector
) -> None:
    """A pore straddling the frame's edge band (not judged: the smoothing's reach) is found
    from its judged part and measured with the rest of its deviation: a sliver of two
    rows would look like an edge line and be dropped, or be undersized."""
    image = _held_out(series)
    valid = detector.zscore(image).valid
    x = image.shape[1] // 2
    first = int(np.argmax(valid[:, x]))  # the first judged row there
    assert 0 < first < 8 and image.mask[: first + 8, x - 6 : x + 7].all()
    y = first - 1  # the disk's centre in the band: 4 of its 9 rows judged
    found = detector.detect(_with_disk(image, (x, y), -0.3))
    (ind,) = [i for i in found if abs(i.centroid[0] - x) <= 4]
    bx, by, bw, bh = ind.bbox
    assert by < first and by + bh >= y + 4  # the band's rows belong to it, to the disk's end
    assert bx <= x - 3 and x + 3 < bx + bw
