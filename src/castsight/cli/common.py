"""Helpers every command shares: one-line errors on stderr, exit codes."""

from __future__ import annotations

import sys

from castsight.errors import CastsightError

EXIT_OK = 0
EXIT_FOUND = 1
EXIT_BAD_INPUT = 2


def report_error(err: CastsightError | str) -> None:
    """Print one line ``castsight: error: <file>: <reason>`` on stderr."""
    print(f"castsight: error: {err}", file=sys.stderr, flush=True)
