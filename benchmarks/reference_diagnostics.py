"""Where the ``reference`` detector is blind: uncovered part area and wide spread, per view.

    .venv/bin/python benchmarks/reference_diagnostics.py DATA MODEL [--parts 5]

DATA is a ``castsight simulate`` folder (its ``_calibration`` is used), MODEL a
model folder from ``castsight teach``. For the first ``--parts`` parts and every
view it prints:

* ``uncovered``: the share of the image's part mask the reference does not
  judge (outside the learned mask or in the frame-edge band, after registration);
* the learned spread over the judged part as multiples of the image's own
  smoothed noise (the robust spread of ``smooth(a) - gaussian(a, 3)``, the
  spread that noise alone would give): the median, 90th and 99th percentile.
  Where the spread is many times the noise, a defect must be that much
  stronger to be found.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("data", type=Path)
    ap.add_argument("model", type=Path)
    ap.add_argument("--parts", type=int, default=5)
    args = ap.parse_args()

    from castsight.detect.reference import ReferenceDetector, smooth
    from castsight.io import read_radiograph
    from castsight.io.parts import discover_parts
    from castsight.model import load_artifact
    from castsight.preprocess.prepare import load_calibration, prepare

    det = ReferenceDetector(load_artifact(args.model).reference())
    cal = load_calibration(args.data / "_calibration")
    print("part   view  uncovered  spread/noise: median   p90    p99")
    for part in discover_parts([args.data])[: args.parts]:
        for view in part.views:
            image = prepare(read_radiograph(view.path), cal)
            score = det.zscore(image)
            part_px = int(image.mask.sum())
            uncovered = float((image.mask & ~score.valid).sum()) / max(part_px, 1)
            a = image.attenuation
            hp = smooth(a) - cv2.GaussianBlur(a, (0, 0), 3.0)
            noise = 1.4826 * float(np.median(np.abs(hp[score.valid])))
            spread = np.abs(score.deviation / np.where(score.z != 0, score.z, np.inf))
            ratio = spread[score.valid & (score.z != 0)] / max(noise, 1e-9)
            p50, p90, p99 = np.percentile(ratio, [50, 90, 99])
            print(f"{part.serial:6s} {view.name:5s} {100 * uncovered:7.1f} %"
                  f"{p50:21.1f} {p90:6.1f} {p99:6.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
