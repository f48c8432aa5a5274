"""The fail-safe on 8-bit archives: the untaught ``local`` detector says where it judged,
and a view it could not judge is never sentenced OK by finding nothing (issue 14)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from castsight.accept.plan import load_plan
from castsight.io.parts import discover_parts
from castsight.pipeline import Inspector
from tests.detect.test_local import LOOKS, _archive, _crossing


def _write(folder: Path, view: str, thickness: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pixels = _archive(thickness, LOOKS["median"]).pixels
    assert pixels.dtype == np.uint8
    assert cv2.imwrite(str(folder / f"{view}.png"), pixels)


def test_an_archive_view_with_structure_and_nothing_found_is_not_ok(tmp_path: Path) -> None:
    """A plate with a rib crossing and a boss, nothing found: REVIEW by the generic plan's
    ``quality.min_judged_pct`` (before: OK, the detector claimed the whole part)."""
    _write(tmp_path / "P1", "V01", _crossing())
    record = Inspector(load_plan("generic")).inspect(discover_parts([tmp_path])[0])
    view = record.views[0]
    assert view.indications == ()
    assert view.judged_pct is not None and view.judged_pct < 90.0
    assert record.sentence == "REVIEW"
    assert {f.rule for f in record.findings} == {"quality.min_judged_pct"}
    assert "judged" in record.findings[0].message


def test_a_plain_archive_view_with_nothing_found_is_ok(tmp_path: Path) -> None:
    """A plain plate: judged whole, nothing found, OK (the gate is not a blanket REVIEW)."""
    _write(tmp_path / "P1", "V01", np.full((240, 320), 8.0))
    record = Inspector(load_plan("generic")).inspect(discover_parts([tmp_path])[0])
    assert record.views[0].judged_pct is not None and record.views[0].judged_pct >= 97.0
    assert record.sentence == "OK", [f.message for f in record.findings]
