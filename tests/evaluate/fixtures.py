"""Tiny COCO truth / prediction dicts for the evaluate tests."""

from __future__ import annotations

from typing import Any

CATEGORIES = [
    {"id": 1, "name": "pore"},
    {"id": 2, "name": "shrinkage"},
    {"id": 3, "name": "crack"},
    {"id": 4, "name": "inclusion"},
]


def ann(
    ann_id: int,
    image_id: int,
    bbox: list[float],
    size_mm: float,
    category_id: int = 1,
    **extra: Any,
) -> dict[str, Any]:
    """One truth annotation with the fields castsight simulate writes."""
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": category_id,
        "bbox": bbox,
        "area": bbox[2] * bbox[3],
        "iscrowd": 0,
        "size_mm": size_mm,
        "d_prime": 10.0 * size_mm,
        "part": "P0001",
        "defect_id": ann_id,
        **extra,
    }


def truth(*annotations: dict[str, Any], n_images: int = 2, size: int = 64) -> dict[str, Any]:
    """A COCO dataset of ``n_images`` views of part P0001."""
    images = [
        {"id": i, "file_name": f"P0001/V{i:02d}.tif", "width": size, "height": size}
        for i in range(1, n_images + 1)
    ]
    return {"images": images, "annotations": list(annotations), "categories": CATEGORIES}


def pred(
    image_id: int, bbox: list[float], score: float = 0.9, category_id: int = 1
) -> dict[str, Any]:
    """One COCO result tied to a truth image by id."""
    return {"image_id": image_id, "bbox": bbox, "score": score, "category_id": category_id}


def perfect(dataset: dict[str, Any]) -> list[dict[str, Any]]:
    """Predictions equal to the truth boxes."""
    return [
        pred(a["image_id"], list(a["bbox"]), 0.9, a["category_id"]) for a in dataset["annotations"]
    ]
