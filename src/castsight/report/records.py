"""Machine-readable outputs: a part's record (:class:`InspectionRecord`, made by
:class:`castsight.pipeline.Inspector`), as JSON Lines, and COCO results.

``records.jsonl`` has one ``castsight.record/1`` object per part (schema in
docs/design/record-schema.md); ``predictions.json`` is a COCO results list
(file_name, bbox [x, y, w, h], score, category_id, RLE segmentation), with
file names relative to the inspected root, so they match the simulator's
``truth.json``.

>>> round_floats({"a": 1.23456789, "b": [2.0000001]})
{'a': 1.234568, 'b': [2.0]}
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pycocotools import mask as mask_utils

from castsight import __version__
from castsight.accept.judge import Finding
from castsight.detect.base import Indication
from castsight.measure import Measurement
from castsight.measure.material import VoidAttenuation
from castsight.measure.multiview import Confirmation

SCHEMA = "castsight.record/1"


@dataclass(frozen=True, eq=False)
class ViewResult:
    """What happened to one view."""

    view: str
    path: str
    status: str
    """inspected | unreadable | failed_quality | unmeasurable | error"""
    error: str | None = None
    sha256: str | None = None
    pixel_sha256: str | None = None
    """sha256 of the pixels (:func:`~castsight.io.files.pixel_sha256`): a view identical
    to another, whatever file holds it."""
    detector: str | None = None
    shape: tuple[int, int] | None = None
    pixel_size_mm: float | None = None
    quality: dict[str, float | str | None] | None = None
    judged_pct: float | None = None
    """Share of the part's pixels the detector judged (%); the rest was not inspected."""
    deviating_pct: float | None = None
    """Share of the judged pixels that deviate from the learned good parts (%; detectors
    with a reference only): over ``quality.max_deviating_pct`` the view is not like the
    taught ones (posed outside their range, or another part)."""
    indications: tuple[Indication, ...] = ()
    measurements: tuple[Measurement, ...] = ()
    zones: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    projection: tuple[tuple[float, ...], ...] | None = None
    """The view's nominal geometry (``Acquisition.projection``), when known."""
    confirmations: tuple[Confirmation, ...] = ()
    """Per indication: the views that saw it, where it lies in the part, which views
    covered it (:func:`castsight.measure.multiview.confirm`); empty when not matched."""
    detectable: NDArray[np.float32] | None = field(default=None, repr=False)
    """The detector's :attr:`~castsight.detect.base.Judged.detectable` map (not recorded)."""
    unconfirmed: tuple[str, ...] = ()
    """Ids of indications other views looked at but did not confirm (fewer than the
    zone's ``min_views``): kept in the record, not judged."""
    weak: tuple[Indication, ...] = field(default=(), repr=False)
    """The detector's weak candidates (:attr:`~castsight.detect.base.Judged.weak`), until
    the multi-view confirmation makes those other views saw indications (not recorded)."""
    backgrounds: tuple[float, ...] | None = field(default=None, repr=False)
    """Local attenuation under each indication, then each weak candidate (calibrated
    views; for measuring confirmed weak candidates with the rest)."""
    void_attenuation: VoidAttenuation | None = field(default=None, repr=False)
    """The alloy's ``mu_eff`` for the view's tube (:mod:`castsight.measure.material`;
    None: kV or filter unknown): what tells a light inclusion from a pore."""

    def ids(self) -> list[str]:
        """Indication ids, ``VIEW#k``."""
        return [f"{self.view}#{k}" for k in range(len(self.indications))]


@dataclass(frozen=True, eq=False)
class InspectionRecord:
    """The outcome for one part; ``to_dict`` is the JSON Lines record."""

    serial: str
    part_type: str | None
    sentence: str
    findings: tuple[Finding, ...]
    views: tuple[ViewResult, ...]
    timings: dict[str, float]
    plan: dict[str, str]
    model: dict[str, str] | None
    inspected_at: str

    def to_dict(self) -> dict[str, Any]:
        """The ``castsight.record/1`` JSON object (see docs/design/record-schema.md)."""
        return record_dict(self)


