"""Helpers every command shares: one-line errors on stderr, exit codes."""

from __future__ import annotations

import sys

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from castsight.errors import CastsightError

EXIT_OK = 0
EXIT_FOUND = 1
"""``inspect --fail-on``: a part was NG (or REVIEW)."""
EXIT_BAD_INPUT = 2
"""Bad usage or input: nothing was done (a batch of ``info``/``convert``: that file)."""
EXIT_ERRORS = 3
"""The run finished, but a part or file errored (``inspect``: a view that could not be
read, a part with no views, an inspection error; ``evaluate``: parts with no record).
Their records say so; each has a line on stderr. Beats ``EXIT_FOUND``."""
EXIT_INTERRUPTED = 130
"""Ctrl-C: the partial run is kept aside, marked incomplete (:mod:`castsight.report.rundir`)."""


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
