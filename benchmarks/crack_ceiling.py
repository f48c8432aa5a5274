"""How far a line detector could go: each crack's mean z over its own true mask, against
the same mask moved about its view (the clutter of that view included).

    .venv/bin/python benchmarks/crack_ceiling.py MODEL DATA   # a taught model, a simulated set

For every crack annotation of an NG part, the reference detector's standardised
deviation (``deviation / scale``) is averaged over the crack's true mask, and over the
same mask shifted to up to 200 places within 60 px where every pixel is judged. The
matched SNR is (median of the shifted means - the crack's mean) / their robust spread:
what a detector that knew the crack's shape exactly would see. A detector that must
search orientation and length sees less (lab notes 2026-12-03, third session).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

CRACK = 3
SHIFTS, REACH_PX = 200, 60


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("model", type=Path, help="a model taught for the set's part")
    ap.add_argument("data", type=Path, help="a folder written by castsight simulate")
    ap.add_argument("--plan", default="giga-underbody")
    args = ap.parse_args()

    from pycocotools import mask as mask_utils

    from castsight.accept.plan import load_plan
    from castsight.app.detectors import model_detectors
    from castsight.detect.reference import ReferenceDetector
    from castsight.io import read_radiograph
    from castsight.preprocess.prepare import load_calibration, prepare

    detector_for = model_detectors(args.model, load_plan(args.plan), "reference").detector_for
    calibration = load_calibration(args.data / "_calibration")
    truth = json.loads((args.data / "truth.json").read_text(encoding="utf-8"))
    parts = json.loads((args.data / "parts.json").read_text(encoding="utf-8"))["parts"]
    sentence = {p["serial"]: p["sentence_imaged"] for p in parts}
    views = {i["id"]: i["view"] for i in truth["images"]}
    rng = np.random.default_rng(0)
    print("part view pixels contrast d' matched_snr")
    for ann in truth["annotations"]:
        serial = ann["part"]
        if ann["category_id"] != CRACK or sentence[serial] != "NG":
            continue
        view = views[ann["image_id"]]
        image = prepare(read_radiograph(args.data / serial / f"{view}.tif"), calibration)
        detector = detector_for(view)
        if not isinstance(detector, ReferenceDetector):
            raise SystemExit(f"{args.model}: view {view} has no reference (taught with teach?)")
        score = detector.zscore(image)
        z = score.deviation / score.scale
        ys, xs = np.nonzero(mask_utils.decode(ann["segmentation"]).astype(bool))

        own = _mean_at(z, score.valid, ys, xs) if len(ys) else None
        moves = rng.integers(-REACH_PX, REACH_PX + 1, (SHIFTS, 2))
        moved = [_mean_at(z, score.valid, ys + dy, xs + dx)
                 for dy, dx in moves if abs(dy) + abs(dx) > 8]  # fmt: skip
        others = np.array([m for m in moved if m is not None])
        if own is None or len(others) < 20:
            print(f"{serial} {view} {len(ys)} - - not judged there")
            continue
        centre = float(np.median(others))
        spread = 1.4826 * float(np.median(np.abs(others - centre)))
        print(f"{serial} {view} {len(ys)} {ann['contrast']:+.4f} {ann['d_prime']:.1f} "
              f"{(centre - own) / spread:.1f}")  # fmt: skip


def _mean_at(z: np.ndarray, valid: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> float | None:
    """Mean of ``z`` over the pixels, or None where one is outside or not judged."""
    if ys.min() < 0 or xs.min() < 0 or ys.max() >= z.shape[0] or xs.max() >= z.shape[1]:
        return None
    return float(z[ys, xs].mean()) if valid[ys, xs].all() else None


if __name__ == "__main__":
    main()
