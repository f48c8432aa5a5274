"""DICOM C-STORE intake: a Storage SCP (pynetdicom) for cells that push DICONDE.

One series (SeriesInstanceUID) is one part. Each instance is written to the spool
(``SPOOL/.incoming/``, synced) and checked before it is answered: a DICOM image castsight
reads (:func:`castsight.io.read_radiograph`, so the serial, part type and view come from
the attributes castsight's DICONDE writer sets: PatientID, PatientName,
SeriesDescription/ViewName, with the castsight record in ImageComments as fallback), a
part type one cell inspects, a cell whose expected views are known, a view name that is
a plain file name. It is then renamed to ``SPOOL/SERIES/VIEW.dcm`` and the folder synced:
only then is Success (0x0000) answered, so an acknowledged instance is on disk. Anything
else gets a failure status, logged with the reason, and leaves nothing behind:

======  ============================================================================
0xA900  not an image (no pixel data, or pixels castsight cannot decode)
0xC000  cannot understand: no serial, part type, view or series; an unknown part type;
        a cell without expected views; a view sent twice with other content; a series
        already taken as a part
0xA700  out of resources: over ``max_view_bytes``, or the spool cannot be written
======  ============================================================================

A series is complete when its cell's expected views are all there
(:func:`castsight.station.watch.complete`, as a watched folder is, from the cell's
``expected_views``, else the plan's, else the model's taught views). It is then received
as over HTTP (checked, archived, committed: acknowledged), inspected by the service, and
its folder moved to ``SPOOL/processed/PARTID-SERIES`` (refused: ``SPOOL/failed/SERIES-TIME``
with ``reason.txt``). A series not complete ``series_timeout_s`` after its first instance
is received as it is and sentenced REVIEW (NoTest), "missing view(s): ...", without
inspection: never OK. The spool outlives the process: series left there are taken up at
the next start (their first instance's time is in ``SPOOL/SERIES/.series.json``).

A series is taken once. Before it is received, what it holds is written to
``SPOOL/.taken/SERIES.json`` (serial, cell, the sha256 of each instance, synced), so the
spool remembers it across restarts (the newest 10 000 are kept). An instance that comes
after its series was taken (a late view, a cell sending again after the station was
restarted) never opens a new part with the same serial: an instance the part already
holds (a retransmission) is answered Success and dropped, any other is refused 0xC000
with a log line naming the part and its series (fail-safe: the part was sentenced on
what it had; a view it lacked made it REVIEW, "missing view(s)"). A part X-rayed again
must come as a series of its own (a new SeriesInstanceUID, the same serial): it is then
a new inspection of the serial, a part of its own with its own sentence, as a part
posted again with other images over HTTP or from a watched folder. A kill between
storing the part and moving its folder receives the folder again at the next start, and
the store recognises the part (:func:`castsight.station.intake.receive`): it is not
stored twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool

from castsight.errors import CastsightError, printable
from castsight.io.files import short_reason
from castsight.station.exceptions import UnknownCellError
from castsight.station.intake import PartUpload, UploadedView, choose_cell, view_name
from castsight.station.settings import DicomSettings, StationSettings
from castsight.station.watch import DONE_DIRS, complete, view_files

if TYPE_CHECKING:
    from pynetdicom import evt
    from pynetdicom.transport import ThreadedAssociationServer

log = logging.getLogger("castsight.station.dicom")

SUCCESS = 0x0000
NOT_AN_IMAGE = 0xA900
"""Error: the data set does not match its SOP class (here: not an image castsight reads)."""
CANNOT_UNDERSTAND = 0xC000
OUT_OF_RESOURCES = 0xA700

VERIFICATION = "1.2.840.10008.1.1"
"""The Verification SOP class (C-ECHO)."""
SERIES_RECORD = ".series.json"
INCOMING = ".incoming"
TAKEN = ".taken"
"""The spool's folder of the series taken as parts (one ``SERIES.json`` each)."""
_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")
_TAKEN_KEPT = 10_000
"""How many taken series are remembered (a retransmitted instance is answered Success)."""


class RefusedError(Exception):
    """An instance the SCP does not accept: the status to answer and why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class SeriesInfo:
    """A series in the spool: the part it is and when its first instance came (epoch s)."""

    serial: str
    part_type: str
    cell: str
    first_s: float

    @classmethod
    def load(cls, folder: Path) -> SeriesInfo:
        """The record of the series in ``folder``.

        Raises
        ------
        OSError, ValueError, KeyError, TypeError
            No readable record (a folder left by a crash before its first instance).
        """
        data = json.loads((folder / SERIES_RECORD).read_text(encoding="utf-8"))
        return cls(
            str(data["serial"]), str(data["part_type"]), str(data["cell"]), float(data["first_s"])
        )


@dataclass(frozen=True)
class Instance:
    """An instance that passed the checks: its series, part and view."""

    series: str
    serial: str
    part_type: str
    cell: str
    view: str


def durable_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that it is on disk when this returns: a temporary file
    synced, renamed, and its folder synced (never a half file under the name)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """fsync a folder, so the names created or renamed in it are on disk."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def missing_reason(missing: Sequence[str], timeout_s: float) -> str:
    """The NoTest reason of a series that never completed.

    >>> missing_reason(["V02", "V03"], 300.0)
    'missing view(s): V02, V03 (series incomplete 300 s after its first view)'
    """
    views = ", ".join(missing) or "?"
    return f"missing view(s): {views} (series incomplete {timeout_s:g} s after its first view)"


