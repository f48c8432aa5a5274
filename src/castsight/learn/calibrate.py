"""Threshold calibration on held-out good images, and the validation report.

**Threshold.** The network's probability is not a false-call rate. On
held-out good images (never trained on) every region of probability over a
low floor is a false indication at some threshold; the threshold is set so
that at most ``target_per_image`` (default 0.01) false indications per image
remain. With fewer than ``1 / target`` calibration images that cannot be
resolved; the threshold is then put above the strongest false region seen
(``MARGIN_LOGIT`` higher in logit), i.e. zero false indications on every
calibration image. It is never below ``MIN_THRESHOLD``.

**Validation** (other held-out good images): false indications per clean
image, and defects superimposed with the simulator's physical superimposition
(:func:`castsight.simulate.superimpose.superimpose`, on the raw radiograph, a
different path from the training synthesis) found or missed, fitted to a
probability-of-detection curve over defect size (:func:`castsight.evaluate.pod.fit_pod`).
Written next to the model: ``validation.json``, ``pod.png``, ``overlay.png``.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from castsight.detect.base import Indication
from castsight.detect.learned import LearnedDetector
from castsight.detect.normalise import normalise
from castsight.evaluate.pod import fit_pod, pod_curve
from castsight.preprocess.prepare import Calibration, PreparedImage, prepare
from castsight.radiograph import Radiograph
from castsight.simulate.superimpose import superimpose

FLOOR = 0.05
"""Regions are collected above this probability."""
MIN_THRESHOLD = 0.1
"""The threshold is never lower (an under-confident network still needs a floor)."""
MARGIN_LOGIT = 0.5
"""Safety above the strongest false region when the target cannot be resolved."""


@dataclass(frozen=True)
class ThresholdChoice:
    """The calibrated threshold and how it was chosen."""

    threshold: float
    target_per_image: float
    n_images: int
    peaks: tuple[float, ...]
    rule: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the strongest ten false peaks only)."""
        top = sorted(self.peaks, reverse=True)[:10]
        return {
            "threshold": self.threshold,
            "target_per_image": self.target_per_image,
            "n_images": self.n_images,
            "rule": self.rule,
            "strongest_false_peaks": [round(p, 6) for p in top],
        }


def false_peaks(detector: LearnedDetector, image: PreparedImage) -> list[float]:
    """Peak probability of every region above :data:`FLOOR` on a good image."""
    a = np.ascontiguousarray(image.attenuation, np.float32)
    return region_peaks(detector, detector.probability(normalise(a)), a, image.mask)


def region_peaks(
    detector: LearnedDetector,
    prob: NDArray[np.float32],
    r: NDArray[np.float32],
    mask: NDArray[np.bool_],
) -> list[float]:
    """Peak probability of every region of ``prob`` above :data:`FLOOR` on ``mask``."""
    low = detector.with_settings(replace(detector.settings, threshold=FLOOR, min_area_px=1))
    return [float(i.extras["probability"]) for i in low.indications(prob, r, mask)]


def choose_threshold(
    peaks_per_image: Sequence[Sequence[float]], target_per_image: float = 0.01
) -> ThresholdChoice:
    """Threshold leaving at most ``target_per_image`` false indications per image."""
    n = len(peaks_per_image)
    peaks = sorted((p for ps in peaks_per_image for p in ps), reverse=True)
    allowed = math.floor(target_per_image * n)
    if not peaks:
        t, rule = MIN_THRESHOLD, "no false region above the floor on any calibration image"
    elif allowed >= len(peaks):
        t, rule = MIN_THRESHOLD, f"{len(peaks)} false regions, {allowed} allowed"
    elif allowed >= 1:
        t, rule = peaks[allowed], f"the {allowed + 1}-th strongest of {len(peaks)} false regions"
    else:
        top = min(max(peaks[0], 1e-6), 1 - 1e-6)
        t = 1.0 / (1.0 + math.exp(-(math.log(top / (1 - top)) + MARGIN_LOGIT)))
        rule = (
            f"{n} images cannot resolve {target_per_image}/image: above the strongest "
            f"false region ({top:.4f}) by {MARGIN_LOGIT} in logit"
        )
    return ThresholdChoice(max(float(t), MIN_THRESHOLD), target_per_image, n, tuple(peaks), rule)


def _hit(defect_mask: NDArray[np.bool_], found: Sequence[Indication]) -> bool:
    for ind in found:
        x, y, w, h = ind.bbox
        if defect_mask[y : y + h, x : x + w][ind.mask].any():
            return True
    return False


