"""How well an inspection did, measured the way the NDT field measures it.

* indications (:mod:`~castsight.evaluate.detection`): greedy matching by score,
  precision / recall / F1, false indications per image, recall by defect type
  and size band; AP50 and AP (0.5:0.95) from pycocotools' COCOeval
  (:mod:`~castsight.evaluate.coco`);
* parts (:mod:`~castsight.evaluate.rates`): confusion matrix, escape rate and
  false-call rate with Wilson and Clopper-Pearson intervals;
* reliability (:mod:`~castsight.evaluate.pod`): MIL-HDBK-1823A hit/miss POD,
  a50, a90 and the likelihood-ratio a90/95, vs ``size_mm`` or d';
* inputs (:mod:`~castsight.evaluate.inputs`): reading and checking the files;
* output (:mod:`~castsight.evaluate.report`): ``metrics.json`` and ``report.html``.

>>> truth = check_truth({"images": [{"id": 1, "file_name": "P1/V01.tif", "width": 32,
...                                  "height": 32}], "categories": [{"id": 1, "name": "pore"}],
...                      "annotations": [{"id": 5, "image_id": 1, "category_id": 1,
...                                       "bbox": [4, 4, 6, 6], "size_mm": 0.8}]})
>>> preds = resolve_predictions([{"file_name": "P1/V01.tif", "category_id": 1,
...                               "bbox": [12, 12, 6, 6], "score": 0.7}], truth)
>>> ev = evaluate(truth, preds)
>>> ev.detection.recall, ev.detection.false_positives, ev.detection.recall_by_size["0.5-1"].k
(0.0, 1, 0)
"""

from castsight.evaluate.coco import CocoAP, coco_ap
from castsight.evaluate.detection import (
    SIZE_BANDS_MM,
    DetectionMetrics,
    Matching,
    PRCurve,
    detection_metrics,
    match_predictions,
    pr_curve,
    size_band,
)
from castsight.evaluate.inputs import (
    check_truth,
    load_parts,
    load_predictions,
    load_records,
    load_truth,
    resolve_predictions,
)
from castsight.evaluate.pod import PODCurve, PODResult, fit_pod, hit_miss, pod_curve
from castsight.evaluate.rates import (
    PartRates,
    Rate,
    clopper_pearson_interval,
    part_rates,
    wilson_interval,
)
from castsight.evaluate.report import (
    Evaluation,
    evaluate,
    worst_false_calls,
    worst_misses,
    write_report,
)

__all__ = [
    "SIZE_BANDS_MM",
    "CocoAP",
    "DetectionMetrics",
    "Evaluation",
    "Matching",
    "PODCurve",
    "PODResult",
    "PRCurve",
    "PartRates",
    "Rate",
    "check_truth",
    "clopper_pearson_interval",
    "coco_ap",
    "detection_metrics",
    "evaluate",
    "fit_pod",
    "hit_miss",
    "load_parts",
    "load_predictions",
    "load_records",
    "load_truth",
    "match_predictions",
    "part_rates",
    "pod_curve",
    "pr_curve",
    "resolve_predictions",
    "size_band",
    "wilson_interval",
    "worst_false_calls",
    "worst_misses",
    "write_report",
]
