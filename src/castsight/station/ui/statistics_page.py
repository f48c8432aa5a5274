"""The statistics page: rates per part type, view, zone (or indication kind) and shift,
the override rate, a p-chart per part type and rate (SVG), the active drift alarms."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from castsight.station.api.deps import OperatorDep, StationDep
from castsight.station.auth.cookies import COOKIE
from castsight.station.ui.charts import p_chart_svg
from castsight.station.ui.render import page

router = APIRouter(include_in_schema=False)


@router.get("/ui/statistics")
async def statistics_page(request: Request, station: StationDep, user: OperatorDep) -> HTMLResponse:
    """The figures, computed now (operators and up)."""
    found = await run_in_threadpool(station.statistics.refresh)
    charts = {
        (t.part_type, c.measure.value): p_chart_svg(c) for t in found.part_types for c in t.charts
    }
    return page(
        "statistics.html.j2",
        title="statistics",
        user=user,
        csrf=station.signer.csrf(request.cookies.get(COOKIE, "")),
        stats=found,
        charts=charts,
        settings=station.settings.statistics,
    )


__all__ = ["router"]
