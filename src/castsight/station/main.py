"""The station's FastAPI application.

>>> from castsight.station.settings import CellSettings, StationSettings
>>> app = create_app(StationSettings(cells=[CellSettings(name="c1", part_type="generic")]))
>>> sorted(app.openapi()["paths"])  # doctest: +NORMALIZE_WHITESPACE
['/api/health', '/api/models', '/api/models/activations', '/api/models/{model_id}/activate',
 '/api/parts', '/api/parts/{part_id}', '/api/parts/{serial}/sentence', '/api/statistics']
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI

from castsight import __version__
from castsight.station.api import errors, health, models, parts, statistics
from castsight.station.lifecycle import lifespan
from castsight.station.settings import StationSettings
from castsight.station.signals import Publisher
from castsight.station.ui import admin_pages, pages, statistics_page


def create_app(settings: StationSettings, *, publishers: Sequence[Publisher] = ()) -> FastAPI:
    """The station for ``settings``; it starts (schema, workers, signals) when served.

    Parameters
    ----------
    settings : StationSettings
        Read once (:func:`~castsight.station.settings.load_settings`), passed down.
    publishers : sequence of Publisher
        Signals besides those the settings enable.

    Returns
    -------
    FastAPI
    """
    app = FastAPI(title="castsight station", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.publishers = tuple(publishers)
    errors.install(app)
    app.include_router(parts.router)
    app.include_router(health.router)
    app.include_router(statistics.router)
    app.include_router(models.router)
    app.include_router(pages.router)
    app.include_router(statistics_page.router)
    app.include_router(admin_pages.router)
    return app


__all__ = ["create_app"]
