"""Cells that inspect alike (same plan, detector, calibration, expected views, model)
share one Inspector in each worker: ten cells of one part type with a 28-view model of
1536 px held ten copies of it (about 2 GB each) per worker, more than the machine has
(found by benchmarks/station_load.py)."""

from __future__ import annotations

from pathlib import Path

from castsight.station import worker
from castsight.station.settings import CellSettings
from castsight.station.worker import InspectJob, inspect_part, inspection_key, start_worker
from tests.station.builders import view_bytes


def test_cells_that_inspect_alike_share_an_inspector(tmp_path: Path) -> None:
    view = tmp_path / "V01.tif"
    view.write_bytes(view_bytes())
    cells = [
        {"name": name, "part_type": "generic", "detector": "local", "plan": "generic"}
        for name in ("a", "b")
    ] + [{"name": "c", "part_type": "generic", "detector": "local", "expected_views": ["V01"]}]
    start_worker(cells)
    assert len(worker._inspectors) == 2  # a and b alike; c expects its views
    for cell in ("a", "b", "c"):
        record = inspect_part(InspectJob(cell, f"P-{cell}", "generic", (("V01", str(view)),)))
        assert record["serial"] == f"P-{cell}"
    assert len(worker._inspectors) == 2
    a, c = (CellSettings.model_validate(cells[k]) for k in (0, 2))
    assert inspection_key(a) != inspection_key(c)
