"""The peer (an Ultralytics YOLO exported to ONNX) as a castsight ``Detector``.

Runs in castsight's main venv with onnxruntime alone (no torch, no
ultralytics). One view: :func:`peer_image.prepared_channels` (the prepared
attenuation as 3 channels of 8 bits), upscaled by ``upscale`` (the peer was trained
on upscaled tiles: the defects are 2-20 px, below YOLO's stride of 8), padded
to a multiple of 32, one ONNX run, score filter, class-agnostic NMS.

Each box becomes an :class:`castsight.detect.base.Indication`: a filled ellipse
inside the box (a 1 px line along the box's darker-in-attenuation diagonal for
the peer's ``crack`` class, so castsight's measurement sees a thin, long
footprint), polarity and depth from the prepared attenuation in the footprint
against a ring around it, and ``significance = 6 + 1.5 * logit(score)`` so that
``Indication.score`` gives the peer's confidence back. The pipeline then
measures and judges them with castsight's own rules.

Only boxes with score >= ``conf`` are returned to the pipeline (they make the
sentence); every box with score >= ``keep_conf`` is kept in :attr:`boxes` (per
view path) for the COCO predictions, as YOLO's own validation scores AP at a
low threshold.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray
from peer_image import prepared_channels

from castsight.detect.base import SCORE_MIDPOINT, SCORE_SLOPE, Indication, Judged, judged_whole

CLASS_NAMES = ("pore", "shrinkage", "crack", "inclusion")
"""YOLO class k is COCO category k + 1 (the simulator's truth.json ids)."""
PAD_VALUE = 114
"""Ultralytics' letterbox grey."""
MAX_SCORE = 1.0 - 1e-6


def score_to_significance(score: float) -> float:
    """Inverse of ``castsight.detect.base.significance_to_score``.

    >>> from castsight.detect.base import significance_to_score
    >>> round(significance_to_score(score_to_significance(0.83)), 6)
    0.83
    """
    p = min(max(score, 1e-6), MAX_SCORE)
    return SCORE_MIDPOINT + SCORE_SLOPE * math.log(p / (1.0 - p))


@dataclass(frozen=True)
class PeerBox:
    """One peer detection in view pixels (float box, COCO order)."""

    x: float
    y: float
    w: float
    h: float
    score: float
    class_id: int
    """0-based YOLO class; COCO category is ``class_id + 1``."""

    def int_box(self, rows: int, cols: int) -> tuple[int, int, int, int]:
        """The box as whole pixels inside a ``rows x cols`` view (at least 1 x 1)."""
        x0 = min(max(math.floor(self.x), 0), cols - 1)
        y0 = min(max(math.floor(self.y), 0), rows - 1)
        x1 = min(max(math.ceil(self.x + self.w), x0 + 1), cols)
        y1 = min(max(math.ceil(self.y + self.h), y0 + 1), rows)
        return x0, y0, x1 - x0, y1 - y0


def decode(
    output: NDArray[np.floating],
    *,
    scale: float,
    conf: float,
    iou: float = 0.6,
    max_det: int = 300,
) -> list[PeerBox]:
    """YOLO's raw ONNX head ``(1, 4 + nc, N)`` (cx, cy, w, h, class scores) to boxes.

    Coordinates are divided by ``scale`` (network input px per view px).
    Class-agnostic NMS, highest score first.

    >>> out = np.zeros((1, 6, 3), np.float32)
    >>> out[0, :, 0] = [20, 20, 10, 10, 0.9, 0.1]   # kept
    >>> out[0, :, 1] = [21, 20, 10, 10, 0.1, 0.8]   # suppressed by box 0
    >>> out[0, :, 2] = [80, 80, 4, 4, 0.01, 0.02]   # below conf
    >>> [(b.x, b.y, b.w, round(b.score, 2), b.class_id) for b in decode(out, scale=2.0, conf=0.05)]
    [(7.5, 7.5, 5.0, 0.9, 0)]
    """
    pred = np.asarray(output, np.float32)[0].T  # N x (4 + nc)
    scores_all = pred[:, 4:]
    cls = scores_all.argmax(1)
    scores = scores_all[np.arange(len(pred)), cls]
    keep = scores >= conf
    if not keep.any():
        return []
    pred, cls, scores = pred[keep], cls[keep], scores[keep]
    xywh = np.column_stack(
        [pred[:, 0] - pred[:, 2] / 2, pred[:, 1] - pred[:, 3] / 2, pred[:, 2], pred[:, 3]]
    )
    order = np.argsort(-scores, kind="stable")
    chosen = _nms(xywh[order], iou)[:max_det]
    out = []
    for k in order[chosen]:
        x, y, w, h = (float(v) / scale for v in xywh[k])
        out.append(PeerBox(x, y, w, h, float(scores[k]), int(cls[k])))
    return out


def _nms(boxes: NDArray[np.float32], iou: float) -> list[int]:
    """Greedy NMS over boxes already sorted by score (x, y, w, h)."""
    x0, y0 = boxes[:, 0], boxes[:, 1]
    x1, y1 = x0 + boxes[:, 2], y0 + boxes[:, 3]
    area = np.maximum(boxes[:, 2], 0) * np.maximum(boxes[:, 3], 0)
    alive = np.ones(len(boxes), bool)
    kept: list[int] = []
    for i in range(len(boxes)):
        if not alive[i]:
            continue
        kept.append(i)
        iw = np.clip(np.minimum(x1[i], x1) - np.maximum(x0[i], x0), 0, None)
        ih = np.clip(np.minimum(y1[i], y1) - np.maximum(y0[i], y0), 0, None)
        inter = iw * ih
        overlap = inter / np.maximum(area[i] + area - inter, 1e-9)
        alive &= overlap <= iou
    return kept


def footprint(
    box: tuple[int, int, int, int], class_id: int, att: NDArray[Any]
) -> NDArray[np.bool_]:
    """The indication's mask (``h x w``): an ellipse, or a thin diagonal for a crack."""
    x, y, w, h = box
    mask = np.zeros((h, w), np.uint8)
    if CLASS_NAMES[class_id] == "crack" and max(w, h) >= 4:
        patch = np.asarray(att[y : y + h, x : x + w], np.float32)
        lines = []
        for p0, p1 in (((0, 0), (w - 1, h - 1)), ((0, h - 1), (w - 1, 0))):
            m = np.zeros((h, w), np.uint8)
            cv2.line(m, p0, p1, 1, 1)
            lines.append((float(patch[m > 0].mean()), m))
        mask = min(lines, key=lambda t: t[0])[1]  # a crack is less material: lower attenuation
    else:
        cv2.ellipse(mask, (((w - 1) / 2.0, (h - 1) / 2.0), (float(w), float(h)), 0.0), 1, -1)
    if not mask.any():
        mask[:] = 1
    return mask > 0


def polarity_depth(
    box: tuple[int, int, int, int], mask: NDArray[np.bool_], att: NDArray[Any]
) -> tuple[int, float]:
    """+1 (less material) or -1 and the attenuation change against a ring around the box."""
    x, y, w, h = box
    rows, cols = att.shape
    pad = max(3, (max(w, h) + 1) // 2)
    r0, r1 = max(y - pad, 0), min(y + h + pad, rows)
    c0, c1 = max(x - pad, 0), min(x + w + pad, cols)
    ring = np.ones((r1 - r0, c1 - c0), bool)
    ring[y - r0 : y - r0 + h, x - c0 : x - c0 + w] = False
    region = np.asarray(att[r0:r1, c0:c1], np.float32)
    background = float(np.median(region[ring])) if ring.any() else float(region.mean())
    inside = np.asarray(att[y : y + h, x : x + w], np.float32)[mask]
    diff = background - inside  # > 0: less material along the ray
    mean = float(diff.mean())
    polarity = 1 if mean >= 0 else -1
    depth = float(np.percentile(polarity * diff, 90))
    return polarity, max(depth, 1e-4)


class OnnxPeerDetector:
    """castsight ``Detector`` around a YOLO ONNX model (see the module docstring)."""

    name = "peer-yolo11n"

    def __init__(
        self,
        model: str | Path,
        *,
        upscale: float = 2.0,
        conf: float = 0.25,
        keep_conf: float = 0.01,
        iou: float = 0.6,
        threads: int | None = None,
    ) -> None:
        try:
            import onnxruntime as ort
        except ImportError as err:  # pragma: no cover - depends on the venv
            raise SystemExit(
                "the peer needs onnxruntime: `.venv/bin/pip install onnxruntime` "
                "(or run with .venv-peer/bin/python after `make peer-env`)"
            ) from err
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(
            str(model), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self.input_name = self.session.get_inputs()[0].name
        self.upscale = float(upscale)
        self.conf = conf
        self.keep_conf = min(keep_conf, conf)
        self.iou = iou
        self.boxes: dict[str, list[PeerBox]] = {}
        """Every box >= keep_conf, by the view's file path (for predictions.json)."""
        self._lock = threading.Lock()

    def run(self, image: NDArray[np.uint8]) -> list[PeerBox]:
        """Boxes (score >= keep_conf) on one view: ``rows x cols x 3`` (or grey, repeated)."""
        img = image if image.ndim == 3 else np.repeat(image[..., None], 3, axis=-1)
        rows, cols = img.shape[:2]
        s = self.upscale
        h, w = round(rows * s), round(cols * s)
        if s != 1:
            img = cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)
        H, W = -(-h // 32) * 32, -(-w // 32) * 32
        padded = np.full((H, W, 3), PAD_VALUE, np.uint8)
        padded[:h, :w] = img
        x = (padded.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]
        (out,) = self.session.run(None, {self.input_name: np.ascontiguousarray(x)})[:1]
        boxes = decode(out, scale=s, conf=self.keep_conf, iou=self.iou)
        return [b for b in boxes if b.w > 0 and b.h > 0 and b.x < cols and b.y < rows]

    def detect_judged(self, image: Any) -> Judged:
        """castsight's Detector protocol: the whole part is judged."""
        return judged_whole(self.detect(image))

    def detect(self, image: Any) -> list[Indication]:
        """castsight's Detector protocol: a PreparedImage in, Indications out."""
        boxes = self.run(prepared_channels(image))
        prov = image.radiograph.provenance
        if prov is not None and prov.path:
            with self._lock:
                self.boxes[str(prov.path)] = boxes
        rows, cols = image.shape
        att = image.attenuation
        out = []
        for b in boxes:
            if b.score < self.conf:
                continue
            box = b.int_box(rows, cols)
            mask = footprint(box, b.class_id, att)
            polarity, depth = polarity_depth(box, mask, att)
            out.append(
                Indication(
                    bbox=box,
                    mask=mask,
                    polarity=polarity,
                    depth=depth,
                    significance=score_to_significance(b.score),
                    detector=self.name,
                    extras={"peer_class": float(b.class_id + 1), "peer_score": b.score},
                )
            )
        return out
