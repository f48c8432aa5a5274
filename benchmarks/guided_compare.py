"""The ``guided`` detector against ``reference`` on a simulated test set, at several thresholds.

Usage (from the repository root)::

    .venv/bin/python benchmarks/guided_compare.py TEST_DIR --reference-model MODEL \\
        --onnx guided.onnx [--thresholds 0.5,0.9,0.99] [--limit N] [--out result.json]

Each view is compared with the reference once; the network runs once; the
indications are then cut at every threshold. Rows: ``reference`` alone; the
network alone (``net@T``); and the guided detector (``guided@T``: the
reference's indications plus the network's that touch none of them). A
true defect counts as found when an indication's footprint touches its box
grown by 2 px; an indication touching no true box is false (scored by
``learned_compare.py``'s own functions).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from learned_compare import _touches, truth_boxes  # the same scoring as learned_compare.py

from castsight.detect.guided import GUIDED_NORMALISATION, boxes_touch, guided_input
from castsight.detect.learned import LearnedDetector, LearnedSettings
from castsight.detect.reference import ReferenceDetector
from castsight.io import read_radiograph
from castsight.model.artifact import load_artifact
from castsight.preprocess.prepare import load_calibration, prepare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("test", type=Path)
    parser.add_argument("--reference-model", type=Path, required=True)
    parser.add_argument("--onnx", type=Path, required=True)
    parser.add_argument("--thresholds", default="0.3,0.5,0.7,0.9,0.95,0.98,0.99,0.995")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    truth = json.loads((args.test / "truth.json").read_text())
    cal = load_calibration(args.test / "_calibration")
    boxes = truth_boxes(truth)
    reference = ReferenceDetector(load_artifact(args.reference_model).reference())
    net = LearnedDetector(args.onnx, LearnedSettings(normalisation=GUIDED_NORMALISATION))
    thresholds = [float(t) for t in args.thresholds.split(",")]
    nets = {t: net.with_settings(replace(net.settings, threshold=t)) for t in thresholds}
    names = ["reference"] + [f"{kind}@{t:g}" for kind in ("net", "guided") for t in thresholds]
    stats = {n: {"hits": 0, "false": 0, "false_good": 0} for n in names}
    images = truth["images"][: args.limit] if args.limit else truth["images"]
    n_defects = n_good = 0
    seconds = {"reference": 0.0, "network": 0.0}
    for k, image in enumerate(images):
        prep = prepare(read_radiograph(args.test / image["file_name"]), cal)
        t0 = time.perf_counter()
        score = reference.zscore(prep)
        ref_found = reference.indications(prep, score)
        t1 = time.perf_counter()
        x = guided_input(prep.attenuation, score.deviation, score.scale, score.valid)
        prob = net.probability(x)
        seconds["reference"] += t1 - t0
        seconds["network"] += time.perf_counter() - t1
        found: dict[str, list[Any]] = {"reference": ref_found}
        for t, d in nets.items():
            own = d.indications(prob, score.deviation, score.valid)
            found[f"net@{t:g}"] = own
            found[f"guided@{t:g}"] = ref_found + [
                i for i in own if not any(boxes_touch(i, f) for f in ref_found)
            ]
        true_boxes = boxes.get(image["id"], [])
        n_defects += len(true_boxes)
        n_good += not true_boxes
        for name, inds in found.items():
            st = stats[name]
            st["hits"] += sum(any(_touches(b, i) for i in inds) for b in true_boxes)
            false = sum(not any(_touches(b, i) for b in true_boxes) for i in inds)
            st["false"] += false
            st["false_good"] += false if not true_boxes else 0
        if (k + 1) % 100 == 0:
            print(f"{k + 1}/{len(images)} views", flush=True)
    n_views = len(images)
    result: dict[str, Any] = {"test": str(args.test), "onnx": str(args.onnx), "views": n_views,
                              "good_views": n_good, "defects": n_defects,
                              "ms_per_view": {k: 1000 * v / n_views for k, v in seconds.items()},
                              "detectors": {}}  # fmt: skip
    print(f"{n_views} views ({n_good} good), {n_defects} defects; ms/view: "
          f"reference {result['ms_per_view']['reference']:.0f}, "
          f"network {result['ms_per_view']['network']:.0f}")  # fmt: skip
    for name, st in stats.items():
        r = {
            "recall": st["hits"] / max(n_defects, 1),
            "false_per_view": st["false"] / max(n_views, 1),
            "false_per_good_view": st["false_good"] / max(n_good, 1),
        }
        result["detectors"][name] = r
        print(f"{name:14s} recall {r['recall']:.3f}  false/view {r['false_per_view']:.3f}  "
              f"false/good view {r['false_per_good_view']:.3f}")  # fmt: skip
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
