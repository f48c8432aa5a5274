"""Read and check what an evaluation compares: COCO truth, COCO results, parts, records.

Every problem becomes one :class:`~castsight.errors.InputError` with a one-line
reason naming the file. Predictions are tied to truth images by ``file_name``
(exactly, or by the trailing ``part/view.ext`` components), else by ``image_id``.

>>> truth = check_truth({"images": [{"id": 1, "file_name": "P0001/V01.tif",
...                                  "width": 64, "height": 64}],
...                      "annotations": [], "categories": [{"id": 1, "name": "pore"}]})
>>> preds = resolve_predictions([{"file_name": "/runs/a/P0001/V01.tif", "bbox": [1, 2, 3, 4],
...                               "score": 0.9, "category_id": 1}], truth)
>>> preds[0]["image_id"], preds[0]["bbox"]
(1, [1.0, 2.0, 3.0, 4.0])
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from castsight.errors import InputError

Json = dict[str, Any]
PART_SENTENCES = ("OK", "NG")
FOUND_SENTENCES = ("OK", "NG", "REVIEW")


def read_json(path: str | Path) -> Any:
    """Parse one JSON file; a missing file or bad JSON is an :class:`InputError`."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(path, f"cannot read file ({err})") from None
    except json.JSONDecodeError as err:
        raise InputError(path, f"not valid JSON (line {err.lineno}: {err.msg})") from None


def _bbox(value: Any, source: object, what: str) -> list[float]:
    ok = isinstance(value, list | tuple) and len(value) == 4
    box = [float(v) for v in value] if ok and all(_is_number(v) for v in value) else []
    if not box or not all(math.isfinite(v) for v in box) or box[2] < 0 or box[3] < 0:
        raise InputError(str(source), f"{what}: bbox must be [x, y, w, h] with w, h >= 0")
    return box


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_truth(data: Any, source: str | Path | None = None) -> Json:
    """Check a COCO dataset dict and return a normalised copy (ids, bbox, area, iscrowd)."""
    src = "truth" if source is None else str(source)
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), list) for k in ("images", "annotations", "categories")
    ):
        raise InputError(src, "not a COCO dataset (needs images, annotations, categories lists)")
    images: list[Json] = []
    for i, image in enumerate(data["images"]):
        if not isinstance(image, dict) or not isinstance(image.get("id"), int):
            raise InputError(src, f"images[{i}]: needs an integer id")
        if not isinstance(image.get("file_name"), str):
            raise InputError(src, f"images[{i}]: needs a file_name")
        if not all(isinstance(image.get(k), int) and image[k] > 0 for k in ("width", "height")):
            raise InputError(src, f"images[{i}]: needs a positive integer width and height")
        images.append(dict(image))
    ids = {image["id"] for image in images}
    if len(ids) != len(images):
        raise InputError(src, "image ids are not unique")
    annotations: list[Json] = []
    for i, ann in enumerate(data["annotations"]):
        if not isinstance(ann, dict) or ann.get("image_id") not in ids:
            raise InputError(src, f"annotations[{i}]: image_id names no image")
        if not isinstance(ann.get("category_id"), int):
            raise InputError(src, f"annotations[{i}]: needs an integer category_id")
        box = _bbox(ann.get("bbox"), src, f"annotations[{i}]")
        annotations.append(
            {
                **ann,
                "id": ann.get("id", i + 1),
                "bbox": box,
                "area": ann.get("area", box[2] * box[3]),
                "iscrowd": ann.get("iscrowd", 0),
            }
        )
    if len({ann["id"] for ann in annotations}) != len(annotations):
        raise InputError(src, "annotation ids are not unique")
    categories = [dict(c) for c in data["categories"] if isinstance(c, dict) and "id" in c]
    return {"images": images, "annotations": annotations, "categories": categories}


def load_truth(path: str | Path) -> Json:
    """Read and check ``truth.json`` (a COCO dataset)."""
    return check_truth(read_json(path), path)


def _name_parts(name: str) -> list[str]:
    return [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]


def resolve_predictions(
    predictions: Any, truth: Json, source: str | Path | None = None
) -> list[Json]:
    """Check COCO results and give each an ``image_id`` from the truth images.

    A ``file_name`` matches a truth image exactly, or by its last two path
    components; without a ``file_name`` the ``image_id`` must name a truth image.
    """
    src = "predictions" if source is None else str(source)
    if isinstance(predictions, dict) and isinstance(predictions.get("annotations"), list):
        predictions = predictions["annotations"]
    if not isinstance(predictions, list):
        raise InputError(src, "not a COCO results list")
    full: dict[str, int] = {}
    tail: dict[str, int | None] = {}
    for image in truth["images"]:
        parts = _name_parts(image["file_name"])
        full["/".join(parts)] = image["id"]
        key = "/".join(parts[-2:])
        tail[key] = None if key in tail else image["id"]
    known = {image["id"] for image in truth["images"]}
    out: list[Json] = []
    for i, pred in enumerate(predictions):
        if not isinstance(pred, dict):
            raise InputError(src, f"[{i}]: not an object")
        name = pred.get("file_name")
        if isinstance(name, str):
            parts = _name_parts(name)
            image_id = full.get("/".join(parts), tail.get("/".join(parts[-2:])))
            if image_id is None:
                raise InputError(src, f"[{i}]: file_name {name!r} matches no truth image")
        elif isinstance(pred.get("image_id"), int) and pred["image_id"] in known:
            image_id = pred["image_id"]
        else:
            raise InputError(src, f"[{i}]: no file_name and no image_id of a truth image")
        score = pred.get("score")
        if (
            not isinstance(score, int | float)
            or isinstance(score, bool)
            or not math.isfinite(score)
        ):
            raise InputError(src, f"[{i}]: score must be a number")
        if not isinstance(pred.get("category_id"), int):
            raise InputError(src, f"[{i}]: needs an integer category_id")
        box = _bbox(pred.get("bbox"), src, f"[{i}]")
        out.append({**pred, "image_id": image_id, "bbox": box, "score": float(score)})
    return out


def load_predictions(path: str | Path, truth: Json) -> list[Json]:
    """Read ``predictions.json`` (COCO results) and tie each entry to a truth image."""
    return resolve_predictions(read_json(path), truth, path)


def load_parts(path: str | Path) -> list[Json]:
    """Read ``parts.json``: ``{"parts": [{serial, sentence, sentence_imaged?, ...}]}``."""
    data = read_json(path)
    parts = data.get("parts") if isinstance(data, dict) else None
    if not isinstance(parts, list):
        raise InputError(path, 'not a parts file (needs {"parts": [...]})')
    for i, part in enumerate(parts):
        if not isinstance(part, dict) or not isinstance(part.get("serial"), str):
            raise InputError(path, f"parts[{i}]: needs a serial")
        if part.get("sentence") not in PART_SENTENCES:
            raise InputError(path, f"parts[{i}]: sentence must be OK or NG")
    return [dict(p) for p in parts]


def load_records(path: str | Path) -> list[Json]:
    """Read ``records.jsonl``: one object per part with ``serial`` and ``sentence``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    records: list[Json] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(path, f"cannot read file ({err})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(path, f"line {number}: not valid JSON ({err.msg})") from None
        if not isinstance(record, dict) or not isinstance(record.get("serial"), str):
            raise InputError(path, f"line {number}: needs a serial")
        sentence = str(record.get("sentence", "")).upper()
        if sentence not in FOUND_SENTENCES:
            raise InputError(path, f"line {number}: sentence must be OK, NG or REVIEW")
        records.append({**record, "sentence": sentence})
    return records
