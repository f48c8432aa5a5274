"""The fail-safe on 8-bit archives: the untaught ``local`` detector says where it judged,
and a view it could not judge is never sentenced OK by finding nothing (issue 14)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from castsight.accept.plan import load_plan
from castsight.io.parts import discover_parts
from castsight.pipeline import Inspector
from tests.detect.test_local import LOOKS, _archive, _bar, _crossing, called


def _write(folder: Path, view: str, thickness: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pixels = _archive(thickness, LOOKS["median"]).pixels
    assert pixels.dtype == np.uint8
    assert cv2.imwrite(str(folder / f"{view}.png"), pixels)


def test_an_archive_view_mostly_near_air_with_nothing_found_is_not_ok(tmp_path: Path) -> None:
    """A narrow bar with cored holes, nothing found: the rings of the blob sizes sought lie
    on air over much of it, so REVIEW by the generic plan's ``quality.min_judged_pct``
    (a view the detector could not judge is never OK by finding nothing)."""
    _write(tmp_path / "P1", "V01", _bar())
    record = Inspector(load_plan("generic")).inspect(discover_parts([tmp_path])[0])
    view = record.views[0]
    assert called(list(view.indications)) == []
    assert view.judged_pct is not None and view.judged_pct < 90.0
    assert record.sentence == "REVIEW"
    assert {f.rule for f in record.findings} == {"quality.min_judged_pct"}
    assert "judged" in record.findings[0].message


def test_structure_in_an_archive_view_is_judged(tmp_path: Path) -> None:
    """A plate with a wall step, ribs crossing and a boss: the rings lie on the part, the
    classifier weighs the structure in them, the view counts as judged (over 90 %)."""
    _write(tmp_path / "P1", "V01", _crossing())
    record = Inspector(load_plan("generic")).inspect(discover_parts([tmp_path])[0])
    assert record.views[0].judged_pct is not None and record.views[0].judged_pct >= 90.0


def test_a_plain_archive_view_with_nothing_found_is_ok(tmp_path: Path) -> None:
    """A plain plate: judged whole, nothing found, OK (the gate is not a blanket REVIEW)."""
    _write(tmp_path / "P1", "V01", np.full((240, 320), 8.0))
    record = Inspector(load_plan("generic")).inspect(discover_parts([tmp_path])[0])
    assert record.views[0].judged_pct is not None and record.views[0].judged_pct >= 97.0
    assert record.sentence == "OK", [f.message for f in record.findings]


def test_candidates_below_the_call_are_reported_and_never_judged(tmp_path: Path) -> None:
    """A pore on a plain plate with the call set out of reach: the pore is still reported
    (below the call, in the records and the COCO results, for precision-recall curves),
    but no rule counts it: the part is OK, not NG for a pore over the limit."""
    from castsight.detect.base import BELOW_CALL
    from castsight.detect.local import LocalDetector, LocalSettings
    from castsight.report.records import coco_predictions
    from tests.detect.test_local import _pore

    _write(tmp_path / "P1", "V01", _pore(np.full((240, 320), 8.0), 120.0, 160.0, 6.0))
    unreachable = LocalDetector(LocalSettings(call_score=1.0))
    part = discover_parts([tmp_path])[0]
    record = Inspector(load_plan("generic"), detector_for=lambda _: unreachable).inspect(part)
    found = record.views[0].indications
    assert found and all(i.extras.get(BELOW_CALL) for i in found)
    assert record.sentence == "OK", [f.message for f in record.findings]
    assert len(coco_predictions(record, tmp_path)) == len(found)  # in the COCO results
    called = Inspector(load_plan("generic")).inspect(part)
    assert called.sentence == "NG"  # the same pore called: over the generic 12 px pore limit
