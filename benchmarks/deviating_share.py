"""How much of each view deviates from the taught good parts (``Judged.deviating``).

Usage (from the repository root)::

    .venv/bin/python benchmarks/deviating_share.py TEST_DIR --model MODEL [--limit N] [--top 12]

``TEST_DIR`` is what ``castsight simulate`` writes (truth.json, _calibration);
``MODEL`` holds the reference of its views. Prints the views with the largest
share of judged pixels past ``DEVIATING_SIGMAS`` (with their number of true
defects and registration correlation) and the median, 90th and 99th
percentile over all views: where ``quality.max_deviating_pct`` should sit.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np

from castsight.detect.reference import ReferenceDetector
from castsight.io import read_radiograph
from castsight.model.artifact import load_artifact
from castsight.preprocess.prepare import load_calibration, prepare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("test", type=Path)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    truth = json.loads((args.test / "truth.json").read_text())
    cal = load_calibration(args.test / "_calibration")
    detector = ReferenceDetector(load_artifact(args.model).reference())
    defects = Counter(a["image_id"] for a in truth["annotations"])
    images = truth["images"][: args.limit] if args.limit else truth["images"]
    rows = []
    for image in images:
        prep = prepare(read_radiograph(args.test / image["file_name"]), cal)
        score = detector.zscore(prep)
        judged = detector.judged(prep, score, [])
        pct = 100.0 * float(judged.deviating or 0.0)
        rows.append((pct, image["file_name"], defects[image["id"]], score.registration.correlation))
    rows.sort(reverse=True)
    for pct, name, n, cc in rows[: args.top]:
        print(f"{pct:7.3f} %  {name}  defects {n}  registration {cc:.4f}")
    share = np.array([r[0] for r in rows])
    print(f"{len(rows)} views: median {np.median(share):.4f} %, 90th percentile "
          f"{np.percentile(share, 90):.4f} %, 99th {np.percentile(share, 99):.4f} %, "
          f"over 1 %: {int((share > 1.0).sum())}")  # fmt: skip


if __name__ == "__main__":
    main()
