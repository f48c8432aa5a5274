"""Start and stop: the schema upgraded to head (an unknown revision refused), each part
type's active model (the settings' one activated at a first start), each cell's
Inspector built once here to check its plan and model (and record their hashes), the
retention sweep, the worker pool, the publishers; then unfinished parts are inspected
again. On stop, parts in flight stay ``received`` for the next start.

An activated model whose folder no longer hashes to its sha256 does not stop the
station: it is logged and audited (``model_refused``), and each part of its part type
is sentenced REVIEW (NoTest) with the reason until another model is activated."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from castsight.station.accounts import AccountService
from castsight.station.auth.cookies import SessionSigner
from castsight.station.dicom import DicomIntake
from castsight.station.intake import PartUpload
from castsight.station.intake import receive as receive_part
from castsight.station.models import ModelService
from castsight.station.monitor import StatisticsService
from castsight.station.pool import InspectionPool
from castsight.station.reviews import ReviewService
from castsight.station.service import StationService
from castsight.station.settings import CellSettings, StationSettings
from castsight.station.signals import Publisher
from castsight.station.store import migrate, repo
from castsight.station.store.archive import ImageArchive
from castsight.station.store.engine import make_engine, session_factory
from castsight.station.watch import FolderWatcher
from castsight.station.worker import (
    ModelRef,
    ModelRefusedError,
    build_cell_inspector,
    inspection_key,
)

if TYPE_CHECKING:
    from castsight.pipeline import Inspector

log = logging.getLogger("castsight.station")


@dataclass
class Station:
    """What the running station holds (on ``app.state.station``)."""

    settings: StationSettings
    engine: Engine
    sessions: sessionmaker[Session]
    archive: ImageArchive
    service: StationService
    revision: str
    accounts: AccountService
    signer: SessionSigner
    reviews: ReviewService
    models: ModelService
    expected_views: dict[str, list[str] | None] = field(default_factory=dict)
    """Per cell, the views every part must have (its Inspector's; None: unknown)."""

    statistics: StatisticsService = field(init=False)
    """The statistics and drift alarms (:mod:`castsight.station.monitor`)."""

    def __post_init__(self) -> None:
        self.statistics = StatisticsService(self.sessions, self.settings.statistics)

    def close(self) -> None:
        """Stop the workers and publishers, release the database."""
        self.service.pool.close()
        for publisher in self.service.publishers:
            publisher.close()
        self.engine.dispose()


def start_station(settings: StationSettings, publishers: Sequence[Publisher] = ()) -> Station:
    """Everything the station needs, checked; see the module docstring.

    Raises
    ------
    CastsightError
        A plan or model that cannot be loaded, a database of a newer castsight.
    """
    settings.storage.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.storage.database())
    revision = migrate.upgrade(engine)
    sessions = session_factory(engine)
    archive = ImageArchive(settings.storage.archive())
    model_service = ModelService(settings, sessions)
    active = model_service.start()
    provenance: dict[str, tuple[str, str | None]] = {}
    expected_views: dict[str, list[str] | None] = {}
    checked: dict[tuple[str, str], Inspector] = {}  # cells that inspect alike: built once
    with sessions() as session:
        for cell in settings.cells:
            model = active.get(cell.name)
            key = (inspection_key(cell), model.sha256 if model else "")
            if key not in checked:
                checked[key] = _checked_inspector(session, cell, model)
            inspector = checked[key]
            expected_views[cell.name] = inspector.expected_views
            plan = repo.register_plan(
                session,
                sha256=inspector.plan.sha256,
                name=cell.plan,
                part_type=inspector.plan.part_type,
            )
            provenance[cell.name] = (plan.sha256, model.sha256 if model else None)
        swept = _sweep(session, archive, settings.storage.retention_days)
        repo.audit(
            session,
            action="station_started",
            detail={
                "cells": [c.name for c in settings.cells],
                "revision": revision,
                "swept_images": swept,
            },
        )
        session.commit()
    checked.clear()
    all_publishers = list(publishers)
    if settings.signals.mqtt.enabled:
        from castsight.station.signals.mqtt import MqttPublisher

        all_publishers.append(MqttPublisher(settings.signals.mqtt))
    accounts = AccountService(sessions)
    if settings.signals.opcua.enabled:
        from castsight.station.signals.opcua import OpcuaPublisher

        def opcua_login(name: str, password: str) -> bool:
            return accounts.login(name, password, client="opcua") is not None

        all_publishers.append(
            OpcuaPublisher(
                settings.signals.opcua,
                [c.name for c in settings.cells],
                storage=settings.storage,
                login=opcua_login,
            )
        )
    pool = InspectionPool(settings.cells, settings.workers, active)
    model_service.on_activate = pool.set_model
    service = StationService(
        settings,
        sessions=sessions,
        archive=archive,
        pool=pool,
        publishers=all_publishers,
        provenance=provenance,
        models=model_service,
    )
    if accounts.bootstrap(settings.auth) is not None:
        log.warning("created the bootstrap admin %r", settings.auth.bootstrap_admin)
    return Station(
        settings,
        engine,
        sessions,
        archive,
        service,
        revision,
        accounts,
        _signer(settings),
        ReviewService(sessions, archive),
        model_service,
        expected_views,
    )


