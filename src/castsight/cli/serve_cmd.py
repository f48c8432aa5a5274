"""``castsight serve``: the station service (needs the ``station`` extra).

``--settings FILE`` serves the cells, storage and signals a YAML file names;
``--demo`` serves the embedded store with a simulated cell feeding it parts.
"""

from __future__ import annotations

from pathlib import Path

import typer

from castsight.cli.common import EXIT_BAD_INPUT, report_error
from castsight.errors import CastsightError


def serve(
    settings: Path | None = typer.Option(None, "--settings", help="The station's YAML file."),
    demo: bool = typer.Option(False, "--demo", help="Simulated cell, embedded store."),
    host: str | None = typer.Option(None, help="Listen address (default: the settings')."),
    port: int | None = typer.Option(None, help="Port (default: the settings', 8000)."),
    data_dir: Path = typer.Option(Path("out/serve-demo"), help="--demo: its data folder."),
    demo_interval: float = typer.Option(5.0, min=0, help="--demo: seconds between parts."),
    demo_rounds: int | None = typer.Option(
        None, min=1, help="--demo: times the line is sent (default: until stopped)."
    ),
) -> None:
    """Serve the station: parts in over HTTP, sentences out (store, MQTT)."""
    if (settings is None) == (not demo):
        report_error("give --settings FILE or --demo (one of them)")
        raise typer.Exit(EXIT_BAD_INPUT)
    try:
        from castsight.station.serve import endpoints
        from castsight.station.serve import serve as run_station
    except ImportError as err:
        report_error(
            f"castsight serve needs the station extra: pip install 'castsight[station]' ({err})"
        )
        raise typer.Exit(EXIT_BAD_INPUT) from None
    feeder = None
    try:
        if demo:
            from castsight.station.demo import prepare_demo, simulated_cell

            typer.echo("castsight serve --demo: simulating the cell's parts ...")
            loaded = prepare_demo(data_dir, port=port or 8000)
            feeder = simulated_cell(data_dir, interval_s=demo_interval, rounds=demo_rounds)
        else:
            from castsight.station.settings import load_settings

            assert settings is not None
            loaded = load_settings(settings)
    except CastsightError as err:
        report_error(err)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    changes = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    loaded = loaded.model_copy(update=changes)
    for line in endpoints(loaded):
        typer.echo(line)
    if demo:
        from castsight.station.demo import DEMO_ADMIN, demo_secrets

        typer.echo(f"demo login: {DEMO_ADMIN} / {demo_secrets(data_dir)['password']}")
    run_station(loaded, feeder=feeder)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the CLI."""
    app.command("serve")(serve)


__all__ = ["register", "serve"]
