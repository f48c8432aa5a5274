"""The peer detector, side by side with castsight: Ultralytics YOLO11n from its model YAML.

    .venv-peer/bin/python benchmarks/peer/run_peer.py --train TRAIN_DIR --test TEST_DIR --out OUT
        [--epochs 300 --budget-min 20 --imgsz 160 --tile 80] [--model M.onnx]

TRAIN_DIR and TEST_DIR are ``castsight simulate`` datasets. Steps:

1. convert TRAIN_DIR to a YOLO dataset (``yolo_data``: castsight's own read and
   prepare, the attenuation as 3 channels of 8 bits, 2x-upscaled tiles, all four
   defect categories from truth.json);
2. train ``yolo11n.yaml`` from scratch (no pretrained weights) on the CPU for at
   most ``--epochs`` epochs or ``--budget-min`` minutes, whichever ends first,
   export it to ONNX (OUT/peer-yolo11n.onnx, facts in OUT/peer-model.json);
3. run the ONNX model with onnxruntime as a castsight Detector
   (``onnx_detector``) inside ``castsight.pipeline.Inspector`` with the
   giga-underbody plan, so the peer's boxes are measured and sentenced by
   castsight's rules, and write OUT/records.jsonl, OUT/predictions.json and
   OUT/timing.json in ``castsight inspect``'s formats, plus OUT/overlay.png.

Steps 1-2 need the peer venv (``make peer-env``) and are skipped when
``--model`` is given or OUT/peer-yolo11n.onnx exists (reruns never retrain).
Step 3 needs only onnxruntime, so ``--model`` runs in castsight's main venv
too once onnxruntime is installed there. Nothing is downloaded: Ultralytics
runs offline (YOLO_OFFLINE, no plots, no AMP check, no auto-install) with its
settings in OUT/ultralytics-config, never in the home folder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

MODEL_NAME = "peer-yolo11n.onnx"
META_NAME = "peer-model.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--train", type=Path, help="castsight simulate dataset to train on")
    ap.add_argument("--test", type=Path, required=True, help="castsight simulate dataset to run on")
    ap.add_argument("--out", type=Path, required=True, help="output folder")
    ap.add_argument("--model", type=Path, help="an already exported ONNX model: skip training")
    ap.add_argument("--epochs", type=int, default=300, help="epoch cap (default 300)")
    ap.add_argument(
        "--budget-min", type=float, default=20.0, help="training wall-time cap, minutes (20)"
    )
    ap.add_argument("--imgsz", type=int, default=160, help="training image size (160)")
    ap.add_argument("--tile", type=int, default=80, help="view tile, px; upscale = imgsz/tile")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument(
        "--negatives", type=float, default=0.5, help="defect-free tiles per defect tile"
    )
    ap.add_argument("--plan", default="giga-underbody")
    ap.add_argument("--conf", type=float, default=0.25, help="score for an indication (0.25)")
    ap.add_argument("--keep-conf", type=float, default=0.01, help="lowest score in predictions")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument(
        "--with-castsight",
        action="store_true",
        help="also inspect TEST with castsight's default detector, part by part in turn with "
        "the peer (same load, same process; workers=2 as `castsight inspect`), into "
        "OUT/castsight/, and put the speed ratios in timing.json",
    )
    ap.add_argument(
        "--castsight-model",
        type=Path,
        help="with --with-castsight: castsight's model artifact (`castsight teach`), as "
        "`castsight inspect --model`; default: castsight's default detector",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu", help="training device: cpu, or 0 for a GPU")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Train (unless a model exists), then inspect the test set with the peer."""
    args = parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    model = args.model or out / MODEL_NAME
    meta_path = out / META_NAME
    if args.model is not None:  # the training facts travel next to the model
        meta_path = next(
            (p for p in (model.with_suffix(".json"), model.parent / META_NAME) if p.exists()),
            meta_path,
        )
    if not model.exists():
        if args.model is not None:
            sys.exit(f"--model {model}: no such file")
        if args.train is None:
            sys.exit(f"no model at {model}: pass --train TRAIN_DIR to train one")
        meta = train(args, model)
        meta_path.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    else:
        print(f"peer: reusing {model} (no training)")
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    timing = inspect_test(args, model, meta)
    print(json.dumps(timing, indent=2))
    return 0


