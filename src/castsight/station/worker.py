"""What runs in a worker process: each cell's Inspector (built once per process by
:func:`start_worker`) and one part through it (:func:`inspect_part`).

Jobs and results are plain data (the record's JSON object), so a worker can die or be
replaced without taking anything but its part with it.

>>> import tempfile, numpy as np
>>> from castsight.io import write_radiograph
>>> from castsight.radiograph import Radiograph
>>> folder = Path(tempfile.mkdtemp())
>>> px = np.random.default_rng(0).poisson(np.full((96, 96), 20000.0)).astype(np.uint16)
>>> view = write_radiograph(Radiograph(px), folder / "V01.tif")
>>> start_worker([{"name": "c1", "part_type": "generic", "detector": "local"}])
>>> record = inspect_part(InspectJob("c1", "P1", "generic", (("V01", str(view)),)))
>>> record["serial"], record["sentence"]
('P1', 'OK')
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from castsight.station.settings import CellSettings

if TYPE_CHECKING:
    from castsight.pipeline import Inspector


@dataclass(frozen=True)
class InspectJob:
    """One part to inspect: its cell, serial, type and views (name, archived file)."""

    cell: str
    serial: str
    part_type: str
    views: tuple[tuple[str, str], ...]


_inspectors: dict[str, Inspector] = {}
"""This worker process's Inspector per cell (set once by :func:`start_worker`)."""


def build_cell_inspector(cell: CellSettings) -> Inspector:
    """The Inspector of ``cell``: its plan, active model, detector mode, expected views.

    Raises
    ------
    CastsightError
        The plan or the model cannot be loaded, or do not fit each other.
    """
    from castsight.app import InspectOptions, build_inspector

    options = InspectOptions(
        plan=cell.plan,
        model=cell.model,
        detector=cell.detector,
        calibration=cell.calibration,
        workers=1,
    )
    inspector = build_inspector(options)
    if cell.expected_views:
        inspector.expected_views = list(cell.expected_views)
    return inspector


def start_worker(cells: list[dict[str, Any]], server_pid: int | None = None) -> None:
    """Process initializer: build each cell's Inspector (``cells``: CellSettings dumps);
    with ``server_pid``, the worker ends itself once that process is gone (a station
    killed with -9 leaves no worker behind)."""
    if server_pid is not None:
        threading.Thread(target=_end_with, args=(server_pid,), daemon=True).start()
    _inspectors.clear()
    for data in cells:
        cell = CellSettings.model_validate(data)
        _inspectors[cell.name] = build_cell_inspector(cell)


def _end_with(server_pid: int, every_s: float = 1.0) -> None:
    while True:
        time.sleep(every_s)
        try:
            os.kill(server_pid, 0)
        except ProcessLookupError:
            os._exit(70)
        except PermissionError:  # alive, someone else's now: only after pid reuse
            os._exit(70)


def inspect_part(job: InspectJob) -> dict[str, Any]:
    """Inspect one part; its ``castsight.record/1`` object (every part gets one)."""
    from castsight.io.parts import PartSource, ViewSource

    part = PartSource(
        job.serial, job.part_type, tuple(ViewSource(name, Path(path)) for name, path in job.views)
    )
    record: dict[str, Any] = _inspectors[job.cell].inspect(part).to_dict()
    return record


__all__ = ["InspectJob", "build_cell_inspector", "inspect_part", "start_worker"]
