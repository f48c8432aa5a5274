"""``castsight bench``: the standard benchmark (or the quick one) end to end; with
``--suite foreign`` the foreign-part suite (:mod:`castsight.bench.foreign`).

Exit codes: 0 done; 1 a configuration failed (the others still ran and are in
the summary); 2 bad arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from castsight.cli.common import EXIT_BAD_INPUT, EXIT_FOUND, progress_bar, report_error
from castsight.errors import CastsightError


def bench(
    suite: str = typer.Option(
        "standard", "--suite", help="Suite: standard, quick, foreign or foreign-quick."
    ),
    out: Path = typer.Option(Path("out/bench"), "--out", help="Output root (OUT/<suite>/...)."),
    detectors: str | None = typer.Option(
        None, "--detectors", help="Comma-separated configurations [default: local,reference,peer]."
    ),
    fresh: bool = typer.Option(
        False, "--fresh", help="Simulate every data set again, even if one matching is there."
    ),
    peer_dir: Path = typer.Option(
        Path("."), "--peer-dir", help="Folder with .venv-peer/bin/python and benchmarks/peer/."
    ),
    markdown_path: Path | None = typer.Option(
        None,
        "--markdown",
        help="File whose generated section to rewrite [default: BENCHMARKS.md for standard].",
    ),
    write_markdown: bool = typer.Option(
        True, "--write-markdown/--no-write-markdown", help="Rewrite the Markdown section."
    ),
    workers: int = typer.Option(2, min=1, max=64, help="Views inspected in parallel."),
    seed: int = typer.Option(
        0, "--seed", min=0, help="Move every data set's seed (other parts, same recipe)."
    ),
    series: int | None = typer.Option(
        None, "--series", min=1, help="Another nominal part of the series (default: the suite's)."
    ),
    views: int | None = typer.Option(
        None, "--views", min=1, max=64, help="Views per part (default: the suite's; a cell: 28)."
    ),
    fixture_deg: float | None = typer.Option(
        None,
        "--fixture-deg",
        min=0.0,
        max=5.0,
        help="Fixturing error per view, degrees (default: the suite's, 0.5).",
    ),
    parts: int | None = typer.Option(
        None, "--parts", min=1, max=200, help="Foreign suites: test series [default: 8]."
    ),
) -> None:
    """Run a benchmark suite: simulate, teach, inspect, evaluate; print and save the figures."""
    from rich.console import Console

    from castsight.bench import BenchRun, check_detectors, get_suite, run_suite
    from castsight.bench.summary import markdown, rewrite_section

    console = Console()
    if suite.startswith("foreign"):
        _foreign(console, suite, out, detectors, fresh=fresh, markdown_path=markdown_path,
                 write_markdown=write_markdown, workers=workers, seed=seed, views=views,
                 parts=parts)  # fmt: skip
        return
    try:
        chosen = get_suite(suite).variant(
            seed=seed, series=series, views=views, fixture_deg=fixture_deg
        )
        names = chosen.detectors if detectors is None else detectors.split(",")
        run = BenchRun(chosen, out, check_detectors([n.strip() for n in names if n.strip()]),
                       fresh=fresh, workers=workers, peer_dir=peer_dir)  # fmt: skip
        target = markdown_path
        if target is None and chosen.name == "standard":
            target = Path("BENCHMARKS.md")
        if write_markdown and target is not None and not target.is_file():
            raise CastsightError(target, "not found (pass --markdown PATH or --no-write-markdown)")
    except CastsightError as err:
        report_error(err)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    run.log = lambda msg: console.print(msg, highlight=False)
    with progress_bar() as bar:
        tasks: dict[str, Any] = {}

        def progress(description: str, total: int) -> Callable[[int], None]:
            task = bar.add_task(description, total=total)
            tasks[description] = task
            return lambda n: bar.advance(task, n)

        run.progress = progress
        try:
            summary = run_suite(run)
        except CastsightError as err:
            report_error(err)
            raise typer.Exit(EXIT_BAD_INPUT) from None
    _print(console, summary)
    command = f"castsight bench --suite {suite}"
    command += (f" --seed {seed}" if seed else "") + (f" --series {series}" if series else "")
    command += f" --views {views}" if views else ""
    command += f" --fixture-deg {fixture_deg}" if fixture_deg is not None else ""
    command += ("" if detectors is None else f" --detectors {detectors}") + (
        " --fresh" if fresh else ""
    )
    if write_markdown and target is not None:
        rewrite_section(target, chosen.name, markdown(summary, command))
        console.print(f"rewrote the {chosen.name} section of {target}")
    console.print(f"summary: {run.root / 'summary.json'}")
    if any(e.get("status") == "failed" for e in summary["configurations"]):
        raise typer.Exit(EXIT_FOUND)


def _print(console: Any, summary: dict[str, Any]) -> None:
    from rich.table import Table

    from castsight.bench.summary import GOALS, table_rows

    header, rows = table_rows(summary)
    ran = [row for row in rows if row[2]]
    table = Table(title=f"castsight bench --suite {summary['suite']['name']}")
    table.add_column("")
    for row in ran:
        table.add_column(row[0], overflow="fold")
    for i, name in enumerate(header[1:], start=1):
        table.add_row(name, *[row[i] for row in ran])
    console.print(table)
    for row in rows:
        if not row[2]:
            console.print(f"{row[0]}: {row[1]}", highlight=False)
    for name, goals in summary.get("goals", {}).items():
        marks = "; ".join(f"{text}: {goals[key]['status']} ({goals[key]['detail']})"
                          for key, text in GOALS)  # fmt: skip
        console.print(f"{name}: {marks}", highlight=False)
    console.print(f"run time {summary['steps_s']['total_s'] / 60:.1f} min")


def _foreign(
    console: Any, suite: str, out: Path, detectors: str | None, *, fresh: bool,
    markdown_path: Path | None, write_markdown: bool, workers: int, seed: int,
    views: int | None, parts: int | None,
) -> None:  # fmt: skip
    """``--suite foreign``: simulate the foreign series, inspect untaught and taught, score."""
    from castsight.bench.foreign import get_foreign_suite
    from castsight.bench.foreign_run import ForeignRun, check_foreign_detectors, run_foreign
    from castsight.bench.foreign_summary import markdown, series_rows, table_rows
    from castsight.bench.summary import rewrite_section

    try:
        chosen = get_foreign_suite(suite).variant(parts=parts, views=views, seed=seed)
        names = chosen.detectors if detectors is None else detectors.split(",")
        run = ForeignRun(chosen, out, check_foreign_detectors([n.strip() for n in names
                                                               if n.strip()]),
                         fresh=fresh, workers=workers)  # fmt: skip
        target = markdown_path
        if target is None and chosen.name == "foreign":
            target = Path("BENCHMARKS.md")
        if write_markdown and target is not None and not target.is_file():
            raise CastsightError(target, "not found (pass --markdown PATH or --no-write-markdown)")
    except CastsightError as err:
        report_error(err)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    run.log = lambda msg: console.print(msg, highlight=False)
    with progress_bar() as bar:

        def progress(description: str, total: int) -> Callable[[int], None]:
            task = bar.add_task(description, total=total)
            return lambda n: bar.advance(task, n)

        run.progress = progress
        try:
            summary = run_foreign(run)
        except CastsightError as err:
            report_error(err)
            raise typer.Exit(EXIT_BAD_INPUT) from None
    _print_foreign(console, summary, table_rows(summary), series_rows(summary))
    command = f"castsight bench --suite {suite}" + (f" --parts {parts}" if parts else "")
    command += (f" --views {views}" if views else "") + (f" --seed {seed}" if seed else "")
    command += ("" if detectors is None else f" --detectors {detectors}") + (
        " --fresh" if fresh else ""
    )
    if write_markdown and target is not None:
        rewrite_section(target, chosen.name, markdown(summary, command))
        console.print(f"rewrote the {chosen.name} section of {target}")
    console.print(f"summary: {run.root / 'summary.json'}")
    if any(e.get("status") == "failed" for e in summary["configurations"]):
        raise typer.Exit(EXIT_FOUND)


def _print_foreign(
    console: Any, summary: dict[str, Any], table: tuple[list[str], list[list[str]]],
    series: tuple[list[str], list[list[str]]],
) -> None:  # fmt: skip
    from rich.table import Table

    header, rows = table  # one column per configuration, as the standard suite prints
    main = Table(title=f"castsight bench --suite {summary['suite']['name']}")
    main.add_column("")
    for row in rows:
        main.add_column(row[0], overflow="fold")
    for i, name in enumerate(header[1:], start=1):
        main.add_row(name, *[row[i] for row in rows])
    per = Table(title="per test series")
    for name in series[0]:
        per.add_column(name, overflow="fold")
    for row in series[1]:
        per.add_row(*row)
    console.print(main)
    console.print(per)
    console.print(f"run time {summary['steps_s']['total_s'] / 60:.1f} min")


def register(app: typer.Typer) -> None:
    """Add ``bench`` to ``app``."""
    app.command()(bench)