# --------------------------------------------------------------------------- training


def _offline_ultralytics(out: Path) -> None:
    """Keep Ultralytics off the network and out of the home folder; call before importing it."""
    cfg = out / "ultralytics-config"
    cfg.mkdir(parents=True, exist_ok=True)
    os.environ["YOLO_CONFIG_DIR"] = str(cfg)
    os.environ["YOLO_OFFLINE"] = "true"
    os.environ["YOLO_AUTOINSTALL"] = "false"
    os.environ.setdefault("YOLO_VERBOSE", "true")
    # Ultralytics' dataset check wants Arial.ttf for its plots (off here) and would download
    # it; a font matplotlib ships stands in, in the run's own config folder.
    font = cfg / "Arial.ttf"
    if not font.exists():
        import matplotlib

        shutil.copy(Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf", font)


def train(args: argparse.Namespace, model_path: Path) -> dict[str, Any]:
    """Convert, train yolo11n from its YAML on the CPU, export ONNX; return the run's facts."""
    out: Path = args.out
    _offline_ultralytics(out)
    try:
        import torch
        from ultralytics import YOLO, settings
    except ImportError:
        sys.exit(
            "training the peer needs its own venv: `make peer-env`, then run this script "
            "with .venv-peer/bin/python"
        )
    import yolo_data

    settings.update({"sync": False, "tensorboard": False, "mlflow": False, "wandb": False})
    torch.set_num_threads(args.threads)
    upscale = args.imgsz / args.tile
    data_dir = out / "yolo-data"
    counts_path = data_dir / "counts.json"
    t0 = time.perf_counter()
    if counts_path.exists():
        counts = json.loads(counts_path.read_text(encoding="utf-8"))
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
        counts = yolo_data.convert(
            args.train,
            data_dir,
            tile=args.tile,
            upscale=upscale,
            negatives=args.negatives,
            seed=args.seed,
            progress=lambda i, n: print(f"\rconverting views {i}/{n}", end="", flush=True),
        )
        print()
        counts_path.write_text(json.dumps(counts, indent=2), encoding="utf-8")
    convert_s = time.perf_counter() - t0
    print(f"peer: YOLO dataset {counts} in {convert_s:.0f} s")

    yolo = YOLO("yolo11n.yaml")  # the architecture only: random weights, nothing downloaded
    t1 = time.perf_counter()
    cpu1 = _cpu_s()
    yolo.train(
        data=str(data_dir / "data.yaml"),
        epochs=args.epochs,
        time=args.budget_min / 60.0 if args.budget_min else None,
        imgsz=args.imgsz,
        batch=args.batch,
        device=args.device,
        workers=1,
        pretrained=False,
        amp=False,
        plots=False,
        val=False,  # validation only after the last epoch: the CPU budget goes to training
        cache="ram",
        project=str(out / "train"),
        name="yolo11n",
        exist_ok=True,
        seed=args.seed,
        deterministic=True,
        patience=0,
        warmup_epochs=1.0,
        close_mosaic=2,
        mosaic=1.0,
        scale=0.2,  # the defects are small: no 0.5x shrinking
        degrees=0.0,
        flipud=0.5,
        fliplr=0.5,
        hsv_h=0.0,  # grey images
        hsv_s=0.0,
        hsv_v=0.0,  # the contrast channels are in noise sigmas: keep them
        verbose=True,
    )
    train_s = time.perf_counter() - t1
    train_cpu_s = _cpu_s() - cpu1
    trainer = yolo.trainer
    epochs_done = int(trainer.epoch) + 1
    weights = Path(trainer.last)
    exported = YOLO(str(weights)).export(
        format="onnx", imgsz=args.imgsz, dynamic=True, simplify=False, device="cpu"
    )
    shutil.copy(exported, model_path)
    return {
        "model": str(model_path),
        "architecture": "yolo11n.yaml (from scratch, no pretrained weights)",
        "ultralytics": _version("ultralytics"),
        "torch": torch.__version__,
        "device": args.device,
        "threads": args.threads,
        "train_minutes": round(train_s / 60.0, 2),
        "train_cpu_minutes": round(train_cpu_s / 60.0, 2),
        "convert_minutes": round(convert_s / 60.0, 2),
        "budget_minutes": args.budget_min,
        "epochs": epochs_done,
        "epoch_cap": args.epochs,
        "imgsz": args.imgsz,
        "tile": args.tile,
        "upscale": upscale,
        "batch": args.batch,
        "train_images": counts["train_images"],
        "train_views": counts["views"],
        "train_boxes": counts["boxes"],
        "train_dir": str(args.train),
    }


def _cpu_s() -> float:
    """CPU seconds of this process and its finished children (data-loader workers)."""
    import resource

    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


# --------------------------------------------------------------------------- inspection


def inspect_test(args: argparse.Namespace, model: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Inspect TEST with the peer as castsight's detector; write records, predictions, timing."""
    from onnx_detector import OnnxPeerDetector

    from castsight.accept.plan import load_plan
    from castsight.io.parts import discover_parts
    from castsight.pipeline import Inspector
    from castsight.preprocess.prepare import load_calibration
    from castsight.report.records import append_record, coco_predictions, write_predictions

    out: Path = args.out
    test: Path = args.test
    upscale = float(meta.get("upscale") or args.imgsz / args.tile)
    peer = OnnxPeerDetector(
        model, upscale=upscale, conf=args.conf, keep_conf=args.keep_conf, threads=args.threads
    )
    cal_dir = test / "_calibration"
    calibration = load_calibration(cal_dir) if cal_dir.is_dir() else None
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    inspector = Inspector(
        load_plan(args.plan),
        calibration=calibration,
        detector_for=lambda _view: peer,
        model_info={"path": str(model), "sha256": digest, "part_type": "peer-yolo11n"},
    )
    parts = discover_parts([test])
    image_ids = _image_ids(test)
    records_path = out / "records.jsonl"
    records_path.write_text("", encoding="utf-8")
    predictions: list[dict[str, Any]] = []
    part_s, n_views = [], 0
    own = None
    if args.with_castsight:  # castsight's default detector, in turn with the peer
        from castsight.app import InspectOptions, build_inspector

        own_options = InspectOptions(args.plan, args.castsight_model, "auto", None, 2)
        own = build_inspector(own_options, calibration=calibration)
        (out / "castsight").mkdir(exist_ok=True)
        own_records = out / "castsight" / "records.jsonl"
        own_records.write_text("", encoding="utf-8")
        own_predictions: list[dict[str, Any]] = []
        own_s: list[float] = []
        own.inspect(parts[0])  # warm-up: numba compiles on the first part
    if parts:  # warm-up (not timed): onnxruntime allocates on its first run at a view's size
        inspector.inspect(parts[0])
        peer.boxes.clear()
    for i, part in enumerate(parts):
        rec = inspector.inspect(part)
        append_record(records_path, rec.to_dict())
        part_s.append(rec.timings["total_s"])
        n_views += len(rec.views)
        predictions += _predictions(rec, peer, test, image_ids)
        if own is not None:
            mine = own.inspect(part)
            append_record(own_records, mine.to_dict())
            own_s.append(mine.timings["total_s"])
            own_predictions += coco_predictions(mine, test)
        print(f"\rpeer inspecting parts {i + 1}/{len(parts)}", end="", flush=True)
    print()
    write_predictions(out / "predictions.json", predictions)
    timing = {
        "ms_per_view": round(1000.0 * sum(part_s) / max(n_views, 1), 2),
        "s_per_part": round(statistics.fmean(part_s), 4) if part_s else None,
        "s_per_part_median": round(statistics.median(part_s), 4) if part_s else None,
        "views_per_part": round(n_views / max(len(parts), 1), 2),
        "parts": len(parts),
        "train_minutes": meta.get("train_minutes"),
        "train_cpu_minutes": meta.get("train_cpu_minutes"),
        "epochs": meta.get("epochs"),
        "imgsz": meta.get("imgsz", args.imgsz),
        "train_images": meta.get("train_images"),
        "upscale": upscale,
        "conf": args.conf,
        "threads": args.threads,
        "model": str(model),
    }
    if own is not None:
        write_predictions(out / "castsight" / "predictions.json", own_predictions)
        own_ms = 1000.0 * sum(own_s) / max(n_views, 1)
        timing["castsight_ms_per_view"] = round(own_ms, 2)
        timing["castsight_s_per_part_median"] = round(statistics.median(own_s), 4)
        timing["peer_over_castsight_time"] = round(timing["ms_per_view"] / max(own_ms, 1e-9), 2)
        timing["castsight_model"] = str(args.castsight_model) if args.castsight_model else None
    (out / "timing.json").write_text(json.dumps(timing, indent=2), encoding="utf-8")
    try:
        write_overlay(test, peer, out / "overlay.png", calibration)
    except Exception as err:  # the picture is a convenience, never a failure
        print(f"peer: no overlay ({err})")
    return timing


def _image_ids(test: Path) -> dict[str, int]:
    path = test / "truth.json"
    if not path.exists():
        return {}
    truth = json.loads(path.read_text(encoding="utf-8"))
    return {img["file_name"]: img["id"] for img in truth["images"]}


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return "/".join(path.parts[-2:])


def _predictions(
    rec: Any, peer: Any, root: Path, image_ids: dict[str, int]
) -> list[dict[str, Any]]:
    """COCO results for one part: every peer box >= keep_conf, with the peer's own class."""
    from onnx_detector import footprint
    from pycocotools import mask as mask_utils

    out: list[dict[str, Any]] = []
    for view in rec.views:
        if not view.shape:
            continue
        boxes = peer.boxes.pop(str(view.path), [])
        name = _relative(Path(view.path), root)
        rows, cols = view.shape
        zeros = np.zeros((rows, cols), np.float32)
        for b in boxes:
            x, y, w, h = b.int_box(rows, cols)
            full = np.zeros((rows, cols), np.uint8, order="F")
            full[y : y + h, x : x + w] = footprint((x, y, w, h), b.class_id, zeros)
            rle = mask_utils.encode(full)
            entry: dict[str, Any] = {
                "file_name": name,
                "bbox": [round(b.x, 2), round(b.y, 2), round(b.w, 2), round(b.h, 2)],
                "score": round(b.score, 6),
                "category_id": b.class_id + 1,
                "segmentation": {"size": rle["size"], "counts": rle["counts"].decode()},
                "serial": rec.serial,
                "view": view.view,
            }
            if name in image_ids:
                entry["image_id"] = image_ids[name]
            out.append(entry)
    return out


def write_overlay(test: Path, peer: Any, path: Path, calibration: Any) -> None:
    """The test view with the most true defects: truth green, peer boxes red (yellow < conf)."""
    import cv2
    from peer_image import prepared_channels

    from castsight.io import read_radiograph
    from castsight.preprocess.prepare import prepare

    truth = json.loads((test / "truth.json").read_text(encoding="utf-8"))
    per_image: dict[int, list[list[float]]] = {}
    for ann in truth["annotations"]:
        per_image.setdefault(ann["image_id"], []).append(ann["bbox"])
    if not per_image:
        return
    best = max(per_image, key=lambda k: len(per_image[k]))
    img = next(i for i in truth["images"] if i["id"] == best)
    prep = prepare(read_radiograph(test / img["file_name"]), calibration)
    channels = prepared_channels(prep)
    boxes = peer.run(channels)
    zoom = 2
    big = cv2.resize(channels[..., ::-1], None, fx=zoom, fy=zoom)  # R: window, G/B: contrast
    pad = 4
    for x, y, w, h in per_image[best]:
        p0 = (int(x * zoom) - pad, int(y * zoom) - pad)
        p1 = (int((x + w) * zoom) + pad, int((y + h) * zoom) + pad)
        cv2.rectangle(big, p0, p1, (0, 200, 0), 1)
    for b in boxes:
        colour = (0, 0, 255) if b.score >= peer.conf else (0, 200, 255)
        p0 = (int(b.x * zoom), int(b.y * zoom))
        p1 = (math.ceil((b.x + b.w) * zoom), math.ceil((b.y + b.h) * zoom))
        cv2.rectangle(big, p0, p1, colour, 1)
        label = f"{b.class_id + 1}:{b.score:.2f}"
        cv2.putText(big, label, (p0[0], p0[1] - 2), cv2.FONT_HERSHEY_SIMPLEX, 0.35, colour, 1)
    cv2.putText(big, f"{img['file_name']}: truth green, peer red (>= conf) / yellow",
                (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1)  # fmt: skip
    cv2.imwrite(str(path), big)


if __name__ == "__main__":
    raise SystemExit(main())
