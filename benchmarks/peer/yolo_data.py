"""A ``castsight simulate`` dataset -> an Ultralytics YOLO detection dataset.

Every view is read and prepared exactly as ``castsight inspect`` does
(``read_radiograph``, ``prepare`` with the dataset's ``_calibration``), then
turned into 3 channels of 8 bits (:func:`peer_image.prepared_channels`). The simulated defects are
2-20 px across, under YOLO's smallest stride (8 px), so the view is cut into
square tiles of ``tile`` px which are upscaled by ``upscale`` (``tile *
upscale`` = the training image size; the peer runs on whole views upscaled by
the same factor): one tile around each defect (jittered, so the defect is not
always central) unless an earlier tile already holds it, and defect-free grid
tiles that are mostly part, sampled at ``negatives`` per defect tile. Tiles
spend the CPU budget on the few pixels that hold defects.

Boxes come from truth.json (COCO bbox, all four categories); a box cut by a
tile edge is kept when at least half of it is inside. Labels are YOLO txt
(``class cx cy w h``, normalised); class k is COCO category k + 1.

>>> tile_offsets(768, 320)
[0, 224, 448]
>>> tile_offsets(768, 160, overlap=0.0)
[0, 152, 304, 456, 608]
>>> tile_offsets(300, 320)
[0]
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from onnx_detector import CLASS_NAMES
from peer_image import prepared_channels

MIN_VISIBLE = 0.5
"""Share of a box that must lie inside a tile for it to be labelled there."""
MIN_PART = 0.2
"""A defect-free tile is a candidate negative when this share of it is part."""


def tile_offsets(length: int, tile: int, overlap: float = 0.25) -> list[int]:
    """Start offsets of tiles covering ``length`` px with about ``overlap`` between them."""
    if length <= tile:
        return [0]
    n = math.ceil((length - tile) / (tile * (1.0 - overlap))) + 1
    return [round(v) for v in np.linspace(0, length - tile, n)]


def _tile_boxes(
    boxes: list[tuple[int, list[float]]], x0: int, y0: int, size: int
) -> list[tuple[int, float, float, float, float]]:
    out = []
    for cls, (x, y, w, h) in boxes:
        ix0, iy0 = max(x, x0), max(y, y0)
        ix1, iy1 = min(x + w, x0 + size), min(y + h, y0 + size)
        if ix1 <= ix0 or iy1 <= iy0:
            continue
        if (ix1 - ix0) * (iy1 - iy0) < MIN_VISIBLE * max(w * h, 1e-9):
            continue
        out.append((cls, ix0 - x0, iy0 - y0, ix1 - ix0, iy1 - iy0))
    return out


def convert(
    train_dir: Path,
    out_dir: Path,
    *,
    tile: int = 320,
    upscale: float = 2.0,
    negatives: float = 0.5,
    val_fraction: float = 0.1,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Write ``out_dir/{images,labels}/{train,val}`` and ``out_dir/data.yaml``; return counts.

    The split is by part (no part's tiles in both train and val).
    """
    from castsight.io import read_radiograph
    from castsight.preprocess.prepare import load_calibration, prepare

    truth = json.loads((train_dir / "truth.json").read_text(encoding="utf-8"))
    cal_dir = train_dir / "_calibration"
    calibration = load_calibration(cal_dir) if cal_dir.is_dir() else None
    by_image: dict[int, list[tuple[int, list[float]]]] = {}
    for ann in truth["annotations"]:
        by_image.setdefault(ann["image_id"], []).append((ann["category_id"] - 1, ann["bbox"]))
    rng = np.random.default_rng(seed)
    parts = sorted({img["file_name"].split("/")[0] for img in truth["images"]})
    n_val = max(1, round(len(parts) * val_fraction)) if len(parts) > 1 else 0
    val_parts = set(rng.choice(parts, n_val, replace=False).tolist()) if n_val else set()
    for split in ("train", "val"):
        (out_dir / "images" / split).mkdir(parents=True, exist_ok=True)
        (out_dir / "labels" / split).mkdir(parents=True, exist_ok=True)
    size = round(tile * upscale)
    negatives_pool: list[tuple[str, str, np.ndarray]] = []
    counts = {"views": 0, "positive_tiles": 0, "negative_tiles": 0, "boxes": 0, "val_tiles": 0}
    images = truth["images"]
    for i, img in enumerate(images):
        prep = prepare(read_radiograph(train_dir / img["file_name"]), calibration)
        u8 = prepared_channels(prep)
        rows, cols = u8.shape[:2]
        boxes = by_image.get(img["id"], [])
        split = "val" if img["file_name"].split("/")[0] in val_parts else "train"
        stem = img["file_name"].removesuffix(".tif").replace("/", "_")
        counts["views"] += 1
        # one tile around each defect not already inside an earlier tile of this view
        covered: set[int] = set()
        for k, (_cls, (bx, by, bw, bh)) in enumerate(boxes):
            if k in covered:
                continue
            jx, jy = rng.integers(-tile // 4, tile // 4 + 1, size=2)
            x0 = int(np.clip(round(bx + bw / 2 - tile / 2 + jx), 0, max(cols - tile, 0)))
            y0 = int(np.clip(round(by + bh / 2 - tile / 2 + jy), 0, max(rows - tile, 0)))
            labels = _tile_boxes(boxes, x0, y0, tile)
            for j, (_c, (ox, oy, ow, oh)) in enumerate(boxes):
                if x0 <= ox and y0 <= oy and ox + ow <= x0 + tile and oy + oh <= y0 + tile:
                    covered.add(j)
            crop = u8[y0 : y0 + tile, x0 : x0 + tile]
            _write(
                out_dir, split, f"{stem}_{x0}_{y0}", _up(crop, upscale), labels, *crop.shape[1::-1]
            )
            counts["positive_tiles"] += 1
            counts["boxes"] += len(labels)
            counts["val_tiles"] += split == "val"
        # defect-free tiles of the view's grid that are mostly part: candidate negatives
        for y0 in tile_offsets(rows, tile, overlap=0.0):
            for x0 in tile_offsets(cols, tile, overlap=0.0):
                if _tile_boxes(boxes, x0, y0, tile) or any(
                    bx < x0 + tile and x0 < bx + bw and by < y0 + tile and y0 < by + bh
                    for _c, (bx, by, bw, bh) in boxes
                ):
                    continue
                if prep.mask[y0 : y0 + tile, x0 : x0 + tile].mean() >= MIN_PART:
                    crop = u8[y0 : y0 + tile, x0 : x0 + tile]
                    negatives_pool.append((split, f"{stem}_{x0}_{y0}", crop.copy()))
        if progress:
            progress(i + 1, len(images))
    n_neg = min(len(negatives_pool), round(negatives * counts["positive_tiles"]))
    for k in rng.choice(len(negatives_pool), n_neg, replace=False) if n_neg else []:
        split, name, crop = negatives_pool[int(k)]
        _write(out_dir, split, name, _up(crop, upscale), [], *crop.shape[1::-1])
        counts["negative_tiles"] += 1
        counts["val_tiles"] += split == "val"
    names = "\n".join(f"  {k}: {n}" for k, n in enumerate(CLASS_NAMES))
    val = "images/val" if counts["val_tiles"] else "images/train"  # tiny sets: no val part
    (out_dir / "data.yaml").write_text(
        f"path: {out_dir.resolve()}\ntrain: images/train\nval: {val}\nnames:\n{names}\n",
        encoding="utf-8",
    )
    counts["train_images"] = (
        counts["positive_tiles"] + counts["negative_tiles"] - counts["val_tiles"]
    )
    counts["tile"], counts["upscale"], counts["imgsz"] = tile, upscale, size
    return counts


def _up(crop: np.ndarray, upscale: float) -> np.ndarray:
    h, w = crop.shape[:2]
    return cv2.resize(
        crop, (round(w * upscale), round(h * upscale)), interpolation=cv2.INTER_LINEAR
    )


def _write(
    out_dir: Path,
    split: str,
    name: str,
    image: np.ndarray,
    labels: list[tuple[int, float, float, float, float]],
    w: int,
    h: int,
) -> None:
    # OpenCV writes (and Ultralytics reads) BGR, then Ultralytics flips to RGB: store the
    # channels reversed so the network gets them in peer_image's order.
    cv2.imwrite(str(out_dir / "images" / split / f"{name}.png"), image[..., ::-1])
    lines = [
        f"{c} {(x + bw / 2) / w:.6f} {(y + bh / 2) / h:.6f} {bw / w:.6f} {bh / h:.6f}"
        for c, x, y, bw, bh in labels
    ]
    text = "\n".join(lines) + ("\n" if lines else "")
    (out_dir / "labels" / split / f"{name}.txt").write_text(text, encoding="utf-8")
