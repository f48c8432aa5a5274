"""``castsight evaluate``: score an inspection run against the truth, NDT style."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from castsight.cli.common import EXIT_BAD_INPUT, EXIT_ERRORS, EXIT_OK, report_error
from castsight.errors import CastsightError, InputError


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _rate(rate: Any, of: str) -> str:
    """``k/n = rate [CP lower, upper]`` for a :class:`~castsight.evaluate.rates.Rate`."""
    if rate.n == 0:
        return f"- (no {of} part has a record)"
    low, high = rate.clopper_pearson
    return f"{rate.k}/{rate.n} = {rate.rate:.3f}  (95% CP {low:.3f}-{high:.3f})"


def evaluate(
    pred: Path = typer.Option(..., "--pred", help="predictions.json (COCO results)."),
    truth: Path = typer.Option(..., "--truth", help="truth.json (COCO dataset)."),
    out: Path = typer.Option(..., "--out", help="Folder for metrics.json and report.html."),
    parts: Path | None = typer.Option(
        None, "--parts", help="parts.json with true sentences [default: next to truth.json]."
    ),
    records: Path | None = typer.Option(
        None, "--records", help="records.jsonl of found sentences [default: next to --pred]."
    ),
    iou: float = typer.Option(0.5, "--iou", min=0.01, max=1.0, help="IoU needed for a match."),
    score_threshold: float = typer.Option(
        0.5, "--score-threshold", min=0.0, max=1.0, help="Score at which a prediction counts."
    ),
    match: str = typer.Option("box", "--match", help="Overlap measure: box or mask."),
    pod_model: str = typer.Option("logit", "--pod-model", help="POD link: logit or probit."),
    imaged: bool = typer.Option(
        False, "--imaged", help="Judge parts by sentence_imaged (defects visible in a view)."
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace an earlier run's --out folder (whole)."
    ),
) -> None:
    """Score predictions (and part sentences) against simulated or labelled truth."""
    from rich.console import Console
    from rich.table import Table

    from castsight.evaluate import inputs
    from castsight.evaluate.pod import describe_a90_95
    from castsight.evaluate.report import evaluate as run_evaluation
    from castsight.evaluate.report import write_report
    from castsight.report.rundir import RunFolder, check_out

    if match not in ("box", "mask"):
        report_error(f"--match {match!r}: use box or mask")
        raise typer.Exit(EXIT_BAD_INPUT)
    if pod_model not in ("logit", "probit"):
        report_error(f"--pod-model {pod_model!r}: use logit or probit")
        raise typer.Exit(EXIT_BAD_INPUT)
    if parts is None and (truth.parent / "parts.json").is_file():
        parts = truth.parent / "parts.json"
    if records is None and (pred.parent / "records.jsonl").is_file():
        records = pred.parent / "records.jsonl"
    try:
        check_out(out, overwrite=overwrite)
        _check_apart(out, [pred, truth, parts, records])
        truth_data = inputs.load_truth(truth)
        predictions = inputs.load_predictions(pred, truth_data)
        ev = run_evaluation(
            truth_data,
            predictions,
            parts=None if parts is None else inputs.load_parts(parts),
            records=None if records is None else inputs.load_records(records),
            iou_threshold=iou,
            score_threshold=score_threshold,
            mode=match,
            pod_model=pod_model,
            use_imaged=imaged,
            sources={
                "truth": str(truth),
                "predictions": str(pred),
                "parts": None if parts is None else str(parts),
                "records": None if records is None else str(records),
            },
            image_root=truth.parent,
        )
        run = RunFolder.start(out, overwrite=overwrite, command="evaluate")
    except CastsightError as err:
        report_error(err)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    try:
        write_report(ev, run.path)
        html = run.finish() / "report.html"
    except OSError as err:
        run.discard()
        report_error(f"{out}: cannot write the report ({err.strerror or err})")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except BaseException:
        run.discard()
        raise

    d = ev.detection
    table = Table(
        title=f"castsight evaluate ({match} IoU >= {iou:g}, score >= {score_threshold:g})"
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("AP50", _num(d.coco.ap50))
    table.add_row("AP (0.5:0.95)", _num(d.coco.ap))
    table.add_row("precision", _num(d.precision))
    table.add_row("recall", f"{d.true_positives}/{d.n_truth} = {_num(d.recall)}")
    table.add_row("F1", _num(d.f1))
    table.add_row("false indications / image", _num(d.false_per_image))
    if ev.parts is not None:
        table.add_row("escapes (NG -> OK)", _rate(ev.parts.escapes, "NG"))
        table.add_row("false calls (OK -> NG/REVIEW)", _rate(ev.parts.false_calls, "OK"))
    for size_field, unit in (("size_mm", " mm"), ("d_prime", "")):
        result = ev.pod[size_field]
        table.add_row(f"a90/95 ({size_field})", describe_a90_95(result, unit))
    Console().print(table)
    typer.echo(f"report: {html}")
    incomplete = _incomplete_records(ev.parts, records)
    if incomplete:
        typer.echo(f"INCOMPLETE: {incomplete}")
    raise typer.Exit(EXIT_ERRORS if incomplete else EXIT_OK)


def _check_apart(out: Path, inputs: list[Path | None]) -> None:
    """--out is replaced whole: it may not hold the files evaluated."""
    for path in inputs:
        if path is not None and path.resolve().is_relative_to(out.resolve()):
            raise InputError(out, f"holds the input {path}: choose another --out")


def _incomplete_records(parts: Any, records: Path | None) -> str | None:
    """Why the part rates do not cover every part (parts without a record, a run that did
    not complete), or None."""
    from castsight.report.rundir import run_status

    said = []
    if parts is not None and parts.missing:
        names = ", ".join(parts.missing[:10]) + (", ..." if len(parts.missing) > 10 else "")
        said.append(f"{len(parts.missing)} of {parts.n_parts} parts have no record ({names}); "
                    "they are in no rate above")  # fmt: skip
    status = run_status(records.parent) if records is not None else None
    if status is not None and status.get("complete") is False:
        said.append(f"{records} comes from an incomplete run ({status.get('why_incomplete')})")
    return "; ".join(said) or None


def register(app: typer.Typer) -> None:
    """Add ``evaluate`` to ``app``."""
    app.command()(evaluate)
