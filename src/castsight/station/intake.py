"""Receiving a part: every view checked (size, format, a whole readable image), archived
and synced, then the part and its views committed in one transaction. Only then is the
part acknowledged; a refused part leaves no row (an archived file no row names is
harmless: content-addressed, and swept by retention).

Receiving is idempotent: a part that comes again with the serial, cell and views (names
and sha256s) of a part already stored is that part, not a second one. Its id is
answered, nothing new is stored, the audit trail says ``part_received_again`` and a
line is logged. This is what makes the watched folder and the DICOM spool safe against
a kill between storing a part and moving its files away (they take the same files again
at the next start), and a cell that posts again after a lost answer. The database holds
it too: each part's reception digest (:func:`castsight.station.store.repo.reception_digest`)
is unique, so two copies arriving at the same moment (two requests, a watched folder and
a retry), which both pass the look for the part already stored, are stored once: the
second insert is refused, rolled back whole, and answered as a resend. A part X-rayed
again is a new part: its images have other noise, other hashes."""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import PurePath

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from castsight.errors import InputError, printable
from castsight.station.exceptions import (
    UnknownCellError,
    UnsupportedViewError,
    ViewTooLargeError,
)
from castsight.station.settings import CellSettings, StationSettings
from castsight.station.store import repo
from castsight.station.store.archive import ImageArchive

log = logging.getLogger("castsight.station.intake")

FORMATS = ("tiff", "png", "diconde")
"""What a cell may send: 16-bit TIFF, PNG, DICONDE (JPEG/BMP are for archives only)."""


@dataclass(frozen=True)
class UploadedView:
    """One uploaded file: the name the cell gave it and its bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class PartUpload:
    """A part as it came: serial, cell and/or part type, its views."""

    serial: str
    cell: str | None
    part_type: str | None
    views: tuple[UploadedView, ...]


def choose_cell(settings: StationSettings, cell: str | None, part_type: str | None) -> CellSettings:
    """The cell a part is for: named, or the one cell inspecting ``part_type``.

    Raises
    ------
    UnknownCellError
        No such cell; no or several cells for the part type; the type is not the cell's.
    """
    if cell:
        try:
            found = settings.cell(cell)
        except KeyError:
            names = ", ".join(c.name for c in settings.cells)
            raise UnknownCellError(None, f"unknown cell {cell!r} (cells: {names})") from None
        if part_type and part_type != found.part_type:
            raise UnknownCellError(
                None, f"cell {cell!r} inspects {found.part_type!r}, not {part_type!r}"
            )
        return found
    matching = [c for c in settings.cells if c.part_type == part_type]
    if not part_type or len(matching) != 1:
        types = ", ".join(sorted({c.part_type for c in settings.cells}))
        raise UnknownCellError(
            None,
            f"part type {part_type!r}: give a cell, or one of the "
            f"types one cell inspects ({types})",
        )
    return matching[0]


def view_name(filename: str) -> str:
    """The view's name: the file name's stem (``V01.tif`` -> ``V01``).

    >>> view_name("P1/V01.tif"), view_name("top.view.dcm")
    ('V01', 'top.view')
    """
    return PurePath(filename.replace("\\", "/")).stem


def check_view(view: UploadedView, *, max_bytes: int, scratch: str) -> None:
    """Refuse a view too large, of another format, or not a whole readable image."""
    from castsight.io import detect_format, read_radiograph

    name = printable(view.filename)
    if len(view.data) > max_bytes:
        raise ViewTooLargeError(name, f"{len(view.data)} bytes, over the limit of {max_bytes}")
    if detect_format(view.data) not in FORMATS:
        raise UnsupportedViewError(name, "not a TIFF, PNG or DICONDE file")
    fd, tmp = tempfile.mkstemp(dir=scratch, suffix=".view")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(view.data)
        read_radiograph(tmp)
    except InputError as err:
        raise InputError(name, err.reason) from None
    finally:
        os.unlink(tmp)


def receive(
    session: Session, upload: PartUpload, *, settings: StationSettings, archive: ImageArchive
) -> int:
    """Check, archive and commit a part; returns its id (it is then acknowledged). The
    same part received again (serial, cell, view names and sha256s) is not stored twice:
    its id is returned (see the module docstring).

    Raises
    ------
    InputError
        The part is refused (see :mod:`castsight.station.exceptions`); nothing is stored.
    """
    serial = upload.serial.strip()
    if not serial or len(serial) > 255 or not serial.isprintable():
        raise InputError(None, "serial: 1 to 255 printable characters")
    cell = choose_cell(settings, upload.cell, upload.part_type)
    if not upload.views or len(upload.views) > settings.max_views:
        raise InputError(None, f"views: 1 to {settings.max_views} files")
    names = [view_name(v.filename) for v in upload.views]
    if any(not n for n in names) or len(set(names)) != len(names):
        raise InputError(None, f"views: each needs a file name, names unique (got {names})")
    with tempfile.TemporaryDirectory(dir=archive.root, prefix=".incoming-") as scratch:
        for view in upload.views:
            check_view(view, max_bytes=settings.max_view_bytes, scratch=scratch)
    new = [
        repo.NewView(name, PurePath(v.filename).name[:255], archive.put(v.data), len(v.data))
        for name, v in zip(names, upload.views, strict=True)
    ]
    same = repo.same_part(session, serial=serial, cell=cell.name, views=new)
    if same is None:
        try:
            part_id = repo.add_part(
                session, serial=serial, cell=cell.name, part_type=cell.part_type, views=new
            ).id
        except IntegrityError:
            # another receiver stored the same upload since the look (two copies at the
            # same moment): the database's unique reception refused this one, nothing of
            # it is stored; it is the part the other stored
            session.rollback()
            same = repo.same_part(session, serial=serial, cell=cell.name, views=new)
            if same is None:  # refused for another reason
                raise
    if same is not None:
        log.warning(
            "part %s of %s received again with the same images: it is part %d (%s), "
            "not stored twice",
            printable(serial),
            cell.name,
            same.id,
            same.state,
        )
        part_id, action = same.id, "part_received_again"
    else:
        action = "part_received"
    detail = {"serial": serial, "cell": cell.name, "views": names}
    repo.audit(session, action=action, part_id=part_id, detail=detail)
    session.commit()
    return part_id


__all__ = ["FORMATS", "PartUpload", "UploadedView", "choose_cell", "receive", "view_name"]
