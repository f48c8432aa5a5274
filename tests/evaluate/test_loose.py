"""Loose matching (IoU >= 0.25 or the centre in the box) and its AP (evaluate.loose)."""

from __future__ import annotations

from typing import Any

import pytest

from castsight.evaluate.loose import average_precision, centre_inside, loose_matching

TRUTH: dict[str, Any] = {
    "images": [{"id": 1}, {"id": 2}],
    "annotations": [
        {"id": 10, "image_id": 1, "bbox": [100, 100, 20, 20]},
        {"id": 11, "image_id": 1, "bbox": [300, 300, 40, 40]},
        {"id": 12, "image_id": 2, "bbox": [50, 50, 16, 16]},
    ],
}


def _pred(image: int, box: list[float], score: float) -> dict[str, Any]:
    return {"image_id": image, "bbox": box, "score": score}


def test_iou_quarter_or_centre_in_box_match_and_other_images_do_not() -> None:
    preds = [
        _pred(1, [96, 96, 34, 34], 0.9),  # IoU 0.35: a loose match, not a strict one
        _pred(1, [290, 290, 80, 80], 0.8),  # IoU 0.25 exactly: a match
        _pred(2, [40, 40, 60, 60], 0.7),  # IoU 0.07, centre (70, 70) out of the box: none
        _pred(1, [55, 55, 10, 10], 0.6),  # truth 12 is on image 2: none
    ]
    m = loose_matching(TRUTH, preds)
    assert m.pred_truth == (10, 11, None, None)
    big = loose_matching(TRUTH, [_pred(2, [44, 44, 20, 20], 0.5)])  # centre (54, 54) inside
    assert big.pred_truth == (12,)


def test_one_prediction_per_truth_highest_score_first() -> None:
    preds = [_pred(1, [101, 101, 18, 18], 0.4), _pred(1, [100, 100, 20, 20], 0.9)]
    m = loose_matching(TRUTH, preds)
    assert m.pred_truth == (None, 10)


def test_average_precision_perfect_empty_and_half() -> None:
    perfect = [_pred(a["image_id"], a["bbox"], 0.9) for a in TRUTH["annotations"]]
    assert average_precision(loose_matching(TRUTH, perfect)) == pytest.approx(1.0)
    assert average_precision(loose_matching(TRUTH, [])) == 0.0
    assert average_precision(loose_matching({"images": [], "annotations": []}, [])) is None
    # the first found, then a false one, then nothing: recall 1/3 at precision 1
    half = [perfect[0], _pred(2, [400, 400, 5, 5], 0.5)]
    assert average_precision(loose_matching(TRUTH, half)) == pytest.approx(34 / 101)


def test_centre_inside_edges() -> None:
    assert centre_inside([0, 0, 20, 20], [10, 10, 5, 5])
    assert not centre_inside([0, 0, 19, 19], [10, 10, 5, 5])
