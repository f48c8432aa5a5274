"""Time one 28-view part of 1536 x 1536 uint16 views from disk to sentence, per stage.

    .venv/bin/python benchmarks/inspect_speed.py [--views 28] [--size 1536] [--workers 2]
        [--detector local|reference|guided] [--good 10]

Simulates the part once (not timed), then inspects it ``--repeat`` times with
the shipped giga-underbody plan and prints the median time per part and the
per-stage sums. ``--detector reference`` first simulates ``--good`` good parts
of the same series and cell and teaches the views from them (not timed);
``--detector guided`` adds the shipped guided starting weights to that model
(untrained on these parts, threshold 0.9999: for timing, not accuracy; needs
the ``train`` extra for the ONNX export).
Stage times are CPU-side wall times summed over views, so with 2 workers they
add up to more than the part time.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--views", type=int, default=28)
    ap.add_argument("--size", type=int, default=1536)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--detector", choices=("local", "reference", "guided"), default="local")
    ap.add_argument("--good", type=int, default=10, help="good parts to teach reference from")
    args = ap.parse_args()

    from castsight.accept.plan import load_plan
    from castsight.app import InspectOptions, build_inspector
    from castsight.io.parts import discover_parts
    from castsight.pipeline import STAGES
    from castsight.preprocess.prepare import load_calibration
    from castsight.simulate.dataset import SimulationConfig, write_dataset

    root = Path(tempfile.mkdtemp(prefix="castsight-bench-"))
    config = SimulationConfig(n_parts=1, n_views=args.views, size=args.size, defect_rate=1.0,
                              series=1)  # fmt: skip
    write_dataset(config, root / "part")
    part = discover_parts([root / "part"])[0]
    plan = load_plan("giga-underbody")
    model = None
    if args.detector in ("reference", "guided"):
        model = _teach(config, root, args.good, guided=args.detector == "guided")
    options = InspectOptions(model=model, detector=args.detector, workers=args.workers)
    cal = load_calibration(root / "part" / "_calibration")
    inspector = build_inspector(options, plan=plan, calibration=cal)
    inspector.inspect(part)  # warm-up: imports, numba, caches
    totals: list[float] = []
    stages: dict[str, list[float]] = {s: [] for s in STAGES}
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        rec = inspector.inspect(part)
        totals.append(time.perf_counter() - t0)
        for s in STAGES:
            stages[s].append(rec.timings[s])
    n = args.views
    print(
        f"{n} views of {args.size}x{args.size} uint16, {args.detector} detector, "
        f"workers={args.workers}, "
        f"repeat={args.repeat}: sentence {rec.sentence}"
    )
    print(
        f"per part: {statistics.median(totals):.2f} s (median), "
        f"{statistics.median(totals) / n * 1000:.0f} ms per view"
    )
    for s in STAGES:
        med = statistics.median(stages[s])
        print(f"  {s[:-2]:<11} {med:6.2f} s summed over views ({med / n * 1000:5.1f} ms/view)")


def _teach(config: Any, root: Path, n_good: int, guided: bool) -> Path:
    """Simulate good parts of the same series and cell, teach them, return the model."""
    import dataclasses

    from castsight.app import TeachOptions, teach
    from castsight.simulate.dataset import write_dataset

    good = dataclasses.replace(config, n_parts=n_good, defect_rate=0.0, seed=config.seed + 1,
                               detector_seed=config.seed)  # fmt: skip
    write_dataset(good, root / "good")
    t0 = time.perf_counter()
    model = teach(TeachOptions((root / "good",), root / "model", "giga-underbody")).model
    print(f"taught {config.n_views} views from {n_good} good parts in "
          f"{time.perf_counter() - t0:.0f} s")  # fmt: skip
    if guided:
        _add_guided(model)
    return model


def _add_guided(model: Path) -> None:
    """Put the shipped guided starting weights into ``model`` (threshold 0.9999)."""
    from castsight.detect.guided import GUIDED_NORMALISATION
    from castsight.detect.learned import LearnedSettings
    from castsight.learn.export import export_onnx
    from castsight.learn.guided_network import initial_guided_network
    from castsight.model import load_artifact, save_artifact
    from castsight.model.artifact import LearnedPart

    net = initial_guided_network("default")
    assert net is not None, "this installation has no guided starting weights"
    settings = LearnedSettings(threshold=0.9999, multiple=net.multiple,
                               normalisation=GUIDED_NORMALISATION)  # fmt: skip
    artifact = load_artifact(model)
    save_artifact(model, reference=artifact.reference(), overwrite=True,
                  guided=LearnedPart(export_onnx(net), settings, {"for": "timing"}),
                  part_type=artifact.part_type)  # fmt: skip


if __name__ == "__main__":
    main()
