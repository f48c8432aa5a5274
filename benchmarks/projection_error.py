"""How far the fixturing error moves a defect from where the view's nominal geometry
projects it: the figure behind ``multiview.tolerance_mm`` (ARCHITECTURE.md).

    .venv/bin/python benchmarks/projection_error.py DATA   # a simulated set (truth.json)

For every annotated defect of every view, the distance (px) between the centre of its
true box and its true 3-D centre projected with the view's nominal projection
(``Acquisition.projection``, which leaves out the part's fixturing error).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("data", type=Path, help="a folder written by castsight simulate")
    ap.add_argument("--limit", type=int, default=2000, help="annotations to check")
    args = ap.parse_args()

    from castsight.io import read_radiograph
    from castsight.measure.multiview import project_points

    truth = json.loads((args.data / "truth.json").read_text(encoding="utf-8"))
    parts = json.loads((args.data / "parts.json").read_text(encoding="utf-8"))["parts"]
    centres = {(p["serial"], d["defect_id"]): d["center_mm"] for p in parts for d in p["defects"]}
    images = {i["id"]: i for i in truth["images"]}
    matrices: dict[str, np.ndarray] = {}
    errors = []
    for ann in truth["annotations"][: args.limit]:
        image = images[ann["image_id"]]
        name = image["file_name"]
        if name not in matrices:
            proj = read_radiograph(args.data / name).acquisition.projection
            if proj is None:
                raise SystemExit(f"{name}: no projection in its metadata")
            matrices[name] = np.asarray(proj, np.float64)
        point = np.asarray([centres[(image["part"], ann["defect_id"])]], np.float64)
        rows, cols = project_points(matrices[name], point)
        x, y, w, h = ann["bbox"]
        errors.append(float(np.hypot(rows[0] - (y + h / 2), cols[0] - (x + w / 2))))
    e = np.asarray(errors)
    print(f"{e.size} annotations: projection error median {np.median(e):.1f} px, "
          f"90th percentile {np.percentile(e, 90):.1f} px, largest {e.max():.1f} px")  # fmt: skip


if __name__ == "__main__":
    main()
