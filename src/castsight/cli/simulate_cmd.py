"""``castsight simulate``: seeded, physically simulated radiographs with exact truth."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import typer

from castsight.cli.common import EXIT_BAD_INPUT, EXIT_INTERRUPTED, progress_bar, report_error
from castsight.errors import CastsightError


def simulate(
    out: Path = typer.Option(..., "--out", help="Folder to write the dataset into."),
    part_type: str = typer.Option(
        "giga-underbody", "--type", help="Part phantom: giga-underbody or wheel."
    ),
    parts: int = typer.Option(4, min=1, help="Number of parts."),
    views: int = typer.Option(28, min=1, help="Views per part."),
    size: int = typer.Option(1536, min=64, max=8192, help="Detector rows = columns (px)."),
    defect_rate: float = typer.Option(
        0.5, min=0.0, max=1.0, help="Fraction of parts with a rejectable defect."
    ),
    seed: int = typer.Option(0, help="Random seed: the same seed gives the same bytes."),
    kv: float = typer.Option(150.0, min=30.0, max=225.0, help="Tube voltage (kV)."),
    mas: float = typer.Option(0.25, min=0.001, help="Exposure per view (mA.s)."),
    series: int | None = typer.Option(
        None, help="Series number: every part is this one nominal part (production line)."
    ),
    fixture_deg: float = typer.Option(0.5, min=0.0, help="Fixturing rotation error (deg, sd)."),
    fixture_mm: float = typer.Option(0.5, min=0.0, help="Fixturing shift error (mm, sd)."),
    detector_seed: int | None = typer.Option(
        None, help="Flat panel's fixed pattern (default: --seed); one cell, one panel."
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace an earlier dataset at --out (whole)."
    ),
) -> None:
    """Simulate a line run: DIR/<part>/<view>.tif, DIR/truth.json (COCO), DIR/parts.json."""
    from castsight.report.rundir import RunFolder
    from castsight.simulate.dataset import SimulationConfig, write_dataset
    from castsight.simulate.phantoms import PART_TYPES
    from castsight.simulate.render import Exposure

    if part_type not in PART_TYPES:
        report_error(f"--type {part_type!r}: unknown part type (known: {', '.join(PART_TYPES)})")
        raise typer.Exit(EXIT_BAD_INPUT)
    config = SimulationConfig(
        part_type=part_type,
        n_parts=parts,
        n_views=views,
        size=size,
        defect_rate=defect_rate,
        seed=seed,
        exposure=dataclasses.replace(Exposure(), kv=kv, mas=mas),
        series=series,
        fixture_deg=fixture_deg,
        fixture_mm=fixture_mm,
        detector_seed=detector_seed,
    )
    try:
        run = RunFolder.start(out, overwrite=overwrite, command="simulate")
    except CastsightError as err:
        report_error(err)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    try:  # written beside --out, moved into place whole (castsight.report.rundir)
        with progress_bar() as bar:
            task = bar.add_task("simulating views", total=parts * views)
            summary = write_dataset(config, run.path, progress=lambda n: bar.advance(task, n))
        run.finish(parts=parts, views=views, seed=seed)
    except KeyboardInterrupt:
        run.discard()
        report_error(f"interrupted (Ctrl-C); {out} is unchanged")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except BaseException:
        run.discard()
        raise
    typer.echo(
        f"{summary['parts']} parts ({summary['ng_parts']} NG), {summary['views']} views, "
        f"{summary['annotations']} defect annotations -> {out}"
    )


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to ``app``."""
    app.command()(simulate)
