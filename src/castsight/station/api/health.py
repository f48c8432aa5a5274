"""Is the station up, and with what."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from castsight import __version__
from castsight.station.api.deps import StationDep

router = APIRouter(prefix="/api", tags=["station"])


@router.get("/health")
async def health(station: StationDep) -> dict[str, Any]:
    """Up: the software, the schema revision, the cells and the active drift alarms
    (part type, rate, since when; the figures are ``GET /api/statistics``)."""
    found = await run_in_threadpool(station.statistics.current)
    return {
        "status": "ok",
        "software": __version__,
        "schema": station.revision,
        "cells": [c.name for c in station.settings.cells],
        "drift_alarms": [
            {"part_type": a.part_type, "measure": a.measure.value, "since": a.since}
            for a in found.alarms
        ],
    }
