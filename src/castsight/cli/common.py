"""Helpers every command shares: one-line errors on stderr, exit codes."""

from __future__ import annotations

import sys

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from castsight.errors import CastsightError

EXIT_OK = 0
EXIT_FOUND = 1
EXIT_BAD_INPUT = 2


def report_error(err: CastsightError | str) -> None:
    """Print one line ``castsight: error: <file>: <reason>`` on stderr."""
    print(f"castsight: error: {err}", file=sys.stderr, flush=True)


def progress_bar() -> Progress:
    """The one progress bar style of the CLI (transient: gone when done)."""
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    )
