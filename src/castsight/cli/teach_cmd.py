"""``castsight teach``: learn a model artifact from folders of good parts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from castsight.cli.common import EXIT_BAD_INPUT, report_error
from castsight.errors import CastsightError, InputError


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
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing model."),
) -> None:
    """Learn per-view reference statistics from good parts and write MODEL."""
    from castsight.accept.plan import load_plan
    from castsight.io.parts import discover_parts
    from castsight.model import MANIFEST, save_artifact
    from castsight.preprocess.prepare import load_calibration
    from castsight.teach import learn_reference, reference_summary

    try:
        if out.exists() and not overwrite:  # fail before minutes of learning, not after
            raise InputError(out, "already exists; pass --overwrite to replace it")
        if out.exists() and not (out / MANIFEST).is_file() and any(out.iterdir()):
            raise InputError(out, "exists and is not a castsight model; refusing to replace it")
        part_type = load_plan(plan).part_type
        parts = discover_parts(good)
        n_images = sum(len(p.views) for p in parts)
        if n_images == 0:
            raise InputError(good[0], "no part images found (expected GOOD/<part>/<view>.tif)")
        cal_dir = calibration or next(
            (g / "_calibration" for g in good if (g / "_calibration").is_dir()), None
        )
        cal = load_calibration(cal_dir) if cal_dir is not None else None
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=True,
        ) as bar:
            task = bar.add_task("learning views", total=n_images)
            refs = learn_reference(parts, cal, progress=lambda n: bar.advance(task, n))
        summary = reference_summary(refs)
        training: dict[str, Any] = {
            **summary,
            "good": [str(g) for g in good],
            "parts": len(parts),
            "calibration": str(cal_dir) if cal_dir is not None else None,
            "plan": plan,
        }
        model = save_artifact(
            out, reference=refs, part_type=part_type, training=training, overwrite=overwrite
        )
    except CastsightError as err:
        report_error(err)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    for warning in summary["warnings"]:
        typer.echo(f"castsight: warning: {warning}", err=True)
    counts = sorted(summary["images_per_view"].values())
    per_view = str(counts[0]) if counts[0] == counts[-1] else f"{counts[0]}-{counts[-1]}"
    typer.echo(
        f"{summary['views']} views, {per_view} good images per view, "
        f"{model.size_bytes / 1e6:.1f} MB -> {out}"
    )


def register(app: typer.Typer) -> None:
    """Add ``teach`` to ``app``."""
    app.command()(teach)
