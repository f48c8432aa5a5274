"""Detection time per view: local, learned (alone, 1 and 2 onnxruntime threads) and cascade.

Usage (from the repository root)::

    .venv/bin/python benchmarks/learned_speed.py VIEW.tif [--model MODEL] [--repeat 5]

``MODEL`` defaults to the shipped default model. Times are medians over
``--repeat`` runs of ``detect`` on one prepared view (preparation excluded),
on this machine as it is (shared machines: say so when quoting them).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from castsight.detect import LocalDetector
from castsight.detect.learned import CascadeDetector, LearnedDetector
from castsight.detect.normalise import normalise
from castsight.io import read_radiograph
from castsight.model import default_model, load_artifact
from castsight.preprocess.prepare import prepare


def _median_ms(fn: Any, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000.0 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("view", type=Path)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    model = args.model or default_model()
    if model is None:
        raise SystemExit("no model given and no default model shipped")
    part = load_artifact(model).learned()
    if part is None:
        raise SystemExit(f"{model} has no learned detector")
    image = prepare(read_radiograph(args.view))
    print(f"{args.view} {image.shape[1]}x{image.shape[0]}")
    local = LocalDetector()
    rows: dict[str, Callable[[], object]] = {
        "normalise": lambda: normalise(image.attenuation),
        "local": lambda: local.detect(image),
    }
    for threads in (1, 2):
        learned = LearnedDetector(part.onnx, replace(part.settings, threads=threads))
        cascade = CascadeDetector(local, learned)
        plural = "s" * (threads > 1)
        rows[f"learned ({threads} thread{plural})"] = partial(learned.detect, image)
        rows[f"cascade ({threads} thread{plural})"] = partial(cascade.detect, image)
    for name, fn in rows.items():
        print(f"{name:22s} {_median_ms(fn, args.repeat):7.0f} ms")


if __name__ == "__main__":
    main()
