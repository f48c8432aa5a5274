"""Inspect -> store -> signal: each acknowledged part goes to a worker process with the
model active for its part type when its inspection starts (a part in flight at an
activation finishes with its own), its sentence is stored once (with the hash of the
model that judged it) and published. A timeout or an error is REVIEW (NoTest) with
the reason, never OK; a part whose inspection was cut off (the service stopped or was
killed) is still ``received`` in the store and is inspected again at the next start
(:meth:`StationService.resume`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from castsight.io.files import short_reason
from castsight.station.models import ModelService
from castsight.station.pool import InspectionPool
from castsight.station.settings import StationSettings
from castsight.station.signals import Publisher, SentenceMessage
from castsight.station.store import repo
from castsight.station.store.archive import ImageArchive
from castsight.station.store.mappers import MachineSentence, as_utc
from castsight.station.worker import InspectJob, ModelRef, ModelRefusedError, uses_model

log = logging.getLogger("castsight.station.service")

T = TypeVar("T")

RETRY_MAX_S = 30.0
"""The longest wait between two tries of a store step the database failed."""


def transient(err: BaseException) -> bool:
    """Whether ``err`` is the database being away (a connection dropped or refused, the
    server restarting, SQLite busy), which a later try may not meet.

    >>> transient(OperationalError("select 1", {}, Exception("gone"))), transient(ValueError())
    (True, False)
    """
    if isinstance(err, OperationalError):
        return True
    return isinstance(err, DBAPIError) and bool(err.connection_invalidated)


async def retried(step: Callable[[], T], *, what: str, first_s: float = 0.5) -> T:
    """Run the store step ``step`` in a thread until the database lets it finish: tried
    again after a transient failure (:func:`transient`), waiting ``first_s`` and then
    twice as long each time, at most :data:`RETRY_MAX_S`. Other errors are raised.

    An acknowledged part must end with its sentence even when the database was away
    for a while (its connections dropped, PostgreSQL restarted), not only at the next
    start of the station. Each step is idempotent: a part already sentenced is not
    sentenced again.
    """
    delay = first_s
    while True:
        try:
            return await run_in_threadpool(step)
        except Exception as err:
            if not transient(err):
                raise
            log.warning("%s: the database failed (%s); trying again in %.1f s",
                        what, short_reason(err), delay)  # fmt: skip
        await asyncio.sleep(delay)
        delay = min(2 * delay, RETRY_MAX_S)


class StationService:
    """The station's work on parts after they are acknowledged.

    Parameters
    ----------
    settings : StationSettings
    sessions : sessionmaker
        Sessions for the work done in the background (one per step).
    archive : ImageArchive
    pool : InspectionPool
    publishers : sequence of Publisher
    provenance : dict
        Per cell: ``(plan sha256, model sha256 or None)``, for NoTest sentences.
    models : ModelService, optional
        The model active for a part type when a part's inspection starts (None: the
        cells' models are fixed, as ``provenance`` names them).
    """

    def __init__(
        self,
        settings: StationSettings,
        *,
        sessions: sessionmaker[Session],
        archive: ImageArchive,
        pool: InspectionPool,
        publishers: Sequence[Publisher],
        provenance: dict[str, tuple[str, str | None]],
        models: ModelService | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.archive = archive
        self.pool = pool
        self.publishers = tuple(publishers)
        self.provenance = provenance
        self.models = models
        self._done: dict[int, asyncio.Event] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def schedule(self, part_id: int, *, not_tested: str | None = None) -> None:
        """Start inspecting an acknowledged part (in the event loop's thread); with
        ``not_tested``, sentence it REVIEW (NoTest) for that reason without inspecting it
        (a part whose views never all came: :mod:`castsight.station.dicom`)."""
        if part_id in self._done:
            return
        self._done[part_id] = asyncio.Event()
        task = asyncio.create_task(self._inspect(part_id, not_tested), name=f"part-{part_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait(self, part_id: int, timeout_s: float) -> bool:
        """Whether part ``part_id`` was sentenced within ``timeout_s`` (by this process)."""
        event = self._done.get(part_id)
        if event is None:
            return False
        try:
            await asyncio.wait_for(event.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    async def resume(self) -> int:
        """Schedule every part acknowledged but not sentenced; how many there were."""
        ids = await run_in_threadpool(self._unsentenced)
        for part_id in ids:
            log.info("part %d was acknowledged but not sentenced: inspecting it again", part_id)
            self.schedule(part_id)
        return len(ids)

    async def drain(self) -> None:
        """Wait for the parts in flight (tests, orderly stops)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Stop: parts in flight are left ``received`` (inspected at the next start)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _unsentenced(self) -> list[int]:
        with self.sessions() as session:
            return [p.id for p in repo.unsentenced(session)]

    async def _inspect(self, part_id: int, not_tested: str | None = None) -> None:
        try:
            job = await retried(lambda: self._job(part_id), what=f"part {part_id}")
            if job is None:
                return
            timeout = self.settings.inspection_timeout_s
            plan, model = self.provenance.get(job.cell, (None, None))
            if self.models is not None:
                model = job.model.sha256 if job.model is not None else None
            try:
                if not_tested is not None:
                    outcome = MachineSentence.not_tested(
                        not_tested, plan_sha256=plan, model_sha256=model
                    )
                else:
                    record = await self.pool.inspect(job, timeout_s=timeout)
                    outcome = MachineSentence.from_record(record)
            except TimeoutError:
                outcome = MachineSentence.not_tested(
                    f"inspection timed out after {timeout:g} s",
                    plan_sha256=plan,
                    model_sha256=model,
                )
            except asyncio.CancelledError:
                raise
            except ModelRefusedError as err:  # its folder changed: never silently used
                outcome = MachineSentence.not_tested(str(err), plan_sha256=plan, model_sha256=model)
            except Exception as err:  # fail-safe: a failed inspection is NoTest, never OK
                reason = f"inspection failed ({type(err).__name__}: {short_reason(err)})"
                outcome = MachineSentence.not_tested(reason, plan_sha256=plan, model_sha256=model)
            message = await retried(lambda: self._store(part_id, outcome), what=f"part {part_id}")
            if message is not None:
                await run_in_threadpool(self._publish, message)
        finally:
            event = self._done.pop(part_id, None)
            if event is not None:
                event.set()

    def _job(self, part_id: int) -> InspectJob | None:
        with self.sessions() as session:
            part = repo.get_part(session, part_id)
            if part is None or part.state != repo.RECEIVED:
                return None
            repo.start_attempt(session, part)
            session.commit()
            views = tuple((v.name, str(self.archive.path(v.sha256))) for v in part.views)
            model = self._model(session, part.cell, part.part_type)
            return InspectJob(part.cell, part.serial, part.part_type, views, model)

    def _model(self, session: Session, cell: str, part_type: str) -> ModelRef | None:
        """The model active for ``part_type`` now, if the cell's detector reads one."""
        if self.models is None:
            return None
        try:
            settings = self.settings.cell(cell)
        except KeyError:
            return None
        return self.models.active(session, part_type) if uses_model(settings) else None

    def _store(self, part_id: int, outcome: MachineSentence) -> SentenceMessage | None:
        with self.sessions() as session:
            part = repo.get_part(session, part_id)
            if part is None or repo.add_sentence(session, part, outcome) is None:
                return None
            repo.audit(
                session,
                action="part_sentenced",
                part_id=part.id,
                detail={
                    "serial": part.serial,
                    "sentence": outcome.sentence,
                    "no_test": outcome.no_test,
                    "reasons": list(outcome.reasons),
                },
                plan_sha256=outcome.plan_sha256,
                model_sha256=outcome.model_sha256,
            )
            session.commit()
            assert part.sentenced_at is not None
            return SentenceMessage(
                part_id=part.id,
                serial=part.serial,
                cell=part.cell,
                sentence=outcome.sentence,
                no_test=outcome.no_test,
                reasons=outcome.reasons,
                received_at=as_utc(part.received_at),
                sentenced_at=as_utc(part.sentenced_at),
                software=outcome.software,
                plan_sha256=outcome.plan_sha256,
                model_sha256=outcome.model_sha256,
            )

    def _publish(self, message: SentenceMessage) -> None:
        for publisher in self.publishers:
            try:
                publisher.publish(message)
            except Exception as err:  # a signal away never loses the stored sentence
                log.error("%s: part %s not signalled (%s)", publisher.name, message.serial, err)


__all__ = ["RETRY_MAX_S", "StationService", "retried", "transient"]
