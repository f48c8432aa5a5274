"""The quality gate: REVIEW only for views a person could not read either."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from castsight.accept.judge import (
    coverage_findings,
    deviation_findings,
    quality_findings,
    quality_record,
)
from castsight.accept.plan import QualityGate, load_plan
from castsight.preprocess.noise import NoiseEstimate
from castsight.preprocess.prepare import ImageQuality, prepare
from castsight.radiograph import Acquisition, Radiograph
from tests.preprocess.views import NORMAL_MAS, as_radiograph, export8, view

GATE = load_plan("generic").quality
NOISE = NoiseEstimate(1.0, 0.0, 0.0, 0.0)


def _q(**kw: object) -> ImageQuality:
    base: dict[str, object] = dict(
        signal_fraction=0.4, saturated_pct=0.0, over_range_pct=0.0, snr=80.0,
        part_pct=60.0, noise=NOISE,
    )  # fmt: skip
    base.update(kw)
    return ImageQuality(**base)  # type: ignore[arg-type]


def test_unknown_snr_is_never_a_finding_and_is_recorded_with_why() -> None:
    q = _q(snr=None, snr_unknown="noise below 0.5 quantisation step")
    assert quality_findings(q, GATE, "V01", "REVIEW") == []
    rec = quality_record(q, GATE)
    assert rec["snr"] is None and rec["snr_unknown"] == "noise below 0.5 quantisation step"
    json.dumps(rec, allow_nan=False)  # valid JSON: no NaN


def test_record_keeps_the_old_keys() -> None:
    rec = quality_record(_q(), GATE)
    assert {"signal_fraction", "saturated_pct", "over_range_pct", "snr", "part_pct"} <= set(rec)


def test_low_snr_is_gated() -> None:
    (f,) = quality_findings(_q(snr=8.0), GATE, "V01", "REVIEW")
    assert f.rule == "quality.min_snr" and f.sentence == "REVIEW"


def test_normalised_snr_uses_the_plan_srb_or_the_pixel_pitch() -> None:
    q = _q(snr=100.0, pixel_pitch_um=177.2)
    assert quality_record(q, GATE)["snr_normalised"] == pytest.approx(50.0)
    gate = QualityGate(min_snr_normalised=70.0, basic_spatial_resolution_um=88.6)
    assert quality_record(q, gate)["snr_normalised"] == pytest.approx(100.0)
    assert quality_findings(q, gate, "V01", "REVIEW") == []
    (f,) = quality_findings(q, QualityGate(min_snr_normalised=70.0), "V01", "REVIEW")
    assert f.rule == "quality.min_snr_normalised"
    no_pitch = _q(snr=100.0)  # resolution unknown: SNR_N unknown, not gated
    assert quality_record(no_pitch, GATE)["snr_normalised"] is None
    assert quality_findings(no_pitch, QualityGate(min_snr_normalised=70.0), "V01", "NG") == []


@pytest.mark.parametrize(("dtype", "calibrated"), [(np.uint8, False), (np.uint16, False),
                                                    (np.uint16, True)])  # fmt: skip
def test_all_saturated_view_gets_one_clear_finding(dtype: type, calibrated: bool) -> None:
    """Before: "under-exposed" and "over-exposed" at once."""
    from castsight.preprocess.prepare import Calibration

    top = np.iinfo(dtype).max
    cal = None
    if calibrated:
        cal = Calibration(
            dark=np.full((64, 64), 1000, np.float32), flat=np.full((64, 64), 30000, np.float32)
        )
    q = prepare(Radiograph(np.full((64, 64), top, dtype)), cal).quality
    (f,) = quality_findings(q, GATE, "V01", "REVIEW")
    assert f.rule == "quality.min_part_pct" and "over-exposed" in f.message
    assert "under-exposed" not in f.message


def test_black_view_is_under_exposed_once() -> None:
    q = prepare(Radiograph(np.zeros((64, 64), np.uint16), Acquisition(bit_depth=16))).quality
    (f,) = quality_findings(q, GATE, "V01", "REVIEW")
    assert "under-exposed" in f.message


@pytest.mark.parametrize("filt", [None, "median", "gauss", "unsharp", "median+unsharp"])
def test_filtered_8bit_archive_view_passes_the_gate(filt: str | None) -> None:
    """What the held-out 8-bit archives are: well exposed, windowed, filtered."""
    u8 = export8(view(NORMAL_MAS, size=256).transmission, filt=filt)
    q = prepare(as_radiograph(u8)).quality
    assert quality_findings(q, GATE, "V01", "REVIEW") == []


def test_low_exposure_view_is_gated_when_below_the_plans_minimum() -> None:
    normal, low = view(NORMAL_MAS, size=256), view(NORMAL_MAS / 12.5, size=256)
    q_normal = prepare(normal.radiograph, normal.calibration).quality
    q_low = prepare(low.radiograph, low.calibration).quality
    assert q_normal.snr is not None and q_low.snr is not None
    gate = QualityGate(min_snr=math.sqrt(q_normal.snr * q_low.snr))  # between the two
    assert quality_findings(q_normal, gate, "V01", "REVIEW") == []
    assert [f.rule for f in quality_findings(q_low, gate, "V01", "REVIEW")] == ["quality.min_snr"]


def test_coverage_gate_at_and_under_min_judged_pct() -> None:
    gate = QualityGate(min_judged_pct=90.0)
    kw = {"view": "V01", "detector": "reference", "on_fail": "REVIEW"}
    assert coverage_findings(90.0, gate, **kw) == []  # type: ignore[arg-type]
    (f,) = coverage_findings(89.99, gate, **kw)  # type: ignore[arg-type]
    assert (f.rule, f.sentence, f.view) == ("quality.min_judged_pct", "REVIEW", "V01")
    assert "reference detector judged 90.0 %" in f.message  # rounded for the message only


def test_deviation_gate_at_and_over_max_deviating_pct() -> None:
    gate = QualityGate(max_deviating_pct=1.0)
    assert deviation_findings(1.0, gate, view="V01", on_fail="NG") == []
    assert deviation_findings(None, gate, view="V01", on_fail="NG") == []
    (f,) = deviation_findings(1.001, gate, view="V01", on_fail="NG")
    assert (f.rule, f.sentence) == ("quality.max_deviating_pct", "NG")
