"""``castsight evaluate``: score an inspection run against the truth, NDT style."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from castsight.cli.common import EXIT_BAD_INPUT, EXIT_ERRORS, EXIT_OK, report_error
from castsight.errors import CastsightError


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

    from castsight.app import EvaluateOptions, beside_inputs
    from castsight.app import evaluate as evaluate_run
    from castsight.evaluate.pod import describe_a90_95

    found_parts, found_records = beside_inputs(pred, truth)
    try:
        options = EvaluateOptions(
            pred, truth, out, parts or found_parts, records or found_records, iou,
            score_threshold, match, pod_model, imaged, overwrite,
        )  # fmt: skip
    except CastsightError as err:
        report_error(err)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    try:
        result = evaluate_run(options)
    except CastsightError as err:
        report_error(err)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except OSError as err:
        report_error(f"{out}: cannot write the report ({err.strerror or err})")
        raise typer.Exit(EXIT_BAD_INPUT) from None

    ev = result.evaluation
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
        result_pod = ev.pod[size_field]
        table.add_row(f"a90/95 ({size_field})", describe_a90_95(result_pod, unit))
    Console().print(table)
    typer.echo(f"report: {result.report / 'report.html'}")
    if result.incomplete:
        typer.echo(f"INCOMPLETE: {result.incomplete}")
    raise typer.Exit(EXIT_ERRORS if result.incomplete else EXIT_OK)


def register(app: typer.Typer) -> None:
    """Add ``evaluate`` to ``app``."""
    app.command()(evaluate)