def _checked_inspector(session: Session, cell: CellSettings, model: ModelRef | None) -> Inspector:
    """The cell's Inspector with its active model; a model refused (its folder changed)
    is logged and audited, and the cell's plan checked without it.

    Raises
    ------
    CastsightError
        The plan cannot be loaded.
    """
    plain = cell.model_copy(update={"model": None})
    try:
        return build_cell_inspector(plain, model)
    except ModelRefusedError as err:
        assert model is not None
        log.error("cell %s: %s; its parts are REVIEW (NoTest) until another is active",
                  cell.name, err)  # fmt: skip
        repo.audit(
            session,
            action="model_refused",
            detail={"cell": cell.name, "path": model.path, "reason": str(err)},
            model_sha256=model.sha256,
        )
        return build_cell_inspector(plain.model_copy(update={"detector": "local"}))


def watcher(station: Station, cell: CellSettings) -> FolderWatcher:
    """The folder watcher of ``cell``: parts received as over HTTP, then inspected."""

    def receive(upload: PartUpload) -> int:
        with station.sessions() as session:
            return receive_part(session, upload, settings=station.settings, archive=station.archive)

    return FolderWatcher(cell, receive, station.service.schedule)


def dicom_intake(station: Station) -> DicomIntake:
    """The DICOM Storage SCP and spool: series received as over HTTP, then inspected (or,
    never complete, sentenced REVIEW NoTest)."""

    def receive(upload: PartUpload) -> int:
        with station.sessions() as session:
            return receive_part(session, upload, settings=station.settings, archive=station.archive)

    def schedule(part_id: int, not_tested: str | None) -> None:
        station.service.schedule(part_id, not_tested=not_tested)

    return DicomIntake(station.settings, station.expected_views, receive, schedule)


def _signer(settings: StationSettings) -> SessionSigner:
    """The session signer: the settings' key, else a random one for this process."""
    key = settings.auth.secret_key
    secret = key.get_secret_value().encode() if key is not None else secrets.token_bytes(32)
    return SessionSigner(secret, hours=settings.auth.session_hours)


def _sweep(session: Session, archive: ImageArchive, days: int | None) -> int:
    """Remove archived images only parts older than ``days`` name."""
    if days is None:
        return 0
    cutoff = repo.now() - dt.timedelta(days=days)
    return archive.remove(repo.digests_received_before(session, cutoff))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """FastAPI lifespan: start the station, inspect unfinished parts, watch folders and
    the statistics, stop it."""
    station = await run_in_threadpool(start_station, app.state.settings, app.state.publishers)
    app.state.station = station
    try:
        resumed = await station.service.resume()
        if resumed:
            log.warning("%d acknowledged parts had no sentence: inspecting them again", resumed)
        watchers = [
            asyncio.create_task(watcher(station, cell).run(), name=f"watch-{cell.name}")
            for cell in station.settings.cells
            if cell.watch is not None
        ]
        watchers.append(asyncio.create_task(station.statistics.run(), name="statistics"))
        dicom = dicom_intake(station) if station.settings.dicom.enabled else None
        app.state.dicom = dicom
        if dicom is not None:
            await run_in_threadpool(dicom.start)
            watchers.append(asyncio.create_task(dicom.run(), name="dicom"))
        try:
            yield
        finally:
            if dicom is not None:
                await run_in_threadpool(dicom.stop)
            for task in watchers:
                task.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)
    finally:
        await station.service.close()
        station.close()


__all__ = ["Station", "dicom_intake", "lifespan", "start_station", "watcher"]