def round_floats(value: Any, digits: int = 6) -> Any:
    """Round floats in nested JSON data (and turn non-finite floats into None)."""
    if isinstance(value, float):
        return round(value, digits) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: round_floats(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [round_floats(v, digits) for v in value]
    return value


def _indications(view: ViewResult) -> list[dict[str, Any]]:
    out = []
    for k, (ind, m) in enumerate(zip(view.indications, view.measurements, strict=True)):
        out.append(
            {
                "id": f"{view.view}#{k}",
                "bbox": list(ind.bbox),
                "score": ind.score,
                "significance": ind.significance,
                "polarity": ind.polarity,
                "detector": ind.detector,
                "kind": m.kind,
                "category_id": m.category_id,
                "zone": view.zones[k] if k < len(view.zones) else "whole",
                "area_px": m.area_px,
                "area_mm2": m.area_mm2,
                "eq_diameter_px": m.eq_diameter_px,
                "eq_diameter_mm": m.eq_diameter_mm,
                "max_length_px": m.max_length_px,
                "max_length_mm": m.max_length_mm,
                "blur_excess_px": m.blur_excess_px,
                "fitted_diameter_px": m.fitted_diameter_px,
                "fitted_amplitude": m.fitted_amplitude,
                "void_share": m.void_share,
                "aspect_ratio": m.aspect_ratio,
                "contrast": m.contrast,
                "wall_loss_pct": m.wall_loss_pct,
                "cluster": m.cluster,
                "cluster_extent_mm": m.cluster_extent_mm,
                "nn_spacing_px": m.nn_spacing_px,
                "nn_spacing_mm": m.nn_spacing_mm,
                **_seen(view, k),
                **{f"extra_{key}": val for key, val in ind.extras.items()},
            }
        )
    return out


def _seen(view: ViewResult, k: int) -> dict[str, Any]:
    """Which views saw indication ``k``, where it lies in the part, whether it counted."""
    if k >= len(view.confirmations):
        return {"views": [view.view], "part_mm": None, "looked": [], "confirmed": None}
    conf = view.confirmations[k]
    return {
        "views": list(conf.views),
        "part_mm": list(conf.part_mm) if conf.part_mm is not None else None,
        "looked": list(conf.seen_at_point),
        "confirmed": f"{view.view}#{k}" not in view.unconfirmed,
    }


def record_dict(record: InspectionRecord) -> dict[str, Any]:
    """The JSON object of one part's record."""
    out: dict[str, Any]
    views = [
        {
            "view": v.view,
            "path": v.path,
            "sha256": v.sha256,
            "status": v.status,
            "error": v.error,
            "detector": v.detector,
            "shape": list(v.shape) if v.shape else None,
            "pixel_size_mm": v.pixel_size_mm,
            "quality": v.quality,
            "judged_pct": v.judged_pct,
            "deviating_pct": v.deviating_pct,
            "indications": _indications(v),
            "timings": v.timings,
        }
        for v in record.views
    ]
    out = round_floats(
        {
            "schema": SCHEMA,
            "serial": record.serial,
            "part_type": record.part_type,
            "sentence": record.sentence,
            "findings": [f.to_dict() for f in record.findings],
            "views": views,
            "timings": record.timings,
            "software": {"castsight": __version__},
            "plan": record.plan,
            "model": record.model,
            "inspected_at": record.inspected_at,
        }
    )
    return out


def append_record(path: Path, record: dict[str, Any]) -> None:
    """Append one record as a line and flush it to disk (a crash loses no earlier part)."""
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, separators=(",", ":")) + "\n")
        fh.flush()


def coco_predictions(record: InspectionRecord, root: Path | None) -> list[dict[str, Any]]:
    """COCO result entries for every indication of one part."""
    out: list[dict[str, Any]] = []
    for view in record.views:
        if not view.shape:
            continue
        name = _relative(Path(view.path), root)
        rows, cols = view.shape
        for k, (ind, m) in enumerate(zip(view.indications, view.measurements, strict=True)):
            x, y, w, h = ind.bbox
            # an indication other views did not confirm is not judged: below the 0.5 cut
            score = ind.score * (0.5 if f"{view.view}#{k}" in view.unconfirmed else 1.0)
            full = np.zeros((rows, cols), np.uint8, order="F")
            full[y : y + h, x : x + w] = ind.mask
            rle = mask_utils.encode(full)
            out.append(
                {
                    "file_name": name,
                    "bbox": [x, y, w, h],
                    "score": round(score, 6),
                    "category_id": m.category_id,
                    "segmentation": {"size": rle["size"], "counts": rle["counts"].decode()},
                    "serial": record.serial,
                    "view": view.view,
                }
            )
    return out


def _relative(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return "/".join(path.parts[-2:])


def write_predictions(path: Path, predictions: Iterable[dict[str, Any]]) -> None:
    """Write the COCO results list atomically."""
    from castsight.io.files import atomic_write_bytes

    atomic_write_bytes(path, json.dumps(list(predictions)).encode("utf-8"))
