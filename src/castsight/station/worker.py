"""What runs in a worker process: each cell's Inspector per model (the active one built
by :func:`start_worker`, another when a job first names it; the folder must hash to the
sha256 it was activated with) and one part through it (:func:`inspect_part`).

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

import contextlib
import json
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
class ModelRef:
    """The model a part is inspected with: its folder and the content sha256 it was
    activated with (the folder must still hash to it)."""

    path: str
    sha256: str


@dataclass(frozen=True)
class InspectJob:
    """One part to inspect: its cell, serial, type, views (name, archived file) and the
    model active for its part type when its inspection started (None: no model)."""

    cell: str
    serial: str
    part_type: str
    views: tuple[tuple[str, str], ...]
    model: ModelRef | None = None


class ModelRefusedError(Exception):
    """The model a job names cannot be used: its folder no longer hashes to the activated
    sha256, or it does not load. One plain message (it crosses the process boundary)."""


_cells: dict[str, CellSettings] = {}
"""This worker process's cells (set by :func:`start_worker`)."""
_inspectors: dict[tuple[str, str], Inspector] = {}
"""This worker process's Inspectors by (:func:`inspection_key` of the cell, model sha256
or ``""``): cells that inspect alike share one (a 28-view model of 1536 px is about
2 GB in memory); the newest :data:`KEEP_MODELS` per inspection are kept."""
KEEP_MODELS = 2
"""Inspectors kept per inspection: the active model's and the previous one's (parts in
flight at an activation finish with the model they started with)."""


def inspection_key(cell: CellSettings) -> str:
    """What an Inspector of ``cell`` depends on besides the model: plan, detector mode,
    calibration, expected views (not the cell's name, token, folder or part type).

    >>> a = CellSettings(name="a", part_type="t", plan="generic")
    >>> inspection_key(a) == inspection_key(a.model_copy(update={"name": "b"}))
    True
    """
    fields = {"plan", "detector", "calibration", "expected_views"}
    return json.dumps(cell.model_dump(mode="json", include=fields), sort_keys=True)


def build_cell_inspector(cell: CellSettings, model: ModelRef | None = None) -> Inspector:
    """The Inspector of ``cell``: its plan, detector mode, expected views, and ``model``
    (None: the settings' ``cell.model``), checked against the sha256 it was activated with.

    Raises
    ------
    ModelRefusedError
        ``model``'s folder does not load, or hashes to another sha256 than its own.
    CastsightError
        The plan or the settings' model cannot be loaded, or do not fit each other.
    """
    from castsight.app import InspectOptions, build_inspector
    from castsight.errors import CastsightError

    if not uses_model(cell):
        model = None
    options = InspectOptions(
        plan=cell.plan,
        model=Path(model.path) if model is not None else cell.model,
        detector=cell.detector,
        calibration=cell.calibration,
        workers=1,
    )
    try:
        inspector = build_inspector(options)
    except CastsightError as err:
        if model is None:
            raise
        raise ModelRefusedError(f"model {model.sha256[:12]} refused: {err}") from None
    if model is not None:
        found = (inspector.model_info or {}).get("sha256")
        if found != model.sha256:
            raise ModelRefusedError(
                f"model {model.sha256[:12]} refused: {model.path} now hashes to "
                f"{found or 'no model'}, not the activated {model.sha256} (changed since)"
            )
    if cell.expected_views:
        inspector.expected_views = list(cell.expected_views)
    return inspector


def uses_model(cell: CellSettings) -> bool:
    """Whether the cell's detector mode reads a model (``local`` does not).

    >>> uses_model(CellSettings(name="c", part_type="t", detector="local"))
    False
    """
    from castsight.app.detectors import check_detector

    needs: str = check_detector(cell.detector).model
    return needs != "none"


def start_worker(
    cells: list[dict[str, Any]],
    server_pid: int | None = None,
    models: dict[str, tuple[str, str] | None] | None = None,
) -> None:
    """Process initializer: build each cell's Inspector (``cells``: CellSettings dumps)
    with its active model (``models``: per cell ``(path, sha256)``; a cell left out has
    none: the settings' model is the station's to activate, at its start); with
    ``server_pid``, the worker ends itself once that process is gone (a station killed
    with -9 leaves no worker behind). A model refused here is refused again, with its
    reason, for each part that names it."""
    if server_pid is not None:
        threading.Thread(target=_end_with, args=(server_pid,), daemon=True).start()
    _inspectors.clear()
    _cells.clear()
    for data in cells:
        cell = CellSettings.model_validate(data)
        _cells[cell.name] = cell
        found = (models or {}).get(cell.name)
        with contextlib.suppress(ModelRefusedError):  # refused again, part by part
            _inspector(cell.name, ModelRef(*found) if found is not None else None)


def _inspector(cell: str, model: ModelRef | None) -> Inspector:
    """The cell's Inspector for ``model`` (None: none), built and kept on first use (and
    shared with the cells that inspect alike)."""
    inspection = inspection_key(_cells[cell])
    key = (inspection, model.sha256 if model is not None else "")
    found = _inspectors.pop(key, None)
    if found is None:
        settings = _cells[cell].model_copy(update={"model": None})
        found = build_cell_inspector(settings, model)
    _inspectors[key] = found  # newest last
    alike = [k for k in _inspectors if k[0] == inspection]
    for old in alike[:-KEEP_MODELS]:
        del _inspectors[old]
    return found


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
    record: dict[str, Any] = _inspector(job.cell, job.model).inspect(part).to_dict()
    return record


__all__ = [
    "KEEP_MODELS",
    "InspectJob",
    "ModelRef",
    "ModelRefusedError",
    "build_cell_inspector",
    "inspect_part",
    "inspection_key",
    "start_worker",
    "uses_model",
]
