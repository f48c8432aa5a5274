"""Image quality as ASTM E2597 measures it: SNR in homogeneous part regions, saturation at
the image's own clipping level, and "unknown" where a figure cannot be measured."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from castsight.accept.judge import quality_findings
from castsight.accept.plan import QualityGate
from castsight.preprocess.prepare import prepare
from castsight.radiograph import Acquisition, Radiograph
from castsight.simulate.archive import FILTERS, ArchiveLook, archive_image
from tests.preprocess.views import NORMAL_MAS, as_radiograph, export8, view

LOW_MAS = NORMAL_MAS / 12.5  # castsight simulate --mas 0.02


def _plate(counts: float, rng: np.random.Generator, size: int = 256) -> np.ndarray:
    """Expected counts of a plate with wall steps, a rib and a cored hole (no noise)."""
    t = np.full((size, size), 0.5)
    t[:, size // 3 :] = 0.35  # wall steps
    t[:, 2 * size // 3 :] = 0.6
    t[size // 2 - 4 : size // 2 + 4, :] *= 0.7  # a rib
    cv2.circle(t, (size // 6, size // 4), 12, 0.9, -1)  # a cored hole, thin wall
    t = cv2.GaussianBlur(t, (0, 0), 1.5)
    return np.asarray(t * counts)


def test_snr_falls_as_the_square_root_of_the_dose() -> None:
    """Quantum-limited views 12.5x apart in dose: SNR ratio sqrt(12.5) = 3.54.

    Tolerance: a window of n = 12 x 12 px gives its noise std to 1/sqrt(2 (n - 3)) = 6 %;
    the median of the K >= 40 flattest windows to 1.25 * 6 % / sqrt(40) = 1.2 %; the
    ratio of two such medians to 1.7 %; 10 % is about 6 sigma (and covers the small
    bias from windows chosen at slightly different levels).
    """
    rng = np.random.default_rng(3)
    mean = _plate(40000.0, rng)
    snrs = []
    for dose in (1.0, 1 / 12.5):
        img = rng.poisson(mean * dose).astype(np.uint16)
        q = prepare(Radiograph(img, Acquisition(bit_depth=16))).quality
        assert q.snr is not None and q.snr_unknown is None
        snrs.append(q.snr)
    assert snrs[0] / snrs[1] == pytest.approx(math.sqrt(12.5), rel=0.10)
    # and the figure is mean / noise of the flat walls: sqrt(counts) there
    assert snrs[0] == pytest.approx(math.sqrt(0.5 * 40000.0), rel=0.15)


def test_simulated_low_exposure_view_has_a_clearly_lower_snr() -> None:
    """``castsight simulate --mas 0.02`` against the default 0.25 mA.s, calibrated: SNR
    falls at least as sqrt(12.5) (more behind thick walls, where electronic noise
    weighs in at the low dose); before, the low dose read higher (54 vs 48)."""
    normal, low = view(NORMAL_MAS, size=256), view(LOW_MAS, size=256)
    q_normal = prepare(normal.radiograph, normal.calibration).quality
    q_low = prepare(low.radiograph, low.calibration).quality
    assert q_normal.snr is not None and q_low.snr is not None
    assert q_normal.snr / q_low.snr > 0.9 * math.sqrt(12.5)


@pytest.mark.parametrize("filt", [None, "median", "gauss", "unsharp", "median+unsharp"])
@pytest.mark.parametrize(("lo", "hi", "gamma"), [(0.0, 0.9, 1.0), (0.02, 0.6, 0.5)])
def test_filtered_8bit_exports_are_not_read_as_noisy_or_saturated(
    filt: str | None, lo: float, hi: float, gamma: float
) -> None:
    """8-bit exports of a well exposed view, windowed with air clipped white and filtered
    as X-ray systems write them: the SNR is high or unknown (noise below the 8-bit step,
    or grey levels windowed for display), never low, and clipped air is not saturated part
    (before: SNR 0.6-20, up to 38 %)."""
    u8 = export8(view(NORMAL_MAS, size=256).transmission, filt=filt, lo=lo, hi=hi, gamma=gamma)
    q = prepare(as_radiograph(u8)).quality
    assert q.snr is None or q.snr > 40.0
    if q.snr is None:
        assert q.snr_unknown is not None
        assert "quantisation" in q.snr_unknown or "windowed" in q.snr_unknown
    assert q.clip_level == 255.0 and q.clipped_pct > 40.0  # the air
    assert q.saturated_pct < 0.5


def test_noise_below_the_quantisation_step_is_unknown_not_low() -> None:
    rng = np.random.default_rng(0)
    ramp = np.linspace(20.0, 200.0, 256)[None, :] + np.zeros((256, 1))
    for sigma, measurable in ((0.15, False), (0.0, False), (3.0, True)):
        img = np.clip(np.round(ramp + rng.normal(0.0, sigma, ramp.shape)), 0, 255)
        q = prepare(as_radiograph(img.astype(np.uint8))).quality
        assert (q.snr is not None) == measurable, sigma
        if measurable:  # Sheppard-corrected: mean / sigma of the flattest windows
            assert q.snr is not None and 5.0 < q.snr < 200.0 / 3.0 * 1.1
        else:
            assert q.snr_unknown is not None and "quantisation" in q.snr_unknown


def test_snr_of_8bit_data_stored_in_16_bits_uses_the_real_step() -> None:
    rng = np.random.default_rng(1)
    img = np.full((128, 128), 120.0) + rng.normal(0.0, 0.2, (128, 128))
    u16 = (np.round(img) * 257).astype(np.uint16)  # 8-bit scaled to 16: step 257
    q = prepare(Radiograph(u16, Acquisition(bit_depth=16))).quality
    assert q.quantisation_step == 257.0 and q.snr is None


def _export_with_air(thin_level: float, size: int = 192, gamma: float = 1.0) -> np.ndarray:
    """8-bit export: a plate (grey 110) in clipped air with a bored hole (its rim thins
    gradually into the hole, as a bore's wall does), and a thin flange (grey 235) in the
    plate with a thinner spot whose centre reaches ``thin_level`` (above 255: burnt out,
    clipped); ``gamma`` > 1 brightens the blurred rims as displays do."""
    img = np.full((size, size), 300.0)  # air, clipped white
    img[24:-24, 24:-24] = 110.0
    yy, xx = np.mgrid[0:size, 0:size]
    bore = np.hypot(yy - 64.0, xx - 64.0)  # air inside 12 px, the plate's 110 from 38 px
    img = np.where(bore < 38, 110.0 + 190.0 * np.clip((38.0 - bore) / 26.0, 0, 1), img)
    r = np.hypot(yy - 120.0, xx - 132.0)
    img = np.where(r < 32, 235.0, img)  # the thin flange
    img = np.where(r < 22, 235.0 + (thin_level - 235.0) * (1 - r / 22.0), img)
    img = np.asarray(cv2.GaussianBlur(img.astype(np.float32), (0, 0), 2.5), np.float64)
    img += np.random.default_rng(2).normal(0.0, 1.0, img.shape)
    img = 255.0 * np.clip(img / 255.0, 0.0, 1.0) ** (1.0 / gamma)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("gamma", [1.0, 1.8])
def test_clipped_air_is_not_saturated_part(gamma: float) -> None:
    """The air around the part and in a cored hole is clipped white by the window; the
    hole's blurred rim, brightened by the gamma, runs into the clip gradually, yet it is
    air (before: 4.7 % of this part, and 4-28 % of archive parts, read as clipped part)."""
    q = prepare(as_radiograph(_export_with_air(thin_level=200.0, gamma=gamma))).quality
    assert q.clip_level == 255.0 and q.clipped_pct > 40.0
    assert q.saturated_pct == 0.0


def test_clipped_part_is_saturated_part() -> None:
    q = prepare(as_radiograph(_export_with_air(thin_level=400.0))).quality
    assert q.clip_level == 255.0
    assert 1.0 < q.saturated_pct < 10.0  # the burnt-out centre of the flange, not the air


@pytest.mark.parametrize("filt", FILTERS)
def test_archive_views_are_measured_or_unknown_never_noisy_or_over_exposed(filt: str) -> None:
    """Views as the foreign suite's archives hold them (window with the air clipped white,
    a gamma of 1.7 that brightens every rim, a 3x3 median, an unsharp mask of amount 1.5 or
    a smoothing, 8 bits): no low SNR and no over-exposure, so the plan's gate passes them
    (before: the unsharp-masked view read SNR 6.2 < 20)."""
    trans = view(NORMAL_MAS / 40, size=256).transmission  # a low dose: the noise shows
    look = ArchiveLook(white=0.88, black=0.5, gamma=1.7, filter=filt,
                       strength={"median": 0.0, "unsharp": 1.5, "smooth": 0.8}[filt])  # fmt: skip
    u8 = archive_image(trans, open_beam=1.0, look=look)
    q = prepare(as_radiograph(u8)).quality
    assert q.clip_level == 255.0 and q.saturated_pct < 1.0
    assert q.snr is None and q.snr_unknown is not None
    assert "windowed" in q.snr_unknown or "quantisation" in q.snr_unknown
    assert quality_findings(q, QualityGate(), "V01", "REVIEW") == []


def test_unwindowed_noisy_8bit_view_still_reads_low() -> None:
    """The SNR gate still works on 8-bit data that was not windowed (no clipped plateau):
    a plate at grey 100 with noise of 10 grey levels has SNR 10."""
    rng = np.random.default_rng(4)
    img = np.clip(np.round(rng.normal(100.0, 10.0, (128, 128))), 1, 254).astype(np.uint8)
    q = prepare(as_radiograph(img)).quality
    assert q.snr is not None and q.snr == pytest.approx(10.0, rel=0.15)


def test_clipping_below_full_scale_is_found_and_lone_hot_pixels_are_not() -> None:
    u8 = _export_with_air(thin_level=200.0)
    dim = np.minimum(u8, 240).astype(np.uint8)  # a system whose white is 240
    q = prepare(as_radiograph(dim)).quality
    assert q.clip_level == 240.0 and q.saturated_pct == 0.0
    rng = np.random.default_rng(0)
    raw = rng.poisson(np.full((128, 128), 20000.0)).astype(np.uint16)
    raw.flat[rng.choice(raw.size, 20, replace=False)] = 65535  # hot pixels
    q = prepare(Radiograph(raw, Acquisition(bit_depth=16))).quality
    assert q.clip_level is None and q.clipped_pct == 0.0


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_all_saturated_view_has_no_part_and_is_clipped(dtype: type) -> None:
    top = np.iinfo(dtype).max
    q = prepare(Radiograph(np.full((64, 64), top, dtype))).quality
    assert q.part_pct == 0.0 and q.clipped_pct == 100.0 and q.clip_level == float(top)
    assert q.snr is None and q.snr_unknown == "no part in the view"
