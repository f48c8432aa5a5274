"""Is the leave-one-out comparison (``learn.comparisons.leave_one_out``) what a new good part gives?

Usage (from the repository root, after ``make bench`` or any simulated good set)::

    .venv/bin/python benchmarks/loo_check.py GOOD_DIR --model MODEL [--held-out 8]

``MODEL`` is the reference learned from every part of ``GOOD_DIR``. The first
``--held-out`` parts are judged three ways and their ``reference``
indications counted: in sample (against ``MODEL``, which holds them), leave-one-out
(the same comparison made as if they had been left out), and truly held out
(against a reference learned here from the other parts). Leave-one-out should
be close to the last, and both far above the first.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from castsight.detect.reference import ReferenceDetector
from castsight.io import read_radiograph
from castsight.io.parts import discover_parts
from castsight.learn.comparisons import loo_score
from castsight.model.artifact import load_artifact
from castsight.preprocess.prepare import load_calibration
from castsight.preprocess.prepare import prepare as prepare_image
from castsight.teach.statistics import learn_reference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("good", type=Path)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--held-out", type=int, default=8)
    args = parser.parse_args()
    cal = load_calibration(args.good / "_calibration")
    parts = discover_parts([args.good])
    held, rest = parts[: args.held_out], parts[args.held_out :]
    full_refs = load_artifact(args.model).reference()
    full = ReferenceDetector(full_refs)
    apart = ReferenceDetector(learn_reference(rest, cal))
    counts = {"in sample": 0, "leave-one-out": 0, "held out": 0}
    views = 0
    for part in held:
        for view in part.views:
            image = prepare_image(read_radiograph(view.path), cal)
            score = full.zscore(image)
            loo = loo_score(score, full_refs[view.name].n_images, full.floor)
            counts["in sample"] += len(full.indications(image, score))
            counts["leave-one-out"] += len(full.indications(image, loo))
            counts["held out"] += len(apart.indications(image, apart.zscore(image)))
            views += 1
    said = ", ".join(f"{k} {v}" for k, v in counts.items())
    print(f"{views} views of {len(held)} parts; reference indications: {said}")


if __name__ == "__main__":
    main()