class DicomIntake:
    """The Storage SCP and its spool; see the module docstring.

    Parameters
    ----------
    settings : StationSettings
        Its ``dicom`` section (AE title, address, spool, timeout), cells and limits.
    expected_views : mapping
        Per cell, the views every part must have (None: unknown, the cell cannot take
        DICOM parts).
    receive : callable
        Stores an upload, returns the part id (acknowledged); raises CastsightError when
        the part is refused. Called in a thread.
    schedule : callable
        ``schedule(part_id, not_tested)``: starts inspecting a part, or with a reason
        sentences it REVIEW (NoTest). Called in the event loop.
    clock : callable
        Wall-clock seconds (tests); a series' age survives a restart.
    """

    def __init__(
        self,
        settings: StationSettings,
        expected_views: Mapping[str, Sequence[str] | None],
        receive: Callable[[PartUpload], int],
        schedule: Callable[[int, str | None], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.dicom: DicomSettings = settings.dicom
        self.spool = self.dicom.spool(settings.storage)
        self.expected = {k: list(v) if v else None for k, v in expected_views.items()}
        self.receive = receive
        self.schedule = schedule
        self.clock = clock
        self.server: ThreadedAssociationServer | None = None
        self._lock = threading.Lock()
        self._taken: OrderedDict[str, set[str]] = OrderedDict()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    # -- the SCP ------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the SCP listens on (the one chosen when the settings say 0)."""
        assert self.server is not None, "the SCP is not started"
        return int(self.server.server_address[1])

    def start(self) -> None:
        """Bind the SCP (raises OSError when the address is taken) and serve in threads."""
        from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
        from pynetdicom import AE, AllStoragePresentationContexts, evt

        (self.spool / INCOMING).mkdir(parents=True, exist_ok=True)
        for stale in (self.spool / INCOMING).iterdir():  # never acknowledged: a crash mid-way
            stale.unlink(missing_ok=True)
        self._prune_taken()
        ae = AE(ae_title=self.dicom.ae_title)
        ae.require_calling_aet = list(self.dicom.calling_ae_titles)
        syntaxes = [ExplicitVRLittleEndian, ImplicitVRLittleEndian]
        for context in AllStoragePresentationContexts:
            assert context.abstract_syntax is not None
            ae.add_supported_context(context.abstract_syntax, syntaxes)
        ae.add_supported_context(VERIFICATION)  # C-ECHO, for a cell's connection test
        self.server = ae.start_server(
            (self.dicom.host, self.dicom.port),
            block=False,
            evt_handlers=[(evt.EVT_C_STORE, self.on_c_store)],
        )
        log.info("DICOM Storage SCP %s on %s:%d", self.dicom.ae_title, self.dicom.host, self.port)

    def stop(self) -> None:
        """Stop the SCP (instances acknowledged stay in the spool for the next start)."""
        if self.server is not None:
            self.server.shutdown()
            self.server = None

    def on_c_store(self, event: evt.Event) -> int:
        """The C-STORE handler (in an association's thread): the status to answer."""
        peer = printable(str(event.assoc.requestor.ae_title))
        try:
            instance = self._accept(event.encoded_dataset())
        except RefusedError as err:
            log.warning("C-STORE from %s refused (status 0x%04X): %s", peer, err.status, err.reason)
            return err.status
        except Exception as err:  # disk full, permissions: the cell keeps its instance
            log.error("C-STORE from %s not stored: %s", peer, short_reason(err))
            return OUT_OF_RESOURCES
        if instance is not None:
            log.info(
                "C-STORE from %s: part %s view %s (series %s)",
                peer,
                instance.serial,
                instance.view,
                instance.series,
            )
        self._notify()
        return SUCCESS

    def _accept(self, data: bytes) -> Instance | None:
        """Check and spool one instance (durably); None for a retransmission of one
        already held. Raises :class:`RefusedError`."""
        limit = self.settings.max_view_bytes
        if len(data) > limit:
            reason = f"{len(data)} bytes, over max_view_bytes ({limit})"
            raise RefusedError(OUT_OF_RESOURCES, reason)
        fd, name = tempfile.mkstemp(dir=self.spool / INCOMING, suffix=".dcm")
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            instance = self._check(tmp)
            return instance if self._place(tmp, instance, data) else None
        finally:
            tmp.unlink(missing_ok=True)

    def _check(self, path: Path) -> Instance:
        """What ``path`` is; :class:`RefusedError` unless a part's view castsight can take."""
        import pydicom

        from castsight.io import read_radiograph

        try:
            ds = pydicom.dcmread(path, defer_size=1024)  # pixels read when decoded
        except Exception as err:
            reason = f"not a DICOM data set ({short_reason(err)})"
            raise RefusedError(CANNOT_UNDERSTAND, reason) from None
        if "PixelData" not in ds:
            sop = ds.get("SOPClassUID")
            kind = getattr(sop, "name", None) or str(sop or "no SOP class")
            raise RefusedError(NOT_AN_IMAGE, f"not an image: no pixel data ({kind})")
        series = str(ds.get("SeriesInstanceUID", "") or "").strip()
        if not _UID.match(series) or len(series) > 64:
            raise RefusedError(CANNOT_UNDERSTAND, f"no valid SeriesInstanceUID ({series!r})")
        try:
            radiograph = read_radiograph(path)
        except CastsightError as err:
            reason = f"not an image castsight reads ({err.reason})"
            raise RefusedError(NOT_AN_IMAGE, reason) from None
        serial = (radiograph.part_serial or "").strip()
        if not serial or len(serial) > 255 or not serial.isprintable():
            raise RefusedError(
                CANNOT_UNDERSTAND, "no part serial (PatientID, the DICONDE Component ID)"
            )
        part_type = (radiograph.part_type or "").strip()
        if not part_type:
            raise RefusedError(
                CANNOT_UNDERSTAND,
                f"part {serial}: no part type (PatientName, the DICONDE Component Name)",
            )
        try:
            cell = choose_cell(self.settings, None, part_type)
        except UnknownCellError as err:
            raise RefusedError(CANNOT_UNDERSTAND, f"part {serial}: {err.reason}") from None
        if not self.expected.get(cell.name):
            raise RefusedError(
                CANNOT_UNDERSTAND,
                f"part {serial}: cell {cell.name} has no expected views (cells[].expected_views, "
                "the plan's or the model's), so a series could never be complete",
            )
        view = (radiograph.view or "").strip()
        if (
            not view
            or len(view) > 64
            or not view.isprintable()
            or view.startswith(".")
            or any(c in view for c in "/\\:")
            or view_name(f"{view}.dcm") != view
        ):
            raise RefusedError(
                CANNOT_UNDERSTAND,
                f"part {serial}: no usable view name (SeriesDescription/ViewName: {view!r})",
            )
        return Instance(series, serial, part_type, cell.name, view)

    def _place(self, tmp: Path, instance: Instance, data: bytes) -> bool:
        """Move a checked instance into its series folder (synced); False when the same
        instance is already held (a retransmission)."""
        digest = hashlib.sha256(data).hexdigest()
        folder = self.spool / instance.series
        with self._lock:
            taken = self._taken_digests(instance.series)
            if taken is not None:
                if digest in taken:
                    return False
                raise RefusedError(
                    CANNOT_UNDERSTAND,
                    f"part {instance.serial}: view {instance.view} came after its series "
                    f"{instance.series} was taken as a part (sentenced on the views it "
                    "had; not opened again: a part X-rayed again needs a new series)",
                )
            try:
                info = SeriesInfo.load(folder)
            except FileNotFoundError:
                folder.mkdir(exist_ok=True)
                info = SeriesInfo(instance.serial, instance.part_type, instance.cell, self.clock())
                durable_write(folder / SERIES_RECORD, json.dumps(asdict(info)).encode())
                sync_folder(self.spool)
            if (info.serial, info.cell) != (instance.serial, instance.cell):
                raise RefusedError(
                    CANNOT_UNDERSTAND,
                    f"series {instance.series} is part {info.serial} of {info.cell}, "
                    f"this instance says part {instance.serial} of {instance.cell}",
                )
            target = folder / f"{instance.view}.dcm"
            if target.exists():
                if hashlib.sha256(target.read_bytes()).hexdigest() == digest:
                    return False
                raise RefusedError(
                    CANNOT_UNDERSTAND,
                    f"part {instance.serial}: view {instance.view} already received in "
                    f"series {instance.series} with other content (a view named twice)",
                )
            os.replace(tmp, target)
            sync_folder(folder)
            return True

    def _taken_digests(self, series: str) -> set[str] | None:
        """The instances' sha256 of ``series`` if it was taken as a part (remembered, or
        recorded in the spool by an earlier run), else None. Called under the lock."""
        taken = self._taken.get(series)
        if taken is not None:
            return taken
        try:
            data = json.loads((self.spool / TAKEN / f"{series}.json").read_text("utf-8"))
            taken = {str(d) for d in data["digests"]}
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            taken = set()  # a record cut short by a crash: taken, content unknown
        self._remember(series, taken)
        return taken

    def _remember(self, series: str, digests: set[str]) -> None:
        self._taken[series] = digests
        self._taken.move_to_end(series)
        while len(self._taken) > _TAKEN_KEPT:
            self._taken.popitem(last=False)

    def _prune_taken(self) -> None:
        """Keep the records of the newest :data:`_TAKEN_KEPT` series taken."""
        folder = self.spool / TAKEN
        if not folder.is_dir():
            return
        records = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
        for old in records[: max(0, len(records) - _TAKEN_KEPT)]:
            old.unlink(missing_ok=True)

    # -- the spool ----------------------------------------------------------------------

    def due(self) -> list[tuple[Path, SeriesInfo, tuple[str, ...] | None]]:
        """One look at the spool: each series complete (missing: None) or timed out (the
        views missing); a folder without record past the timeout goes to failed/."""
        now, timeout = self.clock(), self.dicom.series_timeout_s
        out: list[tuple[Path, SeriesInfo, tuple[str, ...] | None]] = []
        if not self.spool.is_dir():
            return out
        for folder in sorted(self.spool.iterdir()):
            if not folder.is_dir() or folder.name.startswith(".") or folder.name in DONE_DIRS:
                continue
            try:
                info = SeriesInfo.load(folder)
            except (OSError, ValueError, KeyError, TypeError):
                # made by a crash before its first instance was acknowledged
                if now - folder.stat().st_mtime >= timeout:
                    self._fail(folder, "no series record: no instance was acknowledged")
                continue
            expected = self.expected.get(info.cell) or []
            if complete(folder, expected):
                out.append((folder, info, None))
            elif now - info.first_s >= timeout:
                present = {view_name(p.name) for p in view_files(folder)}
                out.append((folder, info, tuple(v for v in expected if v not in present)))
        return out

    def take(self, folder: Path, info: SeriesInfo) -> int | None:
        """Receive the series in ``folder`` as a part and move the folder; its id, or None
        if refused (moved to failed/ with the reason)."""
        with self._lock:  # no instance is being placed: none will be after this
            files = view_files(folder)
            digests = {hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
            record = {"serial": info.serial, "cell": info.cell, "digests": sorted(digests)}
            (self.spool / TAKEN).mkdir(exist_ok=True)
            durable_write(self.spool / TAKEN / f"{folder.name}.json", json.dumps(record).encode())
            self._remember(folder.name, digests)
        try:
            views = tuple(UploadedView(p.name, p.read_bytes()) for p in files)
            part_id = self.receive(PartUpload(info.serial, info.cell, info.part_type, views))
        except (CastsightError, OSError) as err:
            self._fail(folder, str(err))
            log.warning("series %s (part %s) refused: %s", folder.name, info.serial, err)
            return None
        target = self.spool / "processed" / f"{part_id}-{folder.name}"
        target.parent.mkdir(exist_ok=True)
        shutil.move(folder, target)
        return part_id

    async def run(self) -> None:
        """Take each series complete or timed out, until cancelled; a new instance wakes
        it, else it looks every ``poll_s``."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        while True:
            self._wake.clear()
            try:
                for folder, info, missing in await run_in_threadpool(self.due):
                    part_id = await run_in_threadpool(self.take, folder, info)
                    if part_id is None:
                        continue
                    reason = None
                    if missing is not None:
                        reason = missing_reason(missing, self.dicom.series_timeout_s)
                        log.warning("part %s (id %d): %s", info.serial, part_id, reason)
                    self.schedule(part_id, reason)
            except asyncio.CancelledError:
                raise
            except Exception as err:  # a bad look (disk, permissions): log, look again
                log.error("DICOM spool %s: %s", self.spool, short_reason(err))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.dicom.poll_s)

    def _notify(self) -> None:
        """Wake :meth:`run` (from an association's thread)."""
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed: the station stops
                loop.call_soon_threadsafe(wake.set)

    def _fail(self, folder: Path, reason: str) -> None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        target = self.spool / "failed" / f"{folder.name}-{stamp}"
        target.parent.mkdir(exist_ok=True)
        shutil.move(folder, target)
        (target / "reason.txt").write_text(f"{reason}\n", encoding="utf-8")


__all__ = [
    "CANNOT_UNDERSTAND",
    "NOT_AN_IMAGE",
    "OUT_OF_RESOURCES",
    "SUCCESS",
    "TAKEN",
    "DicomIntake",
    "RefusedError",
    "SeriesInfo",
    "durable_write",
    "missing_reason",
]
