"""The statistics on the station's store: computed from a window of sentenced parts and
reviews (:mod:`castsight.station.statistics`), kept for the queue page and the health
answer, recomputed every ``statistics.check_every_s`` by the running station; a drift
alarm is written to the audit trail once when it starts, and once when it clears."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from castsight.station.settings import StatisticsSettings
from castsight.station.statistics import Measure, Shifts, StationStatistics, compute
from castsight.station.store import repo
from castsight.station.store import statistics as queries

log = logging.getLogger("castsight.station")


class StatisticsService:
    """The station's statistics and drift alarms.

    Parameters
    ----------
    sessions : sessionmaker
        A session per computation.
    settings : StatisticsSettings
        Shifts, window, subgroups, baseline.
    """

    def __init__(self, sessions: sessionmaker[Session], settings: StatisticsSettings) -> None:
        self.sessions = sessions
        self.settings = settings
        self.shifts = Shifts(tuple(settings.shift_starts), settings.tz())
        self._lock = threading.Lock()
        self._last: StationStatistics | None = None

    def refresh(self, *, now: dt.datetime | None = None) -> StationStatistics:
        """Compute the figures afresh, audit drift alarms that started or cleared since
        the audit trail's last word on them, keep and return the figures."""
        with self._lock:
            now = now or repo.now()
            since = now - dt.timedelta(days=self.settings.window_days)
            with self.sessions() as session:
                found = compute(
                    queries.part_outcomes(session, since=since),
                    queries.review_outcomes(session, since=since),
                    shifts=self.shifts,
                    subgroup_parts=self.settings.subgroup_parts,
                    baseline=self.settings.baseline_subgroups,
                    min_n=self.settings.min_subgroup_parts,
                    since=since,
                    computed_at=now,
                )
                self._audit(session, found)
                session.commit()
            self._last = found
            return found

    def current(self) -> StationStatistics:
        """The figures kept, computed now when there are none or they are older than
        ``check_every_s``."""
        last = self._last
        age = self.settings.check_every_s
        if last is None or (repo.now() - last.computed_at).total_seconds() > age:
            return self.refresh()
        return last

    def _audit(self, session: Session, found: StationStatistics) -> None:
        """One audit line per alarm that started, and per one that ended."""
        states = queries.drift_states(session)
        active = {(a.part_type, a.measure): a for a in found.alarms}
        for key, alarm in active.items():
            if not states.get(key, False):
                log.warning("drift alarm: %s", alarm.message)
                repo.audit(session, action=queries.DRIFT_STARTED, detail=alarm.to_dict())
        charted = {(t.part_type, c.measure) for t in found.part_types for c in t.charts}
        for (part_type, measure), started in states.items():
            if started and (part_type, measure) not in active:
                detail = {
                    "part_type": part_type,
                    "measure": Measure(measure).value,
                    "charted": (part_type, measure) in charted,
                }
                log.warning("drift alarm cleared: %s %s", part_type, measure.value)
                repo.audit(session, action=queries.DRIFT_CLEARED, detail=detail)

    async def run(self) -> None:
        """Recompute every ``check_every_s`` until cancelled (an error is logged, and the
        next round comes). Cancelled mid-round, the round ends first: the station closes
        its database after."""
        while True:
            job = asyncio.ensure_future(run_in_threadpool(self.refresh))
            try:
                await asyncio.shield(job)
            except asyncio.CancelledError:
                await asyncio.gather(job, return_exceptions=True)
                raise
            except Exception:  # the station goes on; the next round tries again
                log.exception("computing the statistics failed")
            await asyncio.sleep(self.settings.check_every_s)


__all__ = ["StatisticsService"]
