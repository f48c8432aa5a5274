"""Is the station up, and with what."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from castsight import __version__
from castsight.station.api.deps import StationDep

router = APIRouter(prefix="/api", tags=["station"])


@router.get("/health")
def health(station: StationDep) -> dict[str, Any]:
    """Up: the software, the schema revision and the cells."""
    return {
        "status": "ok",
        "software": __version__,
        "schema": station.revision,
        "cells": [c.name for c in station.settings.cells],
    }
