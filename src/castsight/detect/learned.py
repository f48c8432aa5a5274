"""The ``learned`` detector: a small CNN taught from good images, run with onnxruntime.

:mod:`castsight.learn` trains the network on superimposed defects
(``castsight teach``); this module only runs it, so the core needs no
training framework. The image is normalised exactly as in training
(:func:`castsight.detect.normalise.normalise`: attenuation minus its local
background, in the image's own noise sigmas, so 8-bit and 16-bit images,
any intensity scale and any noise level look alike), run whole or in tiles
with overlap (large images; each output pixel comes from the tile where it
is farthest from a tile edge), and the per-pixel probability is cut at the
threshold calibrated on held-out good images.

Each connected region above the threshold (on the part) is an
:class:`~castsight.detect.base.Indication`: polarity from the sign of the
attenuation residual, depth the peak residual (ln units), and a
significance chosen so that ``score = sigmoid(logit(p) - logit(threshold))``:
the score is 0.5 at the calibrated operating point, as for the other
detectors, and rises with the network's confidence.

:class:`CascadeDetector` runs a cheap first stage (``local`` or
``reference``) and the network only on windows around its candidates,
keeping the candidates the network confirms.
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from castsight.detect.base import (
    SCORE_MIDPOINT,
    SCORE_SLOPE,
    Detector,
    Indication,
    Judged,
    judged_whole,
)
from castsight.detect.normalise import NORMALISATION, background, normalise
from castsight.errors import InputError
from castsight.preprocess.prepare import PreparedImage

F32 = NDArray[np.float32]
_P_CLIP = 1e-6


@dataclass(frozen=True)
class LearnedSettings:
    """How the learned model is run; saved with the model."""

    threshold: float = 0.5
    """Probability a pixel must exceed (calibrated on held-out good images)."""
    multiple: int = 32
    """Input sides must be multiples of this (the network's total stride)."""
    tile_px: int = 1024
    """Largest tile side; bigger images are cut into tiles with overlap."""
    overlap_px: int = 96
    """Overlap of neighbouring tiles (more than the network needs to see an edge)."""
    min_area_px: int = 2
    """Smaller regions above threshold are dropped."""
    normalisation: str = NORMALISATION
    threads: int | None = None
    """onnxruntime threads (default: the cores this process may use, at most 4)."""
    batch: int = 4
    """Tiles per onnxruntime call."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (threads are the host's business and are not saved)."""
        return {
            "threshold": self.threshold,
            "multiple": self.multiple,
            "tile_px": self.tile_px,
            "overlap_px": self.overlap_px,
            "min_area_px": self.min_area_px,
            "normalisation": self.normalisation,
            "batch": self.batch,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LearnedSettings:
        """Inverse of :meth:`to_dict`; unknown keys are ignored."""
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data and k != "threads"}
        return cls(**known)


def _threads() -> int:
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    return max(1, min(n, 4))


def _logit(p: float) -> float:
    p = min(max(p, _P_CLIP), 1.0 - _P_CLIP)
    return math.log(p / (1.0 - p))


def _spans(length: int, tile: int, overlap: int, multiple: int) -> list[tuple[int, int, int, int]]:
    """Per tile along one axis: (start, size, keep_from, keep_to) in image coordinates.

    Tiles are equal, multiples of ``multiple``, and may run past the image end
    (the image is padded); ``keep`` ranges tile the axis without overlap.
    """
    if length + (-length % multiple) <= tile:
        return [(0, length + (-length % multiple), 0, length)]
    n = math.ceil((length - overlap) / (tile - overlap))
    size = math.ceil((length + (n - 1) * overlap) / n)
    size += -size % multiple
    starts = [round(i * (length - size) / (n - 1)) for i in range(n)]
    out = []
    for i, s in enumerate(starts):
        lo = 0 if i == 0 else (s + starts[i - 1] + size) // 2
        hi = length if i == n - 1 else (starts[i + 1] + s + size) // 2
        out.append((s, size, lo, hi))
    return out


class LearnedDetector:
    """Run an ONNX defect network on prepared images; see the module docstring."""

    name = "learned"

    def __init__(self, onnx_model: bytes | str | Path, settings: LearnedSettings | None = None):
        import onnxruntime as ort

        self.settings = settings or LearnedSettings()
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.settings.threads or _threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # no busy-waiting: views run in parallel threads and machines are shared
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        source = str(onnx_model) if isinstance(onnx_model, Path) else onnx_model
        try:
            self.session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises its own untyped errors
            where = onnx_model if isinstance(onnx_model, str | Path) else None
            raise InputError(where, f"learned model does not load ({err})") from None

    def with_settings(self, settings: LearnedSettings) -> LearnedDetector:
        """The same network (one shared session) run with other settings."""
        twin = copy.copy(self)
        twin.settings = settings
        return twin

    def probability(self, x: F32) -> F32:
        """Per-pixel defect probability for a normalised image ``x`` (C x H x W, any size)."""
        cfg = self.settings
        rows, cols = x.shape[-2:]
        ys = _spans(rows, cfg.tile_px, cfg.overlap_px, cfg.multiple)
        xs = _spans(cols, cfg.tile_px, cfg.overlap_px, cfg.multiple)
        th, tw = ys[0][1], xs[0][1]
        need_r = max(ys[-1][0] + th, rows) - rows
        need_c = max(xs[-1][0] + tw, cols) - cols
        widths = ((0, 0), (0, int(need_r)), (0, int(need_c)))
        if min(rows, cols) > 1 and need_r < rows and need_c < cols:
            padded = np.pad(x, widths, mode="reflect")
        else:
            padded = np.pad(x, widths, mode="edge")
        tiles = [(y, xx) for y in ys for xx in xs]
        out = np.zeros((rows, cols), np.float32)
        for k in range(0, len(tiles), max(cfg.batch, 1)):
            chunk = tiles[k : k + cfg.batch]
            batch = np.stack([padded[:, y[0] : y[0] + th, c[0] : c[0] + tw] for y, c in chunk])
            logits = self.session.run(["logit"], {"x": batch.astype(np.float32)})[0]
            for (y, c), logit in zip(chunk, np.asarray(logits)[:, 0], strict=True):
                part = logit[y[2] - y[0] : y[3] - y[0], c[2] - c[0] : c[3] - c[0]]
                out[y[2] : y[3], c[2] : c[3]] = part
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(out, -30, 30))), np.float32)

    def significance(self, p: float) -> float:
        """Significance whose score is ``sigmoid(logit(p) - logit(threshold))``."""
        return SCORE_MIDPOINT + SCORE_SLOPE * (_logit(p) - _logit(self.settings.threshold))

    def detect_judged(self, image: PreparedImage) -> Judged:
        """:meth:`detect`; the whole part is judged."""
        return judged_whole(self.detect(image))

    def detect(self, image: PreparedImage) -> list[Indication]:
        """Find indications in one prepared view."""
        if not image.mask.any():
            return []
        a = np.ascontiguousarray(image.attenuation, np.float32)
        prob = self.probability(normalise(a))
        r = a - background(a)
        return self.indications(prob, r, image.mask)

    def indications(self, prob: F32, r: F32, mask: NDArray[np.bool_]) -> list[Indication]:
        """Connected regions of ``prob`` above threshold on ``mask``, as indications."""
        cfg = self.settings
        hot = ((prob > cfg.threshold) & mask).astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(hot, connectivity=8)
        found = []
        for lab in range(1, n):
            x, y, w, h, area = (int(v) for v in stats[lab])
            if area < cfg.min_area_px:
                continue
            sub = labels[y : y + h, x : x + w] == lab
            p = float(prob[y : y + h, x : x + w][sub].max())
            res = r[y : y + h, x : x + w][sub]
            polarity = 1 if float(res.mean()) <= 0 else -1  # less material: lower attenuation
            depth = float(max((-polarity * res).max(), 0.0))
            found.append(
                Indication(
                    bbox=(x, y, w, h),
                    mask=sub,
                    polarity=polarity,
                    depth=depth,
                    significance=self.significance(p),
                    detector=self.name,
                    extras={"probability": p},
                )
            )
        return found


