"""Compare detectors on a simulated test set: recall, false indications per good view, speed.

Usage (from the repository root)::

    .venv/bin/python benchmarks/learned_compare.py TEST_DIR --model MODEL \\
        [--detectors local,reference,learned,cascade,cascade@7,learned@0.9] \\
        [--reference-model MODEL] [--limit N] [--out result.json]

``learned@T`` is the learned detector at threshold ``T`` instead of its
calibrated one (points on its operating curve). ``--reference-model`` takes
the ``reference`` detector from another model folder (a series' reference,
while ``--model`` holds a learned network). ``--limit``: the first N views.

``TEST_DIR`` is what ``castsight simulate`` writes (truth.json, _calibration).
A true defect counts as found when an indication's footprint touches its box
grown by 2 px (every defect, also the acceptable small ones, is a target); an
indication touching no true box is false. "Good views" are views with no
true defect. Detection time is per view (after preparation), on this machine.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from castsight.accept.plan import load_plan
from castsight.app.detectors import model_detectors
from castsight.detect import LocalDetector
from castsight.detect.learned import CascadeDetector, LearnedDetector
from castsight.io import read_radiograph
from castsight.preprocess.prepare import load_calibration, prepare


def _touches(box: tuple[int, int, int, int], ind: Any, grow: int = 2) -> bool:
    x, y, w, h = box
    ix, iy = ind.bbox[0], ind.bbox[1]
    ys, xs = np.nonzero(ind.mask)
    ys, xs = ys + iy, xs + ix
    return bool(((xs >= x - grow) & (xs < x + w + grow) & (ys >= y - grow)
                 & (ys < y + h + grow)).any())  # fmt: skip


def truth_boxes(truth: dict[str, Any]) -> dict[int, list[tuple[int, int, int, int]]]:
    """Each image's true defect boxes (whole pixels, rounded outwards), by image id."""
    boxes: dict[int, list[tuple[int, int, int, int]]] = {}
    for ann in truth["annotations"]:
        x, y, w, h = ann["bbox"]
        box = (int(np.floor(x)), int(np.floor(y)), int(np.ceil(w)) + 1, int(np.ceil(h)) + 1)
        boxes.setdefault(ann["image_id"], []).append(box)
    return boxes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("test", type=Path)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--detectors", default="local,reference,learned,cascade")
    parser.add_argument("--reference-model", type=Path)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    truth = json.loads((args.test / "truth.json").read_text())
    cal = load_calibration(args.test / "_calibration")
    plan = load_plan("generic")
    boxes = truth_boxes(truth)
    detectors: dict[str, Any] = {}
    local = LocalDetector()
    for name in args.detectors.split(","):
        if name == "local":
            detectors[name] = lambda _view: local
        elif name.startswith("learned@"):
            base = model_detectors(args.model, plan, "learned").detector_for("any")
            assert isinstance(base, LearnedDetector)
            fixed = base.with_settings(replace(base.settings, threshold=float(name[8:])))
            detectors[name] = lambda _view, d=fixed: d
        elif name == "reference" and args.reference_model is not None:
            detectors[name] = model_detectors(args.reference_model, plan, name).detector_for
        elif name == "cascade@7":  # the cascade behind local at its own threshold
            learned = model_detectors(args.model, plan, "learned").detector_for("any")
            assert isinstance(learned, LearnedDetector)
            cascade7 = CascadeDetector(local, learned)
            detectors[name] = lambda _view, d=cascade7: d
        else:
            detectors[name] = model_detectors(args.model, plan, name).detector_for
    stats = {n: {"hits": 0, "false": 0, "false_good": 0, "seconds": 0.0} for n in detectors}
    n_defects = n_good = 0
    images = truth["images"][: args.limit] if args.limit else truth["images"]
    for image in images:
        path = args.test / image["file_name"]
        prep = prepare(read_radiograph(path), cal)
        view = path.stem
        true_boxes = boxes.get(image["id"], [])
        n_defects += len(true_boxes)
        n_good += not true_boxes
        for name, detector_for in detectors.items():
            t0 = time.perf_counter()
            found = detector_for(view).detect(prep)
            st = stats[name]
            st["seconds"] += time.perf_counter() - t0
            st["hits"] += sum(any(_touches(b, i) for i in found) for b in true_boxes)
            false = sum(not any(_touches(b, i) for b in true_boxes) for i in found)
            st["false"] += false
            st["false_good"] += false if not true_boxes else 0
    n_views = len(images)
    result: dict[str, Any] = {"test": str(args.test), "model": str(args.model),
                              "views": n_views, "good_views": n_good,
                              "defects": n_defects, "detectors": {}}  # fmt: skip
    for name, st in stats.items():
        result["detectors"][name] = {
            "recall": st["hits"] / max(n_defects, 1),
            "false_per_view": st["false"] / n_views,
            "false_per_good_view": st["false_good"] / max(n_good, 1),
            "ms_per_view": 1000.0 * st["seconds"] / n_views,
        }
        r = result["detectors"][name]
        print(
            f"{name:10s} recall {r['recall']:.3f}  false/view {r['false_per_view']:.2f}  "
            f"false/good view {r['false_per_good_view']:.2f}  {r['ms_per_view']:.0f} ms/view"
        )
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
