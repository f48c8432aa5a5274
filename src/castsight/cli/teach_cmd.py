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

from pathlib import Path
from typing import TYPE_CHECKING

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
from castsight.errors import CastsightError

if TYPE_CHECKING:
    from castsight.app.progress import Progress as AppProgress


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
    from castsight.app import TeachOptions
    from castsight.app import teach as teach_model

    try:
        options = TeachOptions(tuple(good), out, plan, calibration, learned, network, steps,
                               minutes, false_rate, seed, init, workers, overwrite)  # fmt: skip
        with _bar() as bar:
            result = teach_model(options, progress=_progress(bar))
    except CastsightError as err:
        report_error(err)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except OSError as err:  # e.g. the disk filled up while the model was saved
        report_error(f"{out}: cannot write the model ({err.strerror or err})")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    for warning in result.warnings:
        typer.echo(f"castsight: warning: {warning}", err=True)
    said = []
    if result.views:
        counts = sorted(result.images_per_view.values())
        per_view = str(counts[0]) if counts[0] == counts[-1] else f"{counts[0]}-{counts[-1]}"
        said.append(f"{result.views} views, {per_view} good images per view")
    for net in result.networks:
        said.append(
            f"{net.name} detector: threshold {net.threshold:.4g}, "
            f"validation recall {net.recall:.2f}"
            + (f", a90 {net.a90_px:.1f} px" if net.a90_px else "")
            + f", {net.false_per_good_image:.2f} false/good image"
        )
    said = said or ["no reference, no learned detector: inspection uses the local detector"]
    typer.echo(", ".join(said) + f"; {result.size_bytes / 1e6:.1f} MB -> {out}")


def _progress(bar: Progress) -> AppProgress:
    """A Rich task per stage of the teaching, with its note."""
    tasks: dict[str, TaskID] = {}
    done_stages: set[str] = set()

    def progress(stage: str, done: int, total: int, note: str = "", /) -> None:
        if stage in done_stages:
            return
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total, note="")
        bar.update(tasks[stage], completed=done, note=note)
        if stage == "learning views" and done >= total:  # the network's bars come next
            bar.remove_task(tasks[stage])
            done_stages.add(stage)

    return progress


def register(app: typer.Typer) -> None:
    """Add ``teach`` to ``app``."""
    app.command()(teach)
