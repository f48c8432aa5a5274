"""Matching, P/R/F1, recall by type and size, COCO AP, PR curve, input resolution."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from castsight.errors import InputError
from castsight.evaluate import (
    check_truth,
    detection_metrics,
    match_predictions,
    pr_curve,
    resolve_predictions,
)
from tests.evaluate.fixtures import ann, perfect, pred, truth

TRUTH = truth(
    ann(1, 1, [10, 10, 8, 8], 0.3),
    ann(2, 1, [40, 40, 10, 10], 1.5, category_id=4),
    ann(3, 2, [20, 20, 12, 6], 2.5, category_id=3),
)


def test_perfect_predictions_score_one() -> None:
    m = detection_metrics(TRUTH, perfect(TRUTH))
    assert (m.true_positives, m.false_positives, m.misses) == (3, 0, 0)
    assert m.precision == m.recall == m.f1 == 1.0
    assert m.false_per_image == 0.0
    assert m.coco.ap50 == pytest.approx(1.0) and m.coco.ap == pytest.approx(1.0)
    assert m.coco.ap_any_class == pytest.approx(1.0)
    assert set(m.coco.ap_by_category) == {"pore", "crack", "inclusion"}
    assert all(r.rate == 1.0 for r in m.recall_by_size.values() if r.n)


def test_shifted_box_fails_iou() -> None:
    one = truth(ann(1, 1, [10, 10, 8, 8], 1.0))
    shifted = [pred(1, [14, 10, 8, 8])]  # IoU = 32 / 96 = 1/3
    m = detection_metrics(one, shifted)
    assert (m.true_positives, m.false_positives, m.misses) == (0, 1, 1)
    assert m.coco.ap50 == pytest.approx(0.0)
    loose = detection_metrics(one, shifted, iou_threshold=0.3)
    assert loose.true_positives == 1
    assert match_predictions(one, shifted, iou_threshold=0.3).pred_iou[0] == pytest.approx(1 / 3)


def test_missing_prediction_is_a_miss_in_its_size_band() -> None:
    preds = [pred(1, [40, 40, 10, 10]), pred(2, [20, 20, 12, 6])]
    m = detection_metrics(TRUTH, preds)
    assert m.misses == 1 and m.recall == pytest.approx(2 / 3)
    bands = {k: (r.k, r.n) for k, r in m.recall_by_size.items()}
    assert bands == {"<0.5": (0, 1), "0.5-1": (0, 0), "1-2": (1, 1), "2-4": (1, 1), ">=4": (0, 0)}
    assert (m.recall_by_category["pore"].k, m.recall_by_category["pore"].n) == (0, 1)


def test_extra_prediction_is_a_false_indication() -> None:
    preds = [*perfect(TRUTH), pred(2, [50, 2, 5, 5], score=0.8)]
    m = detection_metrics(TRUTH, preds)
    assert (m.true_positives, m.false_positives, m.misses) == (3, 1, 0)
    assert m.false_per_image == 0.5 and m.precision == 0.75
    assert m.f1 == pytest.approx(2 * 0.75 / 1.75)


def test_score_threshold_and_pr_curve() -> None:
    preds = [
        pred(1, [10, 10, 8, 8], 0.9),
        pred(1, [40, 40, 10, 10], 0.3),
        pred(2, [0, 0, 4, 4], 0.6),
    ]
    m = detection_metrics(TRUTH, preds, score_threshold=0.5)
    assert (m.n_predictions, m.true_positives, m.false_positives) == (2, 1, 1)
    curve = pr_curve(match_predictions(TRUTH, preds))
    assert curve.thresholds == (0.9, 0.6, 0.3)
    assert curve.precision == pytest.approx((1.0, 0.5, 2 / 3))
    assert curve.recall == pytest.approx((1 / 3, 1 / 3, 2 / 3))


def test_greedy_by_score_and_wrong_type_still_found() -> None:
    one = truth(ann(1, 1, [10, 10, 8, 8], 1.0))
    preds = [pred(1, [10, 10, 8, 8], 0.5, category_id=4), pred(1, [11, 10, 8, 8], 0.9)]
    matching = match_predictions(one, preds)
    assert matching.pred_truth == (None, 1)
    assert match_predictions(one, preds[:1]).pred_truth == (1,)
    assert match_predictions(one, preds[:1], class_aware=True).pred_truth == (None,)


def test_mask_overlap_uses_segmentations() -> None:
    full = np.zeros((64, 64), dtype=np.uint8, order="F")
    full[10:18, 10:18] = 1
    left = np.zeros_like(full)
    left[10:18, 10:12] = 1
    seg = mask_utils.encode(full)
    seg["counts"] = seg["counts"].decode()
    one = truth(ann(1, 1, [10, 10, 8, 8], 1.0, segmentation=seg))
    p = {**pred(1, [10, 10, 8, 8]), "segmentation": mask_utils.encode(left)}
    p["segmentation"]["counts"] = p["segmentation"]["counts"].decode()
    assert detection_metrics(one, [p]).true_positives == 1
    masked = detection_metrics(one, [p], mode="mask")
    assert masked.true_positives == 0 and masked.coco.iou_type == "segm"
    assert detection_metrics(
        one, [pred(1, [10, 10, 8, 8])], mode="mask"
    ).coco.ap50 == pytest.approx(1)


def test_no_truth_and_no_predictions() -> None:
    empty = detection_metrics(truth(), [pred(1, [1, 1, 3, 3])])
    assert empty.recall is None and empty.coco.ap is None and empty.false_positives == 1
    none = detection_metrics(TRUTH, [])
    assert none.recall == 0.0 and none.precision is None and none.coco.ap50 == 0.0


def test_predictions_are_tied_to_images_by_file_name() -> None:
    checked = check_truth(TRUTH)
    entries = [
        {"file_name": "P0001/V02.tif", "bbox": [1, 1, 2, 2], "score": 0.5, "category_id": 1},
        {
            "file_name": "C:\\runs\\P0001\\V01.tif",
            "bbox": [1, 1, 2, 2],
            "score": 1,
            "category_id": 1,
        },
        {"image_id": 2, "bbox": [1, 1, 2, 2], "score": 0.5, "category_id": 1},
    ]
    assert [p["image_id"] for p in resolve_predictions(entries, checked)] == [2, 1, 2]
    with pytest.raises(InputError, match="matches no truth image"):
        resolve_predictions([{**entries[0], "file_name": "P0009/V01.tif"}], checked)
    with pytest.raises(InputError, match="bbox"):
        resolve_predictions([{**entries[0], "bbox": [1, 2]}], checked)
    with pytest.raises(InputError, match="not a COCO dataset"):
        check_truth({"images": []})
