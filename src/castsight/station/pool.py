"""Worker processes inspecting parts, so the service's event loop never waits on one.

Each process builds every cell's Inspector once (:func:`~castsight.station.worker.
start_worker`); processes come from a fork server that has already imported castsight,
so a new or replaced worker starts in a moment. A pool whose worker died is replaced.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from castsight.station.settings import CellSettings
from castsight.station.worker import InspectJob, ModelRef, inspect_part, start_worker

log = logging.getLogger("castsight.station.pool")


class InspectionPool:
    """``workers`` processes inspecting the parts of ``cells``.

    Parameters
    ----------
    cells : list of CellSettings
        Each worker builds each cell's Inspector.
    workers : int
        Processes.
    models : dict, optional
        Per cell, its active model (None: none), which a worker builds at its start;
        another model a job names is built when its first part comes.
    """

    def __init__(
        self,
        cells: list[CellSettings],
        workers: int,
        models: Mapping[str, ModelRef | None] | None = None,
    ) -> None:
        self._cells = [c.model_dump(mode="json", exclude={"token"}) for c in cells]
        self._workers = workers
        self._models: dict[str, tuple[str, str] | None] = {}
        for name, ref in (models or {}).items():
            self.set_model(name, ref)
        self._executor = self._start()

    def set_model(self, cell: str, model: ModelRef | None) -> None:
        """The model a worker started from now on (a replaced pool) builds for ``cell``."""
        self._models[cell] = None if model is None else (model.path, model.sha256)

    def _start(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["castsight.station.worker"])
        return ProcessPoolExecutor(
            self._workers,
            mp_context=context,
            initializer=start_worker,
            initargs=(self._cells, os.getpid(), self._models),
        )

    async def inspect(self, job: InspectJob, *, timeout_s: float) -> dict[str, Any]:
        """The record of ``job``'s part.

        Raises
        ------
        TimeoutError
            No record within ``timeout_s`` (the worker finishes the part; its record is
            dropped).
        BrokenProcessPool
            The worker died (the pool is replaced for the next part).
        """
        loop = asyncio.get_running_loop()
        executor = self._executor
        try:
            return await asyncio.wait_for(
                loop.run_in_executor(executor, inspect_part, job), timeout_s
            )
        except BrokenProcessPool:
            if self._executor is executor:
                log.error("a worker process died: replacing the pool")
                executor.shutdown(wait=False, cancel_futures=True)
                self._executor = self._start()
            raise

    def worker_pids(self) -> list[int]:
        """The process ids of the workers running now (monitoring, fault tests)."""
        return [p.pid for p in list(self._executor._processes.values()) if p.pid is not None]

    def close(self) -> None:
        """Stop the workers (parts in flight stay unsentenced: inspected at next start)."""
        self._executor.shutdown(wait=False, cancel_futures=True)


__all__ = ["InspectionPool"]
