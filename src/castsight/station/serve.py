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


def endpoints(settings: StationSettings) -> list[str]:
    """The lines ``castsight serve`` prints: the HTTP API, the review UI, and the OPC UA
    and DICOM endpoints when enabled.

    >>> from castsight.station.settings import CellSettings, DicomSettings
    >>> s = StationSettings(cells=[CellSettings(name="c", part_type="t")],
    ...                     dicom=DicomSettings(enabled=True, port=11112))
    >>> for line in endpoints(s)[2:]: print(line)
    DICOM C-STORE: AE title CASTSIGHT on 127.0.0.1:11112
    >>> s.signals.opcua.enabled = True
    >>> print(endpoints(s)[2])
    OPC UA: opc.tcp://127.0.0.1:4840/castsight/ (Basic256Sha256_Sign, Basic256Sha256_SignAndEncrypt)
    """
    url = url_of(settings)
    lines = [
        f"castsight station: {url}  (parts: {url}/api/parts, API: {url}/docs)",
        f"review UI: {url}/ui",
    ]
    opcua = settings.signals.opcua
    if opcua.enabled:
        lines.append(f"OPC UA: {opcua.endpoint()} ({', '.join(opcua.security_policies)})")
    dicom = settings.dicom
    if dicom.enabled:
        port = str(dicom.port) if dicom.port else "(a free port, logged at start)"
        lines.append(f"DICOM C-STORE: AE title {dicom.ae_title} on {dicom.host}:{port}")
    return lines


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


__all__ = ["Feeder", "endpoints", "serve", "url_of"]
