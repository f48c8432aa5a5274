"""The statistics as JSON: the figures the review UI's statistics page shows."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from castsight.station.api.deps import OperatorDep, StationDep

router = APIRouter(prefix="/api", tags=["station"])


@router.get("/statistics")
async def statistics(station: StationDep, user: OperatorDep) -> dict[str, Any]:
    """NG and REVIEW rates per part type, view, zone (or indication kind) and shift, the
    override rate, the p-charts and the active drift alarms, computed now (a logged-in
    user's session cookie)."""
    found = await run_in_threadpool(station.statistics.refresh)
    return found.to_dict()


__all__ = ["router"]
