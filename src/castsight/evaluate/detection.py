"""Indication-level scores: matching, precision/recall, recall by type and size, COCO AP.

Matching is greedy by score: each prediction, highest score first, takes the
unmatched truth annotation of its image with the largest overlap, if that
overlap reaches ``iou_threshold``. Overlap is box IoU, or mask IoU
(``mode="mask"``, via :mod:`pycocotools.mask`; a missing segmentation is
replaced by its box). Matching ignores the category unless asked: for NDT a
defect found but mistyped is still found. AP50 and AP (0.5:0.95) come from
pycocotools' COCOeval, per category and class-agnostic.

>>> truth = {"images": [{"id": 1, "file_name": "a.tif", "width": 64, "height": 64}],
...          "categories": [{"id": 1, "name": "pore"}],
...          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 8, 8],
...                           "area": 64, "iscrowd": 0, "size_mm": 1.2}]}
>>> preds = [{"image_id": 1, "category_id": 1, "bbox": [10, 10, 8, 8], "score": 0.9},
...          {"image_id": 1, "category_id": 1, "bbox": [40, 40, 5, 5], "score": 0.8}]
>>> m = detection_metrics(truth, preds)
>>> m.true_positives, m.false_positives, m.misses, m.recall, m.precision, round(m.coco.ap50, 6)
(1, 1, 0, 1.0, 0.5, 1.0)
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from castsight.evaluate.coco import CocoAP, coco_ap
from castsight.evaluate.rates import Rate

Json = dict[str, Any]
SIZE_BANDS_MM = (0.5, 1.0, 2.0, 4.0)
"""Default size band edges in mm: <0.5, 0.5-1, 1-2, 2-4, >=4."""
MODES = ("box", "mask")


def size_band(size: float | None, edges: Sequence[float] = SIZE_BANDS_MM) -> str:
    """Label of the band holding ``size`` (``"unknown"`` for None).

    >>> [size_band(s) for s in (0.2, 0.5, 1.5, 4.0, None)]
    ['<0.5', '0.5-1', '1-2', '>=4', 'unknown']
    """
    if size is None:
        return "unknown"
    if size < edges[0]:
        return f"<{edges[0]:g}"
    for lo, hi in itertools.pairwise(edges):
        if lo <= size < hi:
            return f"{lo:g}-{hi:g}"
    return f">={edges[-1]:g}"


@dataclass(frozen=True)
class Matching:
    """Outcome of matching all predictions (any score) to the truth annotations.

    Greedy matching by score makes the matches at a threshold ``t`` exactly the
    matches of the predictions scoring ``>= t``, so one run serves every threshold.
    """

    scores: tuple[float, ...]
    pred_truth: tuple[int | None, ...]
    pred_iou: tuple[float, ...]
    truth_ids: tuple[int, ...]

    def hit_ids(self, threshold: float) -> set[int]:
        """Ids of truth annotations found by a prediction scoring ``>= threshold``."""
        return {
            t
            for s, t in zip(self.scores, self.pred_truth, strict=True)
            if t is not None and s >= threshold
        }

    def missed_ids(self, threshold: float) -> list[int]:
        """Ids of truth annotations no prediction at ``>= threshold`` found."""
        hits = self.hit_ids(threshold)
        return [t for t in self.truth_ids if t not in hits]

    def false_indices(self, threshold: float) -> list[int]:
        """Indices of predictions at ``>= threshold`` that match no truth."""
        pairs = zip(self.scores, self.pred_truth, strict=True)
        return [i for i, (s, t) in enumerate(pairs) if t is None and s >= threshold]


def _rle(obj: Json, height: int, width: int) -> Any:
    seg = obj.get("segmentation")
    if isinstance(seg, dict) and "counts" in seg:
        if isinstance(seg["counts"], list):
            return mask_utils.frPyObjects(seg, height, width)
        return seg
    if isinstance(seg, list) and seg:
        return mask_utils.merge(mask_utils.frPyObjects(seg, height, width))
    x, y, w, h = obj["bbox"]
    poly = [[x, y, x + w, y, x + w, y + h, x, y + h]]
    return mask_utils.merge(mask_utils.frPyObjects(poly, height, width))


def match_predictions(
    truth: Json,
    predictions: Sequence[Json],
    *,
    iou_threshold: float = 0.5,
    mode: str = "box",
    class_aware: bool = False,
) -> Matching:
    """Greedy one-to-one matching per image (see the module docstring)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    images = {image["id"]: image for image in truth["images"]}
    gts: dict[int, list[Json]] = {}
    for ann in truth["annotations"]:
        gts.setdefault(ann["image_id"], []).append(ann)
    preds_by_image: dict[int, list[int]] = {}
    for i, pred in enumerate(predictions):
        preds_by_image.setdefault(pred["image_id"], []).append(i)
    pred_truth: list[int | None] = [None] * len(predictions)
    pred_iou = [0.0] * len(predictions)
    for image_id, indices in preds_by_image.items():
        anns = gts.get(image_id, [])
        if not anns:
            continue
        order = sorted(indices, key=lambda i: -predictions[i]["score"])
        dts = [predictions[i] for i in order]
        if mode == "mask":
            h, w = int(images[image_id]["height"]), int(images[image_id]["width"])
            ious = mask_utils.iou(
                [_rle(d, h, w) for d in dts], [_rle(a, h, w) for a in anns], [0] * len(anns)
            )
        else:
            ious = mask_utils.iou(
                np.array([d["bbox"] for d in dts], dtype=np.float64),
                np.array([a["bbox"] for a in anns], dtype=np.float64),
                [0] * len(anns),
            )
        ious = np.asarray(ious, dtype=np.float64).reshape(len(dts), len(anns))
        taken = np.zeros(len(anns), dtype=bool)
        for row, i in enumerate(order):
            cand = np.where(taken, -1.0, ious[row])
            if class_aware:
                same = [a["category_id"] == predictions[i]["category_id"] for a in anns]
                cand = np.where(same, cand, -1.0)
            best = int(np.argmax(cand))
            if cand[best] >= iou_threshold:
                taken[best] = True
                pred_truth[i], pred_iou[i] = anns[best]["id"], float(cand[best])
    return Matching(
        scores=tuple(float(p["score"]) for p in predictions),
        pred_truth=tuple(pred_truth),
        pred_iou=tuple(pred_iou),
        truth_ids=tuple(a["id"] for a in truth["annotations"]),
    )


