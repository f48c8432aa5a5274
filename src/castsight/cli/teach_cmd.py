"""``castsight teach``: learn a model artifact from folders of good parts.

Two things are learned, each where it applies: the ``reference`` detector's
per-view statistics (when the good images are aligned views of one part:
three or more images per view name that register), and with ``--learned`` a
network taught on defects superimposed on the good images (needs the
``train`` extra: torch): the ``guided`` detector's, which reads the
reference comparison, when there is a reference; else the ``learned``
detector's, which reads the image alone. The model is written once, at
the end, atomically: Ctrl-C or an error leaves no model folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from castsight.cli.common import EXIT_BAD_INPUT, report_error
from castsight.errors import CastsightError, InputError


def _bar() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[note]}"),
        transient=True,
    )


def teach(
    good: list[Path] = typer.Option(
        ..., "--good", help="Folder of good parts (one subfolder per part); repeatable."
    ),
    out: Path = typer.Option(..., "--out", help="Model folder to write."),
    calibration: Path | None = typer.Option(
        None, "--calibration", help="Dark/flat folder (default: the first GOOD/_calibration)."
    ),
    plan: str = typer.Option(
        "generic", "--plan", help="Inspection plan (shipped name or YAML path): its part type."
    ),
    learned: bool = typer.Option(
        False,
        "--learned/--no-learned",
        help="Also teach a network (minutes; needs the train extra): the guided detector's "
        "when the views are aligned (it adds to the reference what the per-pixel test "
        "misses), else the learned detector's (weak yet; see BENCHMARKS.md).",
    ),
    network: str = typer.Option(
        "auto",
        "--network",
        help="Which network --learned teaches: auto (guided when the views are aligned, "
        "else learned), guided, or learned.",
    ),
    steps: int = typer.Option(
        100_000, min=1, help="Most training steps (by default --minutes is what stops it)."
    ),
    minutes: float = typer.Option(
        10.0, min=0.01, help="Training time budget of the network (minutes)."
    ),
    false_rate: float = typer.Option(
        0.01, min=0.0, help="Target false indications per good image (threshold calibration)."
    ),
    seed: int = typer.Option(0, help="Random seed of the learned detector's teaching."),
    init: str = typer.Option(
        "default",
        "--init",
        help="The network's starting weights: default (fine-tune the shipped ones), none "
        "(random), or a model folder with learned (or guided) weights.",
    ),
    workers: int = typer.Option(
        1, min=0, help="Processes making training samples for the learned detector (0: none)."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing model."),
) -> None:
    """Learn from good parts (reference statistics, learned detector) and write MODEL."""
    from castsight.accept.plan import load_plan
    from castsight.io.parts import discover_parts
    from castsight.model import MANIFEST, save_artifact
    from castsight.preprocess.prepare import load_calibration
    from castsight.report.rundir import check_writable
    from castsight.teach import learn_reference, reference_summary

    warnings: list[str] = []
    try:
        if out.exists() and not overwrite:  # fail before minutes of learning, not after
            raise InputError(out, "already exists; pass --overwrite to replace it")
        if out.exists() and not out.is_dir():
            raise InputError(out, "exists and is not a folder")
        if out.exists() and not (out / MANIFEST).is_file() and any(out.iterdir()):
            raise InputError(out, "exists and is not a castsight model; refusing to replace it")
        check_writable(out.parent)
        if network not in ("auto", "guided", "learned"):
            raise InputError(None, f"--network {network!r}: expected auto, guided or learned")
        if learned and init not in ("default", "none"):  # a bad --init fails now, not later
            _check_init(init)
        part_type = load_plan(plan).part_type
        parts = discover_parts(good)
        n_images = sum(len(p.views) for p in parts)
        if n_images == 0:
            raise InputError(good[0], "no part images found (expected GOOD/<part>/<view>.tif)")
        cal_dir = calibration or next(
            (g / "_calibration" for g in good if (g / "_calibration").is_dir()), None
        )
        cal = load_calibration(cal_dir) if cal_dir is not None else None
        learned_part = guided_part = None
        with _bar() as bar:
            refs: dict[str, Any] | None = None
            task = bar.add_task("learning views", total=n_images, note="")
            try:
                refs = learn_reference(
                    parts, cal, progress=lambda n: bar.advance(task, n), notes=warnings
                )
            except InputError as err:  # no aligned views: still a model, judged by others
                then = "the learned detector" if learned else "the local detector (or teach "
                warnings.append(f"no reference statistics: {err.reason}; views will be "
                                f"judged by {then}{'' if learned else '--learned)'}")  # fmt: skip
            bar.remove_task(task)
            if learned:
                options = _LearnedOptions(steps, minutes, false_rate, seed, init, workers)
                if network == "guided" and not refs:
                    raise InputError(good[0], "the guided detector needs aligned views "
                                              "(a reference); none could be learned")  # fmt: skip
                if refs and network != "learned":
                    guided_part = _teach_learned(parts, cal, bar, options, refs)
                else:
                    learned_part = _teach_learned(parts, cal, bar, options)
        summary: dict[str, Any] = reference_summary(refs) if refs else {"views": 0, "warnings": []}
        training: dict[str, Any] = {
            **summary,
            "good": [str(g) for g in good],
            "parts": len(parts),
            "calibration": str(cal_dir) if cal_dir is not None else None,
            "plan": plan,
        }
        model = save_artifact(
            out,
            reference=refs,
            learned=learned_part,
            guided=guided_part,
            part_type=part_type,
            training=training,
            overwrite=overwrite,
        )
    except CastsightError as err:
        report_error(err)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except OSError as err:  # e.g. the disk filled up while the model was saved
        report_error(f"{out}: cannot write the model ({err.strerror or err})")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    for warning in warnings + summary["warnings"]:
        typer.echo(f"castsight: warning: {warning}", err=True)
    said = []
    if refs:
        counts = sorted(summary["images_per_view"].values())
        per_view = str(counts[0]) if counts[0] == counts[-1] else f"{counts[0]}-{counts[-1]}"
        said.append(f"{summary['views']} views, {per_view} good images per view")
    for name, net in (("learned", learned_part), ("guided", guided_part)):
        if net is None:
            continue
        val = net.summary["validation"]
        pod = val.get("pod_size_px") or {}
        a90 = pod.get("a90")
        said.append(
            f"{name} detector: threshold {net.settings.threshold:.4g}, "
            f"validation recall {val['recall']:.2f}"
            + (f", a90 {a90:.1f} px" if a90 else "")
            + f", {val['false_per_good_image']:.2f} false/good image"
        )
    said = said or ["no reference, no learned detector: inspection uses the local detector"]
    typer.echo(", ".join(said) + f"; {model.size_bytes / 1e6:.1f} MB -> {out}")


@dataclass(frozen=True)
class _LearnedOptions:
    steps: int
    minutes: float
    false_rate: float
    seed: int
    init: str
    workers: int


def _check_init(init: str) -> None:
    """A model folder given as ``--init`` holds weights to fine-tune."""
    from castsight.model import load_artifact

    manifest = load_artifact(init).manifest
    if not any(isinstance(manifest.get(k), dict) and manifest[k].get("weights")
               for k in ("learned", "guided")):  # fmt: skip
        raise InputError(Path(init), "has no learned or guided weights to fine-tune")


def _teach_learned(
    parts: list[Any], cal: Any, bar: Progress, opt: _LearnedOptions, refs: Any = None
) -> Any:
    """A network's part of the model (needs torch: the ``train`` extra): the guided
    detector's when ``refs`` (the reference just learned) are given, else the learned one's."""
    from dataclasses import replace

    try:
        from castsight.learn.teach import (
            FINE_TUNE_LR,
            TeachSettings,
            initial_network,
            teach_learned,
        )
        from castsight.learn.teach_guided import initial_guided_network, teach_guided
    except ImportError as err:
        raise CastsightError(
            None,
            f"the learned detector needs the train extra (pip install castsight[train]): {err}",
        ) from None
    init = initial_guided_network(opt.init) if refs else initial_network(opt.init)
    base = TeachSettings()
    train = replace(
        base.train,
        steps=opt.steps,
        time_budget_s=60.0 * opt.minutes,
        seed=opt.seed,
        workers=opt.workers,
        lr=FINE_TUNE_LR if init is not None else base.train.lr,
    )
    settings = replace(base, seed=opt.seed, target_false_per_image=opt.false_rate, train=train)
    images = [(f"{p.serial}/{v.name}", v.path) for p in parts for v in p.views]
    tasks: dict[str, TaskID] = {}

    def progress(stage: str, done: int, total: int, note: str) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total, note="")
        bar.update(tasks[stage], completed=done, note=note)

    if refs:
        return teach_guided(images, refs, cal, settings, progress=progress, init=init)
    return teach_learned(images, cal, settings, progress=progress, init=init)


def register(app: typer.Typer) -> None:
    """Add ``teach`` to ``app``."""
    app.command()(teach)
