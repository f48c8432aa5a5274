"""A watched folder per cell: each part is a subfolder ``WATCH/SERIAL/`` of view files.

A part is complete when its ``manifest.json`` (``{"views": [FILE, ...]}``) names files
that are all there, or a ``.done`` marker is there, or (neither) the cell's expected
views are all there; and its files (names, sizes, mtimes) have not changed for
``settle_s`` across polls, so a half-written file is never read. It is then received
as over HTTP (checked, archived, committed: acknowledged), inspected by the service,
and its folder moved to ``WATCH/processed/PARTID-SERIAL`` (or, refused, to
``WATCH/failed/SERIAL-TIME`` with ``reason.txt``).

Taking a part is idempotent: a station killed after the part was stored and before its
folder was moved finds the folder again at the next start and receives it again, and
:func:`castsight.station.intake.receive` recognises the part already stored (same
serial, cell and image hashes) and answers its id: the folder is moved, the part is
scheduled (a part already sentenced is not inspected again), nothing is stored twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from starlette.concurrency import run_in_threadpool

from castsight.errors import CastsightError
from castsight.station.intake import PartUpload, UploadedView, view_name
from castsight.station.settings import CellSettings, WatchSettings

log = logging.getLogger("castsight.station.watch")

MANIFEST, DONE = "manifest.json", ".done"
DONE_DIRS = ("processed", "failed")

Snapshot = tuple[tuple[str, int, int], ...]
"""A part folder's files: (name, size, mtime_ns), sorted."""


def view_files(folder: Path) -> list[Path]:
    """The part's view files: every plain file but the manifest, the marker, hidden
    files and ``*.tmp``/``*.part``."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and p.name != MANIFEST
        and not p.name.startswith(".")
        and not p.name.endswith((".tmp", ".part"))
    )


def complete(folder: Path, expected_views: list[str] | None) -> bool:
    """Whether the part's views are all there (by manifest, marker or expected views);
    a manifest being written (not JSON yet) is not complete."""
    manifest = folder / MANIFEST
    if manifest.is_file():
        try:
            names = json.loads(manifest.read_text(encoding="utf-8"))["views"]
        except (OSError, ValueError, KeyError, TypeError):
            return False
        return isinstance(names, list) and all((folder / str(n)).is_file() for n in names)
    if (folder / DONE).is_file():
        return True
    if not expected_views:
        return False
    present = {view_name(p.name) for p in view_files(folder)}
    return set(expected_views) <= present


def snapshot(folder: Path) -> Snapshot:
    """Names, sizes and mtimes of every file in ``folder``."""
    out = []
    for p in sorted(folder.iterdir()):
        if p.is_file():
            st = p.stat()
            out.append((p.name, st.st_size, st.st_mtime_ns))
    return tuple(out)


class FolderWatcher:
    """Polls one cell's folder; see the module docstring.

    Parameters
    ----------
    cell : CellSettings
        The cell (its ``watch`` set).
    receive : callable
        Stores an upload, returns the part id (acknowledged); raises CastsightError
        when the part is refused. Called in a thread.
    schedule : callable
        Starts inspecting a part id (in the event loop).
    clock : callable
        Monotonic seconds (tests).
    """

    def __init__(
        self,
        cell: CellSettings,
        receive: Callable[[PartUpload], int],
        schedule: Callable[[int], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        assert cell.watch is not None
        self.cell = cell
        self.watch: WatchSettings = cell.watch
        self.receive = receive
        self.schedule = schedule
        self.clock = clock
        self._seen: dict[Path, tuple[Snapshot, float]] = {}

    def ready(self) -> list[Path]:
        """The part folders complete and unchanged for the settle time (one poll)."""
        root = self.watch.path
        root.mkdir(parents=True, exist_ok=True)
        now, out = self.clock(), []
        folders = [p for p in sorted(root.iterdir()) if p.is_dir() and p.name not in DONE_DIRS]
        self._seen = {k: v for k, v in self._seen.items() if k in folders}
        for folder in folders:
            try:
                if not complete(folder, self.cell.expected_views):
                    self._seen.pop(folder, None)
                    continue
                shot = snapshot(folder)
            except OSError:  # moved or being written: next poll
                continue
            previous = self._seen.get(folder)
            if previous is None or previous[0] != shot:
                self._seen[folder] = (shot, now)
            elif now - previous[1] >= self.watch.settle_s:
                out.append(folder)
        return out

    def take(self, folder: Path) -> int | None:
        """Receive the part in ``folder`` and move the folder; its id, or None if refused."""
        self._seen.pop(folder, None)
        try:
            views = tuple(UploadedView(p.name, p.read_bytes()) for p in view_files(folder))
            part_id = self.receive(PartUpload(folder.name, self.cell.name, None, views))
        except (CastsightError, OSError) as err:
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
            target = self._move(folder, "failed", f"{folder.name}-{stamp}")
            (target / "reason.txt").write_text(f"{err}\n", encoding="utf-8")
            log.warning("%s: part %s refused (%s)", self.cell.name, folder.name, err)
            return None
        self._move(folder, "processed", f"{part_id}-{folder.name}")
        return part_id

    async def run(self) -> None:
        """Poll until cancelled; each ready part received, scheduled, moved."""
        while True:
            try:
                for folder in await run_in_threadpool(self.ready):
                    part_id = await run_in_threadpool(self.take, folder)
                    if part_id is not None:
                        self.schedule(part_id)
            except asyncio.CancelledError:
                raise
            except Exception as err:  # a bad poll (disk, permissions): log, poll again
                log.error("%s: watching %s failed (%s)", self.cell.name, self.watch.path, err)
            await asyncio.sleep(self.watch.poll_s)

    def _move(self, folder: Path, kind: str, name: str) -> Path:
        target = self.watch.path / kind / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(folder, target)
        return target


__all__ = ["FolderWatcher", "complete", "snapshot", "view_files"]
