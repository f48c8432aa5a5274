"""Loose matching and its average precision: was the indication *at* the defect?

Box IoU >= 0.5 asks for a tight box as well as a found defect; archive
annotations are drawn by hand and an indication's box is the detector's own
idea of the footprint, so the foreign-part benchmark (and the held-out real
set of issue 14) also scores a looser criterion: a prediction matches a truth
box when their IoU is at least ``iou_threshold`` (0.25) **or the prediction's
centre lies inside the truth box**. Matching is otherwise as in
:func:`castsight.evaluate.detection.match_predictions`: greedy by score, one
to one per image, class-agnostic; among the truths a prediction may take it
takes the one of largest IoU.

The average precision is COCO's: precision made monotone (the best precision
at any recall at least as high), read at the 101 recall points 0, 0.01, ..., 1
and averaged (0 where the recall is never reached).

>>> truth = {"images": [{"id": 1}, {"id": 2}],
...          "annotations": [{"id": 1, "image_id": 1, "bbox": [10, 10, 20, 20]},
...                          {"id": 2, "image_id": 2, "bbox": [50, 50, 10, 10]}]}
>>> preds = [{"image_id": 1, "bbox": [14, 14, 40, 40], "score": 0.9},   # centre (34, 34): out,
...          {"image_id": 1, "bbox": [12, 12, 30, 30], "score": 0.8},   # IoU 0.33: a match
...          {"image_id": 2, "bbox": [40, 40, 24, 24], "score": 0.7}]   # centre in the box
>>> m = loose_matching(truth, preds)
>>> m.pred_truth
(None, 1, 2)
>>> round(average_precision(m), 4)
0.6667
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from castsight.evaluate.detection import Matching

Json = dict[str, Any]
LOOSE_IOU = 0.25
"""The IoU that counts as a loose match (or the prediction's centre in the truth box)."""
RECALL_POINTS = np.linspace(0.0, 1.0, 101)


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    ax, ay, aw, ah = (float(v) for v in a)
    bx, by, bw, bh = (float(v) for v in b)
    iw = min(ax + aw, bx + bw) - max(ax, bx)
    ih = min(ay + ah, by + bh) - max(ay, by)
    if iw <= 0.0 or ih <= 0.0:
        return 0.0
    inter = iw * ih
    return inter / (aw * ah + bw * bh - inter)


def centre_inside(pred: Sequence[float], truth: Sequence[float]) -> bool:
    """Whether the centre of box ``pred`` lies in box ``truth`` (both x, y, w, h).

    >>> centre_inside([0, 0, 10, 10], [4, 4, 5, 5]), centre_inside([0, 0, 4, 4], [4, 4, 5, 5])
    (True, False)
    """
    cx, cy = pred[0] + pred[2] / 2, pred[1] + pred[3] / 2
    return bool(truth[0] <= cx <= truth[0] + truth[2] and truth[1] <= cy <= truth[1] + truth[3])


def loose_matching(
    truth: Json, predictions: Sequence[Json], *, iou_threshold: float = LOOSE_IOU
) -> Matching:
    """Greedy one-to-one loose matching per image (see the module docstring).

    ``truth`` needs ``images`` and ``annotations`` (``id``, ``image_id``, ``bbox``);
    each prediction ``image_id``, ``bbox`` and ``score``.
    """
    if not 0.0 < iou_threshold <= 1.0:
        raise ValueError(f"iou_threshold must be in (0, 1], got {iou_threshold}")
    gts: dict[int, list[Json]] = {}
    for ann in truth["annotations"]:
        gts.setdefault(ann["image_id"], []).append(ann)
    pred_truth: list[int | None] = [None] * len(predictions)
    pred_iou = [0.0] * len(predictions)
    taken: set[int] = set()
    order = sorted(range(len(predictions)), key=lambda i: -float(predictions[i]["score"]))
    for i in order:
        pred = predictions[i]
        best, best_iou = None, -1.0
        for ann in gts.get(pred["image_id"], []):
            if ann["id"] in taken:
                continue
            iou = _iou(pred["bbox"], ann["bbox"])
            if (iou >= iou_threshold or centre_inside(pred["bbox"], ann["bbox"])) and (
                iou > best_iou
            ):
                best, best_iou = ann, iou
        if best is not None:
            taken.add(best["id"])
            pred_truth[i], pred_iou[i] = best["id"], best_iou
    return Matching(
        scores=tuple(float(p["score"]) for p in predictions),
        pred_truth=tuple(pred_truth),
        pred_iou=tuple(pred_iou),
        truth_ids=tuple(a["id"] for a in truth["annotations"]),
    )


def average_precision(matching: Matching) -> float | None:
    """COCO-style 101-point average precision of a matching (None without truth).

    >>> average_precision(Matching((0.9,), (None,), (0.0,), (1,)))
    0.0
    """
    n_truth = len(matching.truth_ids)
    if n_truth == 0:
        return None
    if not matching.scores:
        return 0.0
    order = np.argsort(-np.asarray(matching.scores), kind="stable")
    hit = np.array([matching.pred_truth[i] is not None for i in order], dtype=np.float64)
    tp = np.cumsum(hit)
    recall = tp / n_truth
    precision = tp / np.arange(1, len(hit) + 1)
    precision = np.maximum.accumulate(precision[::-1])[::-1]  # best precision at >= recall
    where = np.searchsorted(recall, RECALL_POINTS, side="left")
    values = [precision[k] if k < len(precision) else 0.0 for k in where]
    return float(np.mean(values))


__all__ = ["LOOSE_IOU", "average_precision", "centre_inside", "loose_matching"]
