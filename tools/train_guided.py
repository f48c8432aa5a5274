"""Train the ``guided`` network on a series' good parts (outside ``castsight teach``).

The good parts' reference comparisons, leave-one-out (:mod:`castsight.learn.comparisons`),
with defects superimposed; a checkpoint (``--checkpoint``, written every minute)
and its ONNX export beside it (``.onnx``). For measuring on the standard
bench, and for training on a lent GPU::

    python tools/train_guided.py --good out/bench/standard/data/good \\
        --reference-model out/bench/standard/reference/model --minutes 5 --checkpoint g.pt
    # on a GPU machine, from nothing: simulate the standard suite's good set first
    python tools/train_guided.py --simulate-standard /tmp/good --minutes 7 \\
        --device cuda --workers 14 --batch 64 --checkpoint g.pt
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from castsight.io.parts import discover_parts
from castsight.learn.comparisons import GuidedSampleMaker
from castsight.learn.export import export_onnx, verify_onnx
from castsight.learn.guided_network import training_crops
from castsight.learn.synth import SynthSettings
from castsight.learn.train import TrainSettings, load_checkpoint, save_checkpoint, train
from castsight.model.artifact import load_artifact
from castsight.preprocess.prepare import load_calibration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--good", type=Path)
    parser.add_argument("--simulate-standard", type=Path, help="simulate the standard good set")
    parser.add_argument("--parts", type=int, help="simulate only this many good parts")
    parser.add_argument("--reference-model", type=Path)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--device")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--batch", type=int, default=12)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--widths", default="12,24,32,48")
    parser.add_argument("--crops-per-image", type=int, default=32)
    parser.add_argument("--init", type=Path, help="fine-tune this checkpoint")
    parser.add_argument("--checkpoint", type=Path, required=True)
    args = parser.parse_args()
    t0 = time.perf_counter()
    good = args.good
    if args.simulate_standard is not None:
        from castsight.bench.suites import STANDARD
        from castsight.simulate.dataset import write_dataset

        good = args.simulate_standard
        config = STANDARD.config(STANDARD.good)
        if args.parts:
            config = replace(config, n_parts=args.parts)
        write_dataset(config, good)
        print(f"simulated the standard good set in {time.perf_counter() - t0:.0f} s", flush=True)
    if good is None:
        parser.error("--good or --simulate-standard is required")
    cal = load_calibration(good / "_calibration") if (good / "_calibration").is_dir() else None
    parts = discover_parts([good])
    if args.reference_model is not None:
        refs = load_artifact(args.reference_model).reference()
    else:
        from castsight.teach.statistics import learn_reference

        refs = learn_reference(parts, cal)
        print(f"reference learned at {time.perf_counter() - t0:.0f} s", flush=True)
    synth = SynthSettings(crops_per_image=args.crops_per_image)
    images = [(f"{p.serial}/{v.name}", v.path) for p in parts for v in p.views]
    notes: list[str] = []
    crops = training_crops(images, refs, cal, synth, np.random.default_rng(0), notes=notes)
    for note in notes:
        print(f"note: {note}")
    print(f"{len(crops)} crops at {time.perf_counter() - t0:.0f} s", flush=True)
    widths = tuple(int(w) for w in args.widths.split(","))
    settings = TrainSettings(
        steps=10_000_000, time_budget_s=60.0 * args.minutes, batch=args.batch, lr=args.lr,
        widths=(widths[0], widths[1], widths[2], widths[3]), device=args.device,
        workers=args.workers,
    )  # fmt: skip
    init = load_checkpoint(args.init)[0] if args.init is not None else None
    maker = GuidedSampleMaker(crops, synth, seed=1)

    def progress(step: int, loss: float) -> None:
        if step % 500 == 0:
            print(f"step {step} loss {loss:.3f} at {time.perf_counter() - t0:.0f} s", flush=True)

    def checkpoint(net: object, step: int) -> None:
        save_checkpoint(args.checkpoint, net, {"steps": step})  # type: ignore[arg-type]

    result = train(maker, settings, progress=progress, checkpoint=checkpoint, init=init)
    summary = result.summary(settings) | {"crops": len(crops), "guided": True}
    save_checkpoint(args.checkpoint, result.net, summary)
    onnx = export_onnx(result.net)
    diff = verify_onnx(result.net, onnx)
    args.checkpoint.with_suffix(".onnx").write_bytes(onnx)
    print(f"done: {result.steps} steps, loss {result.final_loss:.3f}, onnx diff {diff:.1e}, "
          f"{time.perf_counter() - t0:.0f} s")  # fmt: skip


if __name__ == "__main__":
    main()
