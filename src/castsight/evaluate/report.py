"""Run a whole evaluation and write it: DIR/metrics.json and DIR/report.html (+ PNGs).

Plots use matplotlib's Agg canvas (no display, no global backend switch).
Thumbnails of the worst misses and false calls are cut from the images next to
``truth.json`` when they can be read, windowed to 8 bits for display only.

>>> import tempfile, pathlib, json
>>> truth = {"images": [{"id": 1, "file_name": "a.tif", "width": 64, "height": 64}],
...          "categories": [{"id": 1, "name": "pore"}],
...          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [9, 9, 8, 8],
...                           "size_mm": 1.0, "d_prime": 12.0}]}
>>> ev = evaluate(truth, [{"image_id": 1, "category_id": 1, "bbox": [9, 9, 8, 8], "score": 0.9}])
>>> out = pathlib.Path(tempfile.mkdtemp())
>>> html = write_report(ev, out)
>>> json.loads((out / "metrics.json").read_text())["detection"]["recall"], html.name
(1.0, 'report.html')
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from castsight.errors import CastsightError
from castsight.evaluate.detection import (
    DetectionMetrics,
    Matching,
    PRCurve,
    detection_metrics,
    match_predictions,
    pr_curve,
)
from castsight.evaluate.pod import (
    SIZE_FIELDS,
    PODResult,
    describe_a90_95,
    fit_pod,
    hit_miss,
    pod_curve,
)
from castsight.evaluate.rates import FOUND_COLUMNS, PartRates, part_rates
from castsight.report.jinja import environment

Json = dict[str, Any]


@dataclass(frozen=True)
class Evaluation:
    """Everything an evaluation measured, with the inputs it measured."""

    truth: Json
    predictions: Sequence[Json]
    matching: Matching
    detection: DetectionMetrics
    pr: PRCurve
    pod: dict[str, PODResult]
    parts: PartRates | None
    sources: dict[str, str | None] = field(default_factory=dict)
    image_root: Path | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> Json:
        """JSON-ready metrics (no thumbnails, no raw inputs)."""
        out: Json = json_finite(
            {
                "sources": self.sources,
                "detection": self.detection.to_dict(),
                "pr_curve": {
                    "thresholds": self.pr.thresholds,
                    "precision": self.pr.precision,
                    "recall": self.pr.recall,
                },
                "parts": None if self.parts is None else self.parts.to_dict(),
                "pod": {k: r.to_dict(include_data=True) for k, r in self.pod.items()},
                "notes": list(self.notes),
            }
        )
        return out


def json_finite(value: Any) -> Any:
    """Tuples to lists, NaN/inf to None, recursively: what strict JSON can hold."""
    if isinstance(value, dict):
        return {str(k): json_finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def evaluate(
    truth: Json,
    predictions: Sequence[Json],
    *,
    parts: Sequence[Json] | None = None,
    records: Sequence[Json] | None = None,
    iou_threshold: float = 0.5,
    score_threshold: float = 0.5,
    mode: str = "box",
    pod_model: str = "logit",
    use_imaged: bool = False,
    sources: dict[str, str | None] | None = None,
    image_root: Path | None = None,
) -> Evaluation:
    """Measure checked truth and predictions (see :mod:`castsight.evaluate.inputs`)."""
    matching = match_predictions(truth, predictions, iou_threshold=iou_threshold, mode=mode)
    metrics = detection_metrics(
        truth,
        predictions,
        iou_threshold=iou_threshold,
        score_threshold=score_threshold,
        mode=mode,
        matching=matching,
    )
    pod = {}
    for size_field in SIZE_FIELDS:
        sizes, hits = hit_miss(
            truth, predictions, field=size_field, score_threshold=score_threshold, matching=matching
        )
        pod[size_field] = fit_pod(sizes, hits, model=pod_model)
    notes = []
    rates = None
    if parts is not None and records is not None:
        rates = part_rates(parts, records, use_imaged=use_imaged)
    else:
        notes.append("part-level rates need both parts.json and records.jsonl")
    return Evaluation(
        truth=truth,
        predictions=predictions,
        matching=matching,
        detection=metrics,
        pr=pr_curve(matching),
        pod=pod,
        parts=rates,
        sources=dict(sources or {}),
        image_root=image_root,
        notes=tuple(notes),
    )


def worst_misses(ev: Evaluation, limit: int = 20) -> list[Json]:
    """Truth annotations not found at the score threshold, largest ``size_mm`` first."""
    missed = set(ev.matching.missed_ids(ev.detection.score_threshold))
    anns = [a for a in ev.truth["annotations"] if a["id"] in missed]
    anns.sort(key=lambda a: -float(a.get("size_mm") or 0.0))
    extra = [{"size_mm": a.get("size_mm"), "d_prime": a.get("d_prime")} for a in anns[:limit]]
    return _rows(ev, anns[:limit], extra)


def worst_false_calls(ev: Evaluation, limit: int = 20) -> list[Json]:
    """Predictions at or above the score threshold matching no truth, highest score first."""
    false = ev.matching.false_indices(ev.detection.score_threshold)
    false.sort(key=lambda i: -ev.matching.scores[i])
    chosen = false[:limit]
    return _rows(
        ev, [ev.predictions[i] for i in chosen], [{"score": ev.matching.scores[i]} for i in chosen]
    )


def _rows(ev: Evaluation, objs: Sequence[Json], extras: Sequence[Json]) -> list[Json]:
    files = {image["id"]: image["file_name"] for image in ev.truth["images"]}
    names = {c["id"]: str(c.get("name", c["id"])) for c in ev.truth["categories"]}
    return [
        {
            "image_id": obj["image_id"],
            "file_name": files[obj["image_id"]],
            "category": names.get(obj.get("category_id"), str(obj.get("category_id"))),
            "bbox": list(obj["bbox"]),
            **extra,
            "thumbnail": None,
        }
        for obj, extra in zip(objs, extras, strict=True)
    ]


def _window(crop: NDArray[Any]) -> NDArray[np.uint8]:
    lo, hi = np.percentile(crop, (1.0, 99.5))
    scaled = (crop.astype(np.float64) - lo) / max(float(hi - lo), 1e-9)
    out: NDArray[np.uint8] = (np.clip(scaled, 0.0, 1.0) * 255.0).astype(np.uint8)
    return out


def _thumbnail(pixels: NDArray[Any], bbox: Sequence[float], colour: tuple[int, int, int]) -> Any:
    """RGB crop around ``bbox`` with the box outlined, enlarged to about 128 px."""
    x, y, w, h = bbox
    half = max(24.0, 1.5 * max(w, h))
    cx, cy = x + w / 2.0, y + h / 2.0
    r0, r1 = max(0, int(cy - half)), min(pixels.shape[0], int(cy + half) + 1)
    c0, c1 = max(0, int(cx - half)), min(pixels.shape[1], int(cx + half) + 1)
    if r1 <= r0 or c1 <= c0:
        return None
    gray = _window(pixels[r0:r1, c0:c1])
    rgb = np.repeat(gray[:, :, None], 3, axis=2)
    top, left = int(y) - r0 - 1, int(x) - c0 - 1
    bottom, right = math.ceil(y + h) - r0, math.ceil(x + w) - c0
    rows, cols = gray.shape
    for r in (top, bottom):
        if 0 <= r < rows:
            rgb[r, max(0, left) : min(cols, right + 1)] = colour
    for c in (left, right):
        if 0 <= c < cols:
            rgb[max(0, top) : min(rows, bottom + 1), c] = colour
    factor = max(1, min(8, math.ceil(128 / max(rows, cols))))
    return np.kron(rgb, np.ones((factor, factor, 1), dtype=np.uint8))


def _add_thumbnails(ev: Evaluation, rows: list[Json], out: Path, prefix: str, colour: Any) -> None:
    from matplotlib import image as mpl_image

    from castsight.io import read_radiograph

    if ev.image_root is None:
        return
    cache: dict[str, Any] = {}
    for n, row in enumerate(rows):
        name = row["file_name"]
        if name not in cache:
            try:
                cache = {name: read_radiograph(ev.image_root / name).pixels}
            except (CastsightError, OSError, ValueError):
                cache = {name: None}
        if cache[name] is None:
            continue
        thumb = _thumbnail(cache[name], row["bbox"], colour)
        if thumb is not None:
            path = out / "thumbs" / f"{prefix}{n:03d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            mpl_image.imsave(path, thumb)
            row["thumbnail"] = f"thumbs/{path.name}"


def _plot_pr(ev: Evaluation, path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.0, 4.0))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.step(ev.pr.recall, ev.pr.precision, where="post")
    d = ev.detection
    if d.recall is not None and d.precision is not None:
        ax.plot([d.recall], [d.precision], "o", label=f"score >= {d.score_threshold:g}")
        ax.legend(loc="lower left")
    ax.set(xlim=(0, 1.02), ylim=(0, 1.02), xlabel="recall", ylabel="precision")
    ax.set_title(f"Precision-recall ({d.mode} IoU >= {d.iou_threshold:g})")
    fig.savefig(path, dpi=100, bbox_inches="tight")


def _plot_pod(result: PODResult, label: str, path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.0, 4.0))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    sizes, hits = np.array(result.sizes), np.array(result.hits, dtype=float)
    ax.plot(sizes, hits, "|", color="0.4", alpha=0.6, label="hit / miss")
    curve = pod_curve(result)
    if curve.sizes:
        ax.plot(curve.sizes, curve.pod, label=f"POD ({result.model})")
        ax.plot(curve.sizes, curve.lower, "--", label=f"{result.confidence:.0%} lower bound")
        ax.axhline(0.9, color="0.7", lw=0.8)
        for value, style in ((result.a90, ":"), (result.a90_95, "-.")):
            if value is not None:
                ax.axvline(value, color="C3", ls=style, lw=0.8)
    else:
        ax.text(0.02, 0.5, "\n".join(result.notes)[:200], transform=ax.transAxes, fontsize=7)
    if sizes.size and sizes.min() > 0:
        ax.set_xscale("log")
    a9095 = describe_a90_95(result)
    ax.set(xlabel=label, ylabel="probability of detection", ylim=(-0.05, 1.05))
    ax.set_title(f"POD vs {label}: a90/95 = {a9095} (n = {result.n})")
    ax.legend(loc="lower right", fontsize=8)
    fig.savefig(path, dpi=100, bbox_inches="tight")


def write_report(
    ev: Evaluation, out: str | Path, *, limit: int = 20, thumbnails: bool = True
) -> Path:
    """Write ``metrics.json``, ``report.html`` and its PNGs into ``out``; return the HTML path.

    The page is ``evaluation.html.j2`` of the one HTML stack (:mod:`castsight.report.jinja`).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    misses, false_calls = worst_misses(ev, limit), worst_false_calls(ev, limit)
    if thumbnails:
        _add_thumbnails(ev, misses, out, "miss", (230, 40, 40))
        _add_thumbnails(ev, false_calls, out, "false", (255, 160, 0))
    plots: dict[str, str | None] = {"pr": None}
    if ev.pr.thresholds:
        _plot_pr(ev, out / "pr_curve.png")
        plots["pr"] = "pr_curve.png"
    for size_field, result in ev.pod.items():
        plots[size_field] = None
        if result.n:
            _plot_pod(result, size_field, out / f"pod_{size_field}.png")
            plots[size_field] = f"pod_{size_field}.png"
    metrics = {**ev.to_dict(), "worst_misses": misses, "worst_false_calls": false_calls}
    text = json.dumps(json_finite(metrics), indent=2, allow_nan=False)
    (out / "metrics.json").write_text(text + "\n", encoding="utf-8")
    html = (
        environment()
        .get_template("evaluation.html.j2")
        .render(
            s={k: ev.sources.get(k) for k in ("truth", "predictions", "parts", "records")},
            d=ev.detection,
            p=ev.parts,
            pod=ev.pod,
            plots=plots,
            notes=ev.notes,
            misses=misses,
            false_calls=false_calls,
            columns=FOUND_COLUMNS,
        )
    )
    path = out / "report.html"
    path.write_text(html, encoding="utf-8")
    return path
