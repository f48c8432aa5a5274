"""``castsight inspect``: part folders or files in, a sentence per part out.

Writes OUT/records.jsonl (one record per part, appended as each part is
done), OUT/predictions.json (COCO results), OUT/report.html and OUT/run.json,
as one run (:mod:`castsight.report.rundir`: written beside OUT, moved into
place when complete; Ctrl-C keeps the partial run as OUT.incomplete-<id>). A
bad file is reported on stderr and in its part's record, the batch goes on,
and the exit code is 3 (:data:`~castsight.cli.common.EXIT_ERRORS`).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import TaskID
from rich.table import Table

from castsight.app.detectors import detector_help
from castsight.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_ERRORS,
    EXIT_FOUND,
    EXIT_INTERRUPTED,
    EXIT_OK,
    progress_bar,
    report_error,
)
from castsight.errors import CastsightError

if TYPE_CHECKING:
    from castsight.io.parts import PartSource
    from castsight.pipeline import Inspector

FAIL_ON = {"ng": {"NG"}, "review": {"NG", "REVIEW"}}


def inspect(
    inputs: list[Path] = typer.Argument(..., help="Part folders, a folder of parts, or files."),
    out: Path = typer.Option(..., "--out", help="Folder for records, predictions and report."),
    plan: str = typer.Option("generic", help="Plan name (giga-underbody, wheel, generic) or YAML."),
    model: Path | None = typer.Option(
        None, help="Model artifact from `castsight teach` (learned/cascade: the shipped one)."
    ),
    detector: str = typer.Option("auto", help=detector_help()),
    calibration: Path | None = typer.Option(
        None, help="Folder with dark.tif/flat.tif (default: INPUT/_calibration if present)."
    ),
    manifest: Path | None = typer.Option(None, help="JSON manifest grouping files into parts."),
    fail_on: str | None = typer.Option(None, "--fail-on", help="Exit 1 if any part is: ng|review."),
    workers: int = typer.Option(2, min=1, max=64, help="Views inspected in parallel."),
    report: bool = typer.Option(True, "--report/--no-report", help="Write report.html."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace an earlier run's --out folder (whole)."
    ),
) -> None:
    """Inspect parts: a sentence (OK / NG / REVIEW) per part with measured indications."""
    from castsight.app import InspectOptions, build_inspector, default_calibration, image_root
    from castsight.io.parts import discover_parts
    from castsight.report.rundir import RunFolder, check_out

    if fail_on is not None and fail_on not in FAIL_ON:
        report_error(f"--fail-on {fail_on!r}: expected ng or review")
        raise typer.Exit(EXIT_BAD_INPUT)
    try:
        check_out(out, overwrite=overwrite)
        parts = discover_parts(inputs, manifest)
        if not parts:
            raise CastsightError(", ".join(map(str, inputs)), "no radiographs found")
        cal = calibration if calibration is not None else default_calibration(inputs)
        options = InspectOptions(plan, model, detector, cal, workers)
        inspector = build_inspector(options)
        run = RunFolder.start(out, overwrite=overwrite, command="inspect")
    except CastsightError as err:
        report_error(err)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    records: list[dict[str, Any]] = []
    try:
        errors = _inspect_all(inspector, parts, run.path, image_root(inputs), records)
        if report:
            errors += _write_report(records, run.path)
        run.finish(parts=len(parts), errors=errors)
    except KeyboardInterrupt:
        why = f"interrupted (Ctrl-C) after {len(records)} of {len(parts)} parts"
        kept = run.keep_incomplete(why, parts=len(parts), parts_done=len(records))
        report_error(f"{why}; {out} is unchanged, the partial run is kept in {kept}")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except BaseException:
        run.keep_incomplete("stopped by an error", parts=len(parts), parts_done=len(records))
        raise
    _summary(records, out, report)
    found = {r["sentence"] for r in records}
    if errors:
        raise typer.Exit(EXIT_ERRORS)
    if fail_on is not None and found & FAIL_ON[fail_on]:
        raise typer.Exit(EXIT_FOUND)
    raise typer.Exit(EXIT_OK)


def _inspect_all(
    inspector: Inspector,
    parts: list[PartSource],
    folder: Path,
    root: Path | None,
    records: list[dict[str, Any]],
) -> int:
    """:func:`castsight.app.inspect_parts` into ``folder`` behind a progress bar, each error
    said on stderr; ``records`` grows as parts are done; return the number of errors."""
    from castsight.app import inspect_parts, record_errors

    errors = 0
    with progress_bar() as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int, note: str = "", /) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

        for record in inspect_parts(parts, inspector, out=folder, image_root=root,
                                    progress=progress):  # fmt: skip
            records.append(record.to_dict())
            for line in record_errors(record):
                report_error(line)
                errors += 1
    return errors


def _write_report(records: list[dict[str, Any]], folder: Path) -> int:
    """Write report.html; a report that cannot be written is one error, not a lost run."""
    from castsight.report.html import write_html_report

    try:
        write_html_report(records, folder)
    except (CastsightError, OSError, ValueError) as err:
        report_error(f"report.html could not be written ({type(err).__name__}: {err})")
        return 1
    return 0


def _summary(records: list[dict[str, Any]], out: Path, report: bool) -> None:
    console = Console()
    table = Table(title="castsight inspect", show_lines=False)
    for col in ("part", "sentence", "indications", "first finding", "time (s)"):
        table.add_column(col)
    colour = {"OK": "green", "NG": "red", "REVIEW": "yellow"}
    for r in records[:50]:
        n = sum(len(v["indications"]) for v in r["views"])
        first = r["findings"][0]["message"] if r["findings"] else ""
        s = r["sentence"]
        table.add_row(r["serial"], f"[{colour[s]}]{s}[/]", str(n), first[:70],
                      f"{r['timings']['total_s']:.2f}")  # fmt: skip
    console.print(table)
    counts = Counter(r["sentence"] for r in records)
    console.print(
        f"{len(records)} parts: {counts['OK']} OK, {counts['NG']} NG, {counts['REVIEW']} REVIEW"
        f" -> {out / 'records.jsonl'}" + (f", {out / 'report.html'}" if report else "")
    )


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command()(inspect)
