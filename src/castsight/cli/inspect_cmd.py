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
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

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

FAIL_ON = {"ng": {"NG"}, "review": {"NG", "REVIEW"}}


DEFAULT_MODEL_BY_DEFAULT = False
"""Whether ``inspect`` without ``--model`` uses the shipped learned model (``--detector auto``);
set by measurement (BENCHMARKS.md). ``--detector learned|cascade`` always can."""


def build_inspector(
    plan_name: str,
    model: Path | None,
    calibration: Path | None,
    workers: int,
    detector: str = "auto",
) -> Any:
    """The Inspector for a plan, a model artifact (or the shipped one) and calibration."""
    from castsight.accept.plan import load_plan
    from castsight.model import default_model
    from castsight.model.detectors import DETECTOR_MODES, model_detectors
    from castsight.pipeline import Inspector
    from castsight.preprocess.prepare import load_calibration

    if detector not in DETECTOR_MODES:
        raise CastsightError(None, f"--detector {detector!r}: expected one of "
                                   f"{', '.join(DETECTOR_MODES)}")  # fmt: skip
    plan = load_plan(plan_name)
    cal = load_calibration(calibration) if calibration is not None else None
    if model is None and (detector in ("learned", "cascade") or
                          (detector == "auto" and DEFAULT_MODEL_BY_DEFAULT)):  # fmt: skip
        model = default_model()
    if model is None and detector in ("learned", "cascade", "reference"):
        raise CastsightError(None, f"--detector {detector} needs --model (no shipped model here)")
    if model is None or detector == "local":
        return Inspector(plan, calibration=cal, workers=workers)
    kwargs = model_detectors(model, plan, detector)
    return Inspector(plan, calibration=cal, workers=workers, **kwargs)


def _default_calibration(inputs: list[Path]) -> Path | None:
    for root in inputs:
        cand = root / "_calibration"
        if root.is_dir() and cand.is_dir():
            return cand
    return None


def inspect(
    inputs: list[Path] = typer.Argument(..., help="Part folders, a folder of parts, or files."),
    out: Path = typer.Option(..., "--out", help="Folder for records, predictions and report."),
    plan: str = typer.Option("generic", help="Plan name (giga-underbody, wheel, generic) or YAML."),
    model: Path | None = typer.Option(
        None, help="Model artifact from `castsight teach` (learned/cascade: the shipped one)."
    ),
    detector: str = typer.Option(
        "auto", help="auto (reference > learned > local), local, reference, learned, cascade."
    ),
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
        cal = calibration if calibration is not None else _default_calibration(inputs)
        inspector = build_inspector(plan, model, cal, workers, detector)
        run = RunFolder.start(out, overwrite=overwrite, command="inspect")
    except CastsightError as err:
        report_error(err)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    root = _image_root(inputs)
    records: list[dict[str, Any]] = []
    try:
        errors = _inspect_all(inspector, parts, run.path, root, records)
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


def _image_root(inputs: list[Path]) -> Path | None:
    """The folder COCO file names are relative to: the one folder of parts given (the
    parent of one part folder given, so names read ``SERIAL/VIEW.tif`` as in truth.json)."""
    from castsight.io.parts import is_part_folder

    if len(inputs) != 1 or not inputs[0].is_dir():
        return None
    return inputs[0].absolute().parent if is_part_folder(inputs[0]) else inputs[0]


ERROR_STATUSES = ("unreadable", "error")
"""View statuses that are errors (a line on stderr, exit code 3), not inspection results."""


def _inspect_all(
    inspector: Any, parts: list[Any], folder: Path, root: Path | None, records: list[Any]
) -> int:
    """Inspect ``parts`` into ``folder`` (records appended as each part is done, then the
    COCO predictions); ``records`` grows as they are; return the number of errors."""
    from castsight.report.records import append_record, coco_predictions, write_predictions

    records_path = folder / "records.jsonl"
    records_path.write_text("", encoding="utf-8")
    predictions: list[dict[str, Any]] = []
    errors = 0
    with progress_bar() as bar:
        task = bar.add_task("inspecting parts", total=len(parts))
        for part in parts:
            rec = inspector.inspect(part)
            data = rec.to_dict()
            append_record(records_path, data)
            records.append(data)
            predictions += coco_predictions(rec, root)
            for view in rec.views:
                if view.status in ERROR_STATUSES:
                    report_error(f"{view.path}: {view.error}")
                    errors += 1
            for finding in rec.findings:
                if finding.rule in ("views", "error"):
                    report_error(f"part {rec.serial}: {finding.message}")
                    errors += 1
            bar.advance(task)
    write_predictions(folder / "predictions.json", predictions)
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
