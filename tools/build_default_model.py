"""Build the default learned model shipped in ``src/castsight/data/default-model``.

Simulates defect-free views of both phantom types (giga-underbody and wheel,
a family of parts each: ``series=None``, so every part has its own
dimensions; no acceptable small pores either, so "good" really is
defect-free), at one or more image sizes, and teaches the learned detector
on them as ``castsight teach --good`` does (superimposed defects, training,
ONNX export and check, threshold calibration, validation report). The
calibration and validation images are further simulated parts, never
trained on, enough of them (at least 100 for calibration) that the
0.01-per-image false-indication target is resolved.

One machine, from the repository root with the ``train`` extra installed::

    make default-model        # or: .venv/bin/python tools/build_default_model.py

Or in two halves: train where there is a GPU, finish anywhere::

    python tools/build_default_model.py --train-only --checkpoint w.pt --device cuda --workers 14
    python tools/build_default_model.py --from-checkpoint w.pt

The training half writes the checkpoint every minute, so a cut-short run
still leaves its latest weights. ``--init CHECKPOINT`` fine-tunes given
weights (with ``--lr``); ``--design-negatives P`` adds flat design features
labelled sound to a share P of the samples.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from castsight.io.parts import discover_parts
from castsight.learn.net import DefectNet
from castsight.learn.network import TeachSettings, Trained, finish_learned, learn_network
from castsight.learn.train import load_checkpoint, save_checkpoint
from castsight.model import save_artifact
from castsight.preprocess.prepare import Calibration, load_calibration
from castsight.simulate.dataset import SimulationConfig, write_dataset

PART_TYPES = ("giga-underbody", "wheel")
Images = list[tuple[str, Path]]


def _simulate_one(job: tuple[str, int, int, int, int, str]) -> str:
    part_type, parts, views, size, seed, folder = job
    config = SimulationConfig(
        part_type=part_type, n_parts=parts, n_views=views, size=size,
        defect_rate=0.0, small_pores_per_part=0.0, seed=seed, series=None,
    )  # fmt: skip
    write_dataset(config, Path(folder))
    return folder


def simulate(
    work: Path, name: str, parts: int, views: int, sizes: Sequence[int], seed: int, jobs: int
) -> tuple[Images, Callable[[Path], Calibration | None]]:
    """Good views of both part types (``parts`` per type, shared among ``sizes``), in parallel."""
    todo = []
    for k, part_type in enumerate(PART_TYPES):
        for j, size in enumerate(sizes):
            n = parts // len(sizes) + (1 if j < parts % len(sizes) else 0)
            if n:
                folder = work / name / f"{part_type}-{size}"
                todo.append((part_type, n, views, size, seed + 100 * k + j, str(folder)))
    spawn = multiprocessing.get_context("spawn")  # forking a process with threads can hang
    with ProcessPoolExecutor(max_workers=max(1, min(jobs, len(todo))), mp_context=spawn) as pool:
        folders = list(pool.map(_simulate_one, todo))
    images: Images = []
    cals: dict[Path, Calibration] = {}
    for folder in map(Path, folders):
        cal = load_calibration(folder / "_calibration")  # one per detector size
        for p in discover_parts([folder]):
            for v in p.views:
                images.append((f"{folder.name}/{p.serial}/{v.name}", v.path))
                cals[v.path] = cal
    return images, cals.get


def _progress(bar: Progress) -> Callable[[str, int, int, str], None]:
    tasks: dict[str, object] = {}

    def progress(stage: str, done: int, total: int, note: str) -> None:
        if not bar.console.is_terminal and (done % 1000 == 0 or done == total):
            bar.console.print(f"{stage} {done}/{total} {note}")  # a log line where no bar shows
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total, note="")
        bar.update(tasks[stage], completed=done, note=note)  # type: ignore[arg-type]

    return progress


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("src/castsight/data/default-model"))
    parser.add_argument("--parts", type=int, default=24, help="training parts per part type")
    parser.add_argument("--views", type=int, default=6)
    parser.add_argument("--sizes", default="768,1536", help="image sizes, comma separated")
    parser.add_argument("--calib-parts", type=int, default=13, help="calibration parts per type")
    parser.add_argument("--valid-parts", type=int, default=4, help="validation parts per type")
    parser.add_argument("--minutes", type=float, default=15.0, help="training time budget")
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--patch", type=int, default=128, help="training patch side (px)")
    parser.add_argument("--widths", default="16,32,48,64", help="the U-Net's four widths")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if present)")
    parser.add_argument("--workers", type=int, default=1, help="sample-making processes")
    parser.add_argument("--jobs", type=int, default=4, help="simulation processes")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--train-only", action="store_true", help="stop after training")
    parser.add_argument("--checkpoint", type=Path, default=None, help="where training saves")
    parser.add_argument("--from-checkpoint", type=Path, default=None, help="skip training")
    parser.add_argument("--init", type=Path, default=None, help="checkpoint to fine-tune")
    parser.add_argument("--lr", type=float, default=None, help="peak learning rate")
    parser.add_argument(
        "--design-negatives",
        type=float,
        default=None,
        help="share of samples with flat design features labelled sound",
    )
    args = parser.parse_args()
    if args.train_only and args.checkpoint is None:
        parser.error("--train-only needs --checkpoint")
    t0 = time.perf_counter()
    arguments = json.loads(json.dumps(vars(args), default=str))  # plain types, for JSON
    sizes = [int(s) for s in args.sizes.split(",")]
    w = [int(x) for x in args.widths.split(",")]
    if len(w) != 4:
        parser.error("--widths takes four numbers")
    widths = (w[0], w[1], w[2], w[3])
    base = TeachSettings(seed=args.seed)
    settings = replace(
        base,
        synth=replace(base.synth, patch_px=args.patch, design_negatives=(
            base.synth.design_negatives if args.design_negatives is None
            else args.design_negatives)),
        train=replace(
            base.train, steps=args.steps, time_budget_s=60 * args.minutes, device=args.device,
            workers=args.workers, batch=args.batch or base.train.batch, seed=args.seed,
            widths=widths, lr=args.lr or base.train.lr,
        ),
    )  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="castsight-default-model-"))
    try:
        with Progress("{task.description}", BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), TextColumn("{task.fields[note]}")) as bar:  # fmt: skip
            progress = _progress(bar)
            if args.from_checkpoint is not None:
                net, summary = load_checkpoint(args.from_checkpoint)
                trained = Trained(net, summary)
            else:
                train_set, cal_train = simulate(
                    work, "train", args.parts, args.views, sizes, args.seed, args.jobs
                )
                bar.console.print(f"simulated {len(train_set)} good training views "
                                  f"in {time.perf_counter() - t0:.0f} s")  # fmt: skip

                def keep(net: DefectNet, step: int) -> None:
                    if args.checkpoint is not None:
                        save_checkpoint(args.checkpoint, net, {"partial_at_step": step})

                init = load_checkpoint(args.init)[0] if args.init is not None else None
                trained = learn_network(
                    train_set, cal_train, settings, progress=progress, checkpoint=keep, init=init
                )
                trained.summary["simulated"] = arguments | {"part_types": list(PART_TYPES)}
                if args.checkpoint is not None:
                    save_checkpoint(args.checkpoint, trained.net, trained.summary)
                t = trained.summary["training"]
                bar.console.print(f"trained {t['steps']} steps in {t['seconds']} s (stopped "
                                  f"by {t['stopped_by']}); loss {t['final_loss']}")  # fmt: skip
            if args.train_only:
                return
            seed = args.seed + 1000
            calib, cal_c = simulate(work, "calib", args.calib_parts, 4, sizes, seed, args.jobs)
            valid, cal_v = simulate(
                work, "valid", args.valid_parts, 4, sizes, seed + 500, args.jobs
            )

            def cal_for(path: Path) -> Calibration | None:
                return cal_c(path) or cal_v(path)

            part = finish_learned(trained, calib, valid, cal_for, settings, progress=progress)
        training = {"source": "tools/build_default_model.py", "arguments": arguments}
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