def validate(
    detector: LearnedDetector,
    radiographs: Sequence[Radiograph],
    calibration: Calibration | Sequence[Calibration | None] | None,
    *,
    seed: int = 0,
    defects_per_image: int = 12,
    progress: Callable[[int], None] | None = None,
    judge: Callable[[PreparedImage, PreparedImage | None], list[Indication]] | None = None,
    label: str = "learned detector",
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Validation figures and report files (see the module docstring).

    ``calibration``: one for all radiographs, or one each. ``judge(image, clean)``
    finds the indications of a prepared image (``clean``: the good image a
    superimposed one was made from, None for the good image itself); default
    ``detector.detect(image)``. ``label`` names the detector in the overlay.
    """
    find = judge or (lambda image, _clean: detector.detect(image))
    cals = (
        list(calibration) if isinstance(calibration, Sequence) else [calibration] * len(radiographs)
    )
    rng = np.random.default_rng(seed)
    false_clean: list[int] = []
    sizes, contrasts, hits, kinds = [], [], [], []
    false_sup = 0
    overlay: tuple[Any, ...] | None = None
    for radiograph, cal in zip(radiographs, cals, strict=True):
        prep = prepare(radiograph, cal)
        false_clean.append(len(find(prep, None)))
        out = superimpose(
            radiograph,
            rng,
            n_defects=defects_per_image,
            size_px=(2.0, 40.0),
            contrast=(0.003, 0.1),
            offset=_dark_level(cal),
        )
        sup = prepare(out.radiograph, cal)
        found = find(sup, prep)
        union = np.zeros(sup.shape, bool)
        for d in out.defects:
            full = d.full_mask(sup.shape)
            union |= full
            sizes.append(d.size_px)
            contrasts.append(d.peak_contrast)
            kinds.append(d.kind)
            hits.append(_hit(full, found))
        false_sup += sum(not _hit(union, [i]) for i in found)
        if overlay is None:
            overlay = (sup.attenuation, out.defects, found)
        if progress is not None:
            progress(len(false_clean))
    pod = fit_pod(sizes, hits) if sizes else None
    n = max(len(radiographs), 1)
    figures: dict[str, Any] = {
        "images": len(radiographs),
        "false_per_good_image": sum(false_clean) / n,
        "false_per_image_with_defects": false_sup / n,
        "defects": len(hits),
        "recall": float(np.mean(hits)) if hits else None,
        "recall_by_kind": {
            k: float(np.mean([h for h, kk in zip(hits, kinds, strict=True) if kk == k]))
            for k in sorted(set(kinds))
        },
        "pod_size_px": None
        if pod is None
        else {"a50": pod.a50, "a90": pod.a90, "a90_95": pod.a90_95, "notes": list(pod.notes)},
        "threshold": detector.settings.threshold,
    }
    files = {"pod.png": _pod_png(pod, sizes, hits), "overlay.png": _overlay_png(overlay, label)}
    return figures, files


def _dark_level(calibration: Calibration | None) -> float:
    if calibration is None or calibration.dark is None:
        return 0.0
    return float(np.median(calibration.dark))


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def _pod_png(pod: Any, sizes: Sequence[float], hits: Sequence[bool]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    s, h = np.asarray(sizes, float), np.asarray(hits, float)
    jitter = np.random.default_rng(0).uniform(-0.03, 0.03, s.size)
    ax.scatter(s, h + jitter, s=8, alpha=0.5, color="grey", label="hit / miss")
    if pod is not None and pod.converged:
        curve = pod_curve(pod)
        ax.plot(curve.sizes, curve.pod, color="C0", label="POD")
        ax.plot(curve.sizes, curve.lower, color="C0", ls="--", label="95 % lower bound")
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    if s.size:
        ax.set_xticks([v for v in (1, 2, 5, 10, 20, 50, 100, 200, 500)
                       if s.min() / 1.5 <= v <= s.max() * 1.5])  # fmt: skip
    ax.set_ylim(-0.08, 1.08)
    ax.set_xlabel("defect size (px)")
    ax.set_ylabel("probability of detection")
    found = int(np.sum(h))
    fitted = "" if pod is not None and pod.converged else ": no POD curve could be fitted"
    ax.set_title(f"held-out good images + superimposed defects\n"
                 f"{found} of {h.size} found{fitted}", fontsize=10)  # fmt: skip
    ax.legend(loc="center right", fontsize=8)
    return _png(fig)


def _overlay_png(overlay: tuple[Any, ...] | None, label: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    fig, ax = plt.subplots(figsize=(7, 7))
    if overlay is not None:
        a, defects, found = overlay
        lo, hi = np.percentile(a, [1, 99])
        ax.imshow(a, cmap="gray_r", vmin=lo, vmax=hi)
        for d in defects:
            x, y, w, h = d.bbox
            ax.add_patch(Rectangle((x - 3, y - 3), w + 6, h + 6, fill=False, ec="lime", lw=1))
        for ind in found:
            x, y, w, h = ind.bbox
            ax.add_patch(Rectangle((x - 1, y - 1), w + 2, h + 2, fill=False, ec="red", lw=1))
    ax.set_title(f"green: superimposed defects, red: {label}")
    ax.axis("off")
    return _png(fig)
