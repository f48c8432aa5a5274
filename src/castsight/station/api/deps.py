"""Providers for the routes (overridable in tests with ``app.dependency_overrides``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from castsight.station.lifecycle import Station


def get_station(request: Request) -> Station:
    """The running station."""
    station: Station = request.app.state.station
    return station


StationDep = Annotated[Station, Depends(get_station)]


def get_session(station: StationDep) -> Iterator[Session]:
    """A session for one request."""
    with station.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

__all__ = ["SessionDep", "StationDep", "get_session", "get_station"]
