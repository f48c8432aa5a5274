"""AP50 and AP (0.5:0.95) with pycocotools' COCOeval, per category and class-agnostic.

Not hand-written: this is pycocotools' own evaluation (``bbox`` or ``segm``),
read from ``COCOeval.eval["precision"]`` exactly as ``summarize()`` does, with
``maxDets`` raised to the most predictions on one image so none is dropped.

>>> truth = {"images": [{"id": 1, "file_name": "a.tif", "width": 32, "height": 32}],
...          "categories": [{"id": 1, "name": "pore"}],
...          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [4, 4, 8, 8]}]}
>>> ap = coco_ap(truth, [{"image_id": 1, "category_id": 1, "bbox": [4, 4, 8, 8], "score": 0.8}])
>>> round(ap.ap50, 6), round(ap.ap, 6), ap.iou_type
(1.0, 1.0, 'bbox')
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

Json = dict[str, Any]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence pycocotools' prints and its numpy-2 ``__array__`` deprecation warning."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.filterwarnings("ignore", message="__array__ implementation", category=Warning)
        yield


@dataclass(frozen=True)
class CocoAP:
    """COCOeval results; None where the truth has no annotation to score against."""

    iou_type: str
    ap50: float | None
    ap: float | None
    ap50_any_class: float | None
    ap_any_class: float | None
    ap50_by_category: dict[str, float | None]
    ap_by_category: dict[str, float | None]


def _mean_valid(p: Any) -> float | None:
    valid = p[p > -1]
    return float(np.mean(valid)) if valid.size else None


def coco_ap(truth: Json, predictions: Sequence[Json], *, mode: str = "box") -> CocoAP:
    """AP50 and AP@[.5:.95] with pycocotools COCOeval (``bbox`` or ``segm``)."""
    iou_type = "segm" if mode == "mask" else "bbox"
    names = {c["id"]: str(c.get("name", c["id"])) for c in truth["categories"]}
    with_truth = sorted({a["category_id"] for a in truth["annotations"]})
    if not with_truth:
        return CocoAP(iou_type, None, None, None, None, {}, {})
    if not predictions:
        zeros: dict[str, float | None] = {names.get(c, str(c)): 0.0 for c in with_truth}
        return CocoAP(iou_type, 0.0, 0.0, 0.0, 0.0, zeros, dict(zeros))
    # COCOeval treats annotation id 0 as "unmatched": renumber from 1.
    anns = [
        {"iscrowd": 0, "area": a["bbox"][2] * a["bbox"][3], **a, "id": n}
        for n, a in enumerate(truth["annotations"], start=1)
    ]
    keys = ("image_id", "category_id", "bbox", "score", "segmentation")
    dts = [{k: p[k] for k in keys if k in p} for p in predictions]
    per_image = max(np.unique([p["image_id"] for p in dts], return_counts=True)[1])
    results: dict[bool, Any] = {}
    with _quiet():
        gt = COCO()
        gt.dataset = {"images": truth["images"], "annotations": anns, "categories": []}
        gt.dataset["categories"] = truth["categories"] or [{"id": c} for c in with_truth]
        gt.createIndex()
        dt = gt.loadRes(dts)
        for use_cats in (True, False):
            ev = COCOeval(gt, dt, iouType=iou_type)
            ev.params.maxDets = [1, 10, max(100, int(per_image))]
            ev.params.useCats = int(use_cats)
            ev.evaluate()
            ev.accumulate()
            results[use_cats] = (ev.eval["precision"], list(ev.params.catIds))
    precision, cat_ids = results[True]
    agnostic = results[False][0]
    # precision: [iou thresholds, recall points, categories, area ranges, max dets]
    return CocoAP(
        iou_type=iou_type,
        ap50=_mean_valid(precision[0, :, :, 0, -1]),
        ap=_mean_valid(precision[:, :, :, 0, -1]),
        ap50_any_class=_mean_valid(agnostic[0, :, :, 0, -1]),
        ap_any_class=_mean_valid(agnostic[:, :, :, 0, -1]),
        ap50_by_category={
            names.get(c, str(c)): _mean_valid(precision[0, :, k, 0, -1])
            for k, c in enumerate(cat_ids)
            if c in with_truth
        },
        ap_by_category={
            names.get(c, str(c)): _mean_valid(precision[:, :, k, 0, -1])
            for k, c in enumerate(cat_ids)
            if c in with_truth
        },
    )
