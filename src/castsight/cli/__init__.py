"""The ``castsight`` command line (Typer + Rich).

Exit codes: 0 done; 1 the inspection ran and found NG/REVIEW parts, only when
asked with ``--fail-on``; 2 bad usage or input (one line per problem on stderr);
3 the run finished but a part or file errored; 130 interrupted (the partial run
kept aside). See :mod:`castsight.cli.common`.
"""

from __future__ import annotations

import typer

from castsight import __version__
from castsight.cli import (
    bench_cmd,
    demo_cmd,
    evaluate_cmd,
    inspect_cmd,
    io_cmds,
    serve_cmd,
    simulate_cmd,
    teach_cmd,
)

app = typer.Typer(
    name="castsight",
    help="X-ray inspection of aluminium die castings: radiographs in, a sentence per part out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"castsight {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """castsight: radiographs of die castings in, OK / NG / REVIEW per part out."""


io_cmds.register(app)
demo_cmd.register(app)
simulate_cmd.register(app)
inspect_cmd.register(app)
evaluate_cmd.register(app)
teach_cmd.register(app)
bench_cmd.register(app)
serve_cmd.register(app)


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