@dataclass(frozen=True)
class PRCurve:
    """Precision and recall of the predictions scoring ``>= thresholds[i]`` (descending)."""

    thresholds: tuple[float, ...]
    precision: tuple[float, ...]
    recall: tuple[float, ...]


def pr_curve(matching: Matching) -> PRCurve:
    """PR curve over every distinct prediction score (empty when there is no truth).

    >>> pr_curve(Matching((0.9, 0.5), (7, None), (1.0, 0.0), (7, 8)))
    PRCurve(thresholds=(0.9, 0.5), precision=(1.0, 0.5), recall=(0.5, 0.5))
    """
    n_truth = len(matching.truth_ids)
    if n_truth == 0 or not matching.scores:
        return PRCurve((), (), ())
    scores = np.asarray(matching.scores)
    order = np.argsort(-scores, kind="stable")
    hit = np.array([matching.pred_truth[i] is not None for i in order], dtype=np.float64)
    tp = np.cumsum(hit)
    ranked = scores[order]
    last = np.flatnonzero(np.append(ranked[1:] != ranked[:-1], True))
    return PRCurve(
        thresholds=tuple(float(v) for v in ranked[last]),
        precision=tuple(float(v) for v in tp[last] / (last + 1)),
        recall=tuple(float(v) for v in tp[last] / n_truth),
    )


@dataclass(frozen=True)
class DetectionMetrics:
    """Indication-level scores at one IoU and score threshold, plus COCO AP."""

    iou_threshold: float
    score_threshold: float
    mode: str
    n_images: int
    n_truth: int
    n_predictions: int
    true_positives: int
    false_positives: int
    misses: int
    precision: float | None
    recall: float | None
    f1: float | None
    false_per_image: float | None
    recall_by_category: dict[str, Rate]
    recall_by_size: dict[str, Rate]
    coco: CocoAP

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out = asdict(self)
        for key in ("recall_by_category", "recall_by_size"):
            out[key] = {k: r.to_dict() for k, r in getattr(self, key).items()}
        return out


def detection_metrics(
    truth: Json,
    predictions: Sequence[Json],
    *,
    iou_threshold: float = 0.5,
    score_threshold: float = 0.5,
    mode: str = "box",
    size_edges: Sequence[float] = SIZE_BANDS_MM,
    matching: Matching | None = None,
) -> DetectionMetrics:
    """Score ``predictions`` against ``truth`` (both COCO, predictions with ``image_id``)."""
    if matching is None:
        matching = match_predictions(truth, predictions, iou_threshold=iou_threshold, mode=mode)
    hits = matching.hit_ids(score_threshold)
    n_pred = sum(s >= score_threshold for s in matching.scores)
    tp, n_truth = len(hits), len(matching.truth_ids)
    precision = tp / n_pred if n_pred else None
    recall = tp / n_truth if n_truth else None
    f1 = 2 * tp / (n_pred + n_truth) if n_pred + n_truth else None
    names = {c["id"]: str(c.get("name", c["id"])) for c in truth["categories"]}
    by_cat: dict[str, list[int]] = {}
    bands = [size_band(e, size_edges) for e in (-np.inf, *size_edges)] + ["unknown"]
    by_size: dict[str, list[int]] = {band: [0, 0] for band in bands}
    for ann in truth["annotations"]:
        found = int(ann["id"] in hits)
        cat = by_cat.setdefault(names.get(ann["category_id"], str(ann["category_id"])), [0, 0])
        size = ann.get("size_mm")
        band = by_size[size_band(float(size) if size is not None else None, size_edges)]
        for counts in (cat, band):
            counts[0] += found
            counts[1] += 1
    n_images = len(truth["images"])
    return DetectionMetrics(
        iou_threshold=iou_threshold,
        score_threshold=score_threshold,
        mode=mode,
        n_images=n_images,
        n_truth=n_truth,
        n_predictions=n_pred,
        true_positives=tp,
        false_positives=n_pred - tp,
        misses=n_truth - tp,
        precision=precision,
        recall=recall,
        f1=f1,
        false_per_image=(n_pred - tp) / n_images if n_images else None,
        recall_by_category={k: Rate(*v) for k, v in sorted(by_cat.items())},
        recall_by_size={k: Rate(*v) for k, v in by_size.items() if k != "unknown" or v[1]},
        coco=coco_ap(truth, predictions, mode=mode),
    )
