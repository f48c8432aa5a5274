"""Build the default learned model shipped in ``src/castsight/data/default-model``.

Simulates defect-free views of both phantom types (giga-underbody and wheel,
a family of parts each: ``series=None``, so every part has its own
dimensions; no acceptable small pores either, so "good" really is
defect-free), then teaches the learned detector on them exactly as
``castsight teach --good`` does (superimposed defects, training, ONNX export
and check, threshold calibration, validation report). Rerun from the
repository root with the ``train`` extra installed::

    make default-model        # or: .venv/bin/python tools/build_default_model.py --out ...

About 15-20 minutes on a shared 2-core machine (the time budget bounds training).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from castsight.io.parts import discover_parts
from castsight.learn.teach import TeachSettings, teach_learned
from castsight.model import save_artifact
from castsight.preprocess.prepare import load_calibration
from castsight.simulate.dataset import SimulationConfig, write_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("src/castsight/data/default-model"))
    parser.add_argument("--parts", type=int, default=6, help="good parts per phantom type")
    parser.add_argument("--views", type=int, default=4)
    parser.add_argument("--size", type=int, default=768)
    parser.add_argument("--minutes", type=float, default=15.0, help="training time budget")
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    t0 = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="castsight-default-model-"))
    try:
        images = []
        cal = None
        for k, part_type in enumerate(("giga-underbody", "wheel")):
            folder = work / part_type
            config = SimulationConfig(
                part_type=part_type, n_parts=args.parts, n_views=args.views, size=args.size,
                defect_rate=0.0, small_pores_per_part=0.0, seed=args.seed + k, series=None,
            )  # fmt: skip
            write_dataset(config, folder)
            cal = load_calibration(folder / "_calibration")  # same detector model for both
            images += [(f"{part_type}/{p.serial}/{v.name}", v.path)
                       for p in discover_parts([folder]) for v in p.views]  # fmt: skip
        print(f"simulated {len(images)} good views in {time.perf_counter() - t0:.0f} s")
        base = TeachSettings(seed=args.seed)
        settings = replace(
            base, train=replace(base.train, steps=args.steps, time_budget_s=60 * args.minutes)
        )
        with Progress("{task.description}", BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), TextColumn("{task.fields[note]}")) as bar:  # fmt: skip
            tasks: dict[str, object] = {}

            def progress(stage: str, done: int, total: int, note: str) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total, note="")
                bar.update(tasks[stage], completed=done, note=note)  # type: ignore[arg-type]

            part = teach_learned(images, cal, settings, progress=progress)
        training = {"source": "tools/build_default_model.py", "simulated": vars(args) | {
            "out": str(args.out), "part_types": ["giga-underbody", "wheel"]}}  # fmt: skip
        model = save_artifact(args.out, reference=None, learned=part, part_type=None,
                              training=training, overwrite=True)  # fmt: skip
        val = part.summary["validation"]
        print(f"{model.size_bytes / 1e6:.2f} MB -> {args.out}; threshold "
              f"{part.settings.threshold:.3f}; validation recall {val['recall']:.2f}, "
              f"{val['false_per_good_image']:.2f} false/good image; "
              f"{time.perf_counter() - t0:.0f} s in all")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