@dataclass
class CascadeDetector:
    """A cheap first stage, then the network on windows around its candidates only."""

    first: Detector
    learned: LearnedDetector
    context_px: int = 64
    """Image around a candidate the network sees on each side."""
    name: str = field(default="cascade")

    def detect_judged(self, image: PreparedImage) -> Judged:
        """:meth:`detect`; the whole part is judged."""
        return judged_whole(self.detect(image))

    def detect(self, image: PreparedImage) -> list[Indication]:
        """First-stage candidates that the network confirms (probability over threshold)."""
        candidates = self.first.detect(image)
        if not candidates:
            return []
        a = np.ascontiguousarray(image.attenuation, np.float32)
        rows, cols = a.shape
        kept = []
        ctx = self.context_px
        for ind in candidates:
            x, y, w, h = ind.bbox
            y0, x0 = max(y - ctx, 0), max(x - ctx, 0)
            y1, x1 = min(y + h + ctx, rows), min(x + w + ctx, cols)
            prob = self.learned.probability(normalise(a[y0:y1, x0:x1]))
            inside = prob[y - y0 : y - y0 + h, x - x0 : x - x0 + w]
            foot = cv2.dilate(ind.mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
            p = float(inside[foot].max()) if foot.any() else 0.0
            if p > self.learned.settings.threshold:
                extras = {**ind.extras, "probability": p, "first_significance": ind.significance}
                sig = self.learned.significance(p)
                kept.append(replace(ind, significance=sig, detector=self.name, extras=extras))
        return kept
