"""Parts: upload one (answered with its record, or 202 and where to poll), list them,
get one, and the sentence of a serial."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from castsight.station import intake
from castsight.station.api.deps import SessionDep, StationDep, UploadingCellDep
from castsight.station.exceptions import ForbiddenError, PartNotFoundError, ViewTooLargeError
from castsight.station.lifecycle import Station
from castsight.station.schemas import PartOut, SentenceOut, part_out, part_url
from castsight.station.service import retried
from castsight.station.store import repo

router = APIRouter(prefix="/api/parts", tags=["parts"])


class SerialSentenceOut(BaseModel):
    """The last sentence of a serial (None while the part is being inspected)."""

    part_id: int
    url: str
    serial: str
    cell: str
    state: str
    sentence: SentenceOut | None


async def _read(view: UploadFile, max_bytes: int) -> intake.UploadedView:
    name = view.filename or ""
    if view.size is not None and view.size > max_bytes:
        raise ViewTooLargeError(name, f"{view.size} bytes, over the limit of {max_bytes}")
    return intake.UploadedView(name, await view.read(max_bytes + 1))


def _receive(station: Station, upload: intake.PartUpload) -> int:
    with station.sessions() as session:
        return intake.receive(session, upload, settings=station.settings, archive=station.archive)


def _part(station: Station, part_id: int) -> PartOut:
    with station.sessions() as session:
        row = repo.get_part(session, part_id)
        if row is None:
            raise PartNotFoundError(None, f"no part {part_id}")
        return part_out(row, record=True)


@router.post(
    "",
    status_code=201,
    responses={202: {"description": "acknowledged, not yet sentenced: poll its url"}},
)
async def post_part(
    station: StationDep,
    uploader: UploadingCellDep,
    response: Response,
    serial: Annotated[str, Form(description="The part's serial.")],
    views: Annotated[list[UploadFile], File(description="The views: TIFF, PNG, DICONDE.")],
    cell: Annotated[str | None, Form(description="The cell (or give part_type).")] = None,
    part_type: Annotated[str | None, Form(description="The part type.")] = None,
    wait: Annotated[
        bool, Query(description="Answer with the sentence when it comes within answer_within_s.")
    ] = True,
) -> PartOut:
    """Receive a part: stored durably, then inspected by a worker; answered with its
    record (201) when sentenced within ``answer_within_s``, else 202 with its URL.
    Only a cell sends parts, with its token, for itself (the cell may be left out)."""
    if cell is not None and cell != uploader:
        raise ForbiddenError(None, f"the token is cell {uploader!r}'s, not cell {cell!r}'s")
    limit = station.settings.max_view_bytes
    uploaded = tuple([await _read(v, limit) for v in views])
    part_id = await run_in_threadpool(
        _receive, station, intake.PartUpload(serial, uploader, part_type, uploaded)
    )
    station.service.schedule(part_id)
    done = wait and await station.service.wait(part_id, station.settings.answer_within_s)
    # the part is stored: answer it even if the database drops a connection meanwhile
    # (a 500 now would make the cell send it again, and it would be stored twice)
    out = await retried(lambda: _part(station, part_id), what=f"part {part_id}")
    response.headers["Location"] = part_url(part_id)
    if not done or out.sentence is None:
        response.status_code = 202
    return out


@router.get("")
def list_parts(
    session: SessionDep,
    cell: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[PartOut]:
    """Parts, newest first (without their records)."""
    return [part_out(p) for p in repo.list_parts(session, cell=cell, limit=limit, offset=offset)]


@router.get("/{part_id}")
def get_part(session: SessionDep, part_id: int) -> PartOut:
    """One part with its record."""
    row = repo.get_part(session, part_id)
    if row is None:
        raise PartNotFoundError(None, f"no part {part_id}")
    return part_out(row, record=True)


@router.get("/{serial}/sentence")
def get_sentence(session: SessionDep, serial: str) -> SerialSentenceOut:
    """The sentence of the last part received with ``serial``."""
    row = repo.latest_by_serial(session, serial)
    if row is None:
        raise PartNotFoundError(None, f"no part with serial {serial!r}")
    out = part_out(row)
    return SerialSentenceOut(
        part_id=row.id,
        url=out.url,
        serial=row.serial,
        cell=row.cell,
        state=row.state,
        sentence=out.sentence,
    )
