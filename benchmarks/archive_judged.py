"""Where the archive classifier finds defects: marked defect views split by their ring.

    .venv/bin/python benchmarks/archive_judged.py out/bench/foreign   # a foreign run's folder

For every marked defect view of the run's test set (``data/test/truth.json``), the
background ring of a blob of the defect's size centred on its box is tested as the
judged share once tested it (:mod:`castsight.detect.rings`): *air* where the ring lies on
air over more than ``1 - min_ring_part`` of it, *structured* where its robust spread
about its plane exceeds twice the noise floor (the smoothed image's noise and half a grey
level), *clean* otherwise. A view is *found* when an untaught indication at the call
(score >= 0.5, ``untaught/predictions.json``) loosely matches its box. The judged share
counts only *air* as unjudged; this is the measurement behind that (docs/bench.md).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from castsight.detect import rings
from castsight.detect.local import LocalSettings
from castsight.evaluate.loose import centre_inside
from castsight.io import read_radiograph
from castsight.preprocess.prepare import prepare


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("run", type=Path, help="a foreign suite's folder (data/, untaught/)")
    args = ap.parse_args()
    cfg = LocalSettings()
    data = args.run / "data" / "test"
    truth = json.loads((data / "truth.json").read_text(encoding="utf-8"))
    called: dict[str, list[list[float]]] = {}
    for p in json.loads((args.run / "untaught" / "predictions.json").read_text("utf-8")):
        if p["score"] >= 0.5:
            called.setdefault(p["file_name"], []).append(p["bbox"])
    images = {i["id"]: i for i in truth["images"]}
    tally = {"clean": [0, 0], "structured": [0, 0], "air": [0, 0]}
    for ann in truth["annotations"]:
        image = images[ann["image_id"]]
        prep = prepare(read_radiograph(data / image["file_name"]))
        x, y, w, h = ann["bbox"]
        cx, cy = int(x + w / 2), int(y + h / 2)
        sigma = min(cfg.blob_scales_px, key=lambda s: abs(s * 1.4142 - 0.5 * max(w, h)))
        ring, ks = rings.Rings.at(sigma, cfg.ring_radii), rings.smoothing(sigma)
        a = np.asarray(prep.attenuation, np.float32)
        smooth = cv2.GaussianBlur(a, (0, 0), ks)
        noise = rings.pixel_noise(a, prep.noise_std)
        dy, dx = rings.offsets(ring.inner, ring.outer)
        fit = rings.fit_rings(smooth, prep.mask, np.array([cy]), np.array([cx]), dy, dx,
                              cfg.min_ring_part)  # fmt: skip
        step = float(prep.quality.quantisation_step) / max(
            float(prep.radiograph.pixels[cy, cx]), 1.0
        )
        floor = float(np.hypot(noise[cy, cx] / (2 * ks), 0.5 * step))
        where = ("air" if not fit.ok[0] else
                 "structured" if fit.spread[0] > 2.0 * floor else "clean")  # fmt: skip
        found = any(centre_inside(b, ann["bbox"]) or centre_inside(ann["bbox"], b)
                    for b in called.get(image["file_name"], []))  # fmt: skip
        tally[where][0] += int(found)
        tally[where][1] += 1
    for where, (found_n, total) in tally.items():
        print(f"{where:>10}: {found_n} of {total} marked defect views found at the call")


if __name__ == "__main__":
    main()
