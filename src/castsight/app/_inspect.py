"""Inspect parts: one record per part, streamed, and the run's files.

>>> import tempfile, numpy as np
>>> from pathlib import Path
>>> from castsight.app import InspectOptions, build_inspector
>>> from castsight.io import write_radiograph
>>> from castsight.io.parts import discover_parts
>>> from castsight.radiograph import Radiograph
>>> root = Path(tempfile.mkdtemp())
>>> (root / "P1").mkdir()
>>> px = np.random.default_rng(0).poisson(np.full((96, 96), 20000.0)).astype(np.uint16)
>>> _ = write_radiograph(Radiograph(px, view="V01"), root / "P1" / "V01.tif")
>>> inspector = build_inspector(InspectOptions(detector="local"))
>>> out = root / "run"
>>> [r.sentence for r in inspect_parts(discover_parts([root]), inspector, out=out)]
['OK']
>>> sorted(p.name for p in out.iterdir())
['predictions.json', 'records.jsonl']
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from castsight.app.progress import Progress
from castsight.io.parts import PartSource
from castsight.pipeline import InspectionRecord, Inspector

ERROR_STATUSES = ("unreadable", "error")
"""View statuses that are errors (said, and exit code 3 in the CLI), not inspection results."""
ERROR_RULES = ("views", "error")
"""Part findings that are errors: the view set is wrong, or the inspection failed."""
STAGE = "inspecting parts"


def inspect_parts(
    parts: Sequence[PartSource],
    inspector: Inspector,
    *,
    out: Path | None = None,
    image_root: Path | None = None,
    progress: Progress | None = None,
) -> Iterator[InspectionRecord]:
    """Inspect ``parts`` one by one, yielding each part's record as it is done.

    Parameters
    ----------
    parts : sequence of PartSource
        From :func:`castsight.io.parts.discover_parts`.
    inspector : Inspector
        From :func:`build_inspector`.
    out : Path, optional
        A folder (made if missing): ``records.jsonl`` gets each record before it is
        yielded (a crash loses no earlier part); ``predictions.json`` (COCO results)
        is written once the last part is done.
    image_root : Path, optional
        The folder COCO file names are relative to (:func:`image_root`).
    progress : Progress, optional
        Called with ``("inspecting parts", done, len(parts))``, first with 0.

    Yields
    ------
    InspectionRecord
        One per part, in order; every part gets one (fail-safe).
    """
    from castsight.report.records import append_record, coco_predictions, write_predictions

    records_path = None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        records_path = out / "records.jsonl"
        records_path.write_text("", encoding="utf-8")
    predictions: list[dict[str, Any]] = []
    if progress is not None:
        progress(STAGE, 0, len(parts))
    for done, part in enumerate(parts, start=1):
        record = inspector.inspect(part)
        if records_path is not None:
            append_record(records_path, record.to_dict())
            predictions += coco_predictions(record, image_root)
        yield record
        if progress is not None:
            progress(STAGE, done, len(parts))
    if out is not None:
        write_predictions(out / "predictions.json", predictions)


def record_errors(record: InspectionRecord) -> list[str]:
    """What errored in a part's record, one line each: views that could not be read or
    inspected (``VIEW_PATH: why``), a wrong view set or a failed inspection (``part SERIAL:
    why``). Empty when the part was inspected; NG and REVIEW are results, not errors."""
    said = [f"{v.path}: {v.error}" for v in record.views if v.status in ERROR_STATUSES]
    said += [f"part {record.serial}: {f.message}" for f in record.findings
             if f.rule in ERROR_RULES]  # fmt: skip
    return said


def image_root(inputs: Sequence[Path]) -> Path | None:
    """The folder COCO file names are relative to: the one folder of parts given (the
    parent of one part folder given, so names read ``SERIAL/VIEW.tif`` as in truth.json)."""
    from castsight.io.parts import is_part_folder

    if len(inputs) != 1 or not inputs[0].is_dir():
        return None
    return inputs[0].absolute().parent if is_part_folder(inputs[0]) else inputs[0]


def default_calibration(inputs: Sequence[Path]) -> Path | None:
    """``INPUT/_calibration`` of the first input folder that has one."""
    for root in inputs:
        cand = root / "_calibration"
        if root.is_dir() and cand.is_dir():
            return cand
    return None


__all__ = ["default_calibration", "image_root", "inspect_parts",
           "record_errors"]  # fmt: skip
