"""Serve the station with uvicorn (``castsight serve``), optionally fed by a cell."""

from __future__ import annotations

import threading
from collections.abc import Callable

from castsight.station.settings import StationSettings

Feeder = Callable[[str, threading.Event], None]
"""Sends parts to the station at a base URL until the event is set (the demo's cell)."""


def url_of(settings: StationSettings) -> str:
    """The station's base URL.

    >>> from castsight.station.settings import CellSettings
    >>> url_of(StationSettings(cells=[CellSettings(name="c", part_type="t")], port=8080))
    'http://127.0.0.1:8080'
    """
    return f"http://{settings.host}:{settings.port}"


def serve(settings: StationSettings, *, feeder: Feeder | None = None) -> None:
    """Run the station until interrupted (Ctrl-C, SIGTERM); ``feeder`` runs beside it."""
    import uvicorn

    from castsight.station.main import create_app

    config = uvicorn.Config(
        create_app(settings), host=settings.host, port=settings.port, log_level="warning"
    )
    server = uvicorn.Server(config)
    stop = threading.Event()
    thread = None
    if feeder is not None:
        thread = threading.Thread(target=feeder, args=(url_of(settings), stop), daemon=True)
        thread.start()
    try:
        server.run()
    finally:
        stop.set()
        if thread is not None:
            thread.join(timeout=5)


__all__ = ["Feeder", "serve", "url_of"]
