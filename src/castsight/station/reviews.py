"""Reviews of the parts the machine did not pass (REVIEW, NG): the queue, a part's page
with its views and indications, and a person's verdict stored beside the machine's
sentence and audited. The review pages go through this service only.

A verdict is Yxlon's: ``accepted`` (the part is good) or ``rejected`` (scrap). It
overturns the machine when it contradicts a decided sentence (NG accepted, OK
rejected); an overturn needs a reason. REVIEW is the machine's "undecided": either
verdict resolves it.

>>> overturns("NG", Verdict.ACCEPTED), overturns("NG", Verdict.REJECTED)
(True, False)
>>> overturns("REVIEW", Verdict.ACCEPTED), overturns("OK", Verdict.REJECTED)
(False, True)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from castsight.errors import CastsightError
from castsight.io.files import short_reason
from castsight.report.html import KIND_COLOURS
from castsight.station.accounts import User
from castsight.station.exceptions import PartNotFoundError, ReviewRefusedError
from castsight.station.store import repo, reviews
from castsight.station.store.archive import ImageArchive
from castsight.station.store.tables import PartRow
from castsight.station.viewimages import ViewImage, view_image


class Verdict(StrEnum):
    """A reviewer's verdict on a part."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"


def overturns(machine: str, verdict: Verdict) -> bool:
    """Whether ``verdict`` contradicts the machine's sentence ``machine``."""
    return (machine, verdict) in {("NG", Verdict.ACCEPTED), ("OK", Verdict.REJECTED)}


@dataclass(frozen=True)
class QueueItem:
    """A part waiting for a person."""

    id: int
    serial: str
    cell: str
    part_type: str
    sentence: str
    reasons: tuple[str, ...]
    received_at: dt.datetime


@dataclass(frozen=True)
class ViewPanel:
    """One view on a part's page: the viewer's spec (as the HTML report's) or why not."""

    position: int
    name: str
    status: str | None
    indications: int
    spec: dict[str, Any] | None
    error: str | None


@dataclass(frozen=True)
class ReviewLine:
    """A review already given."""

    verdict: str
    reason: str | None
    overturned: bool
    decided_at: dt.datetime


@dataclass(frozen=True)
class PartPage:
    """What a part's review page shows."""

    id: int
    serial: str
    cell: str
    part_type: str
    sentence: str | None
    no_test: bool
    reasons: tuple[str, ...]
    views: tuple[ViewPanel, ...]
    reviews: tuple[ReviewLine, ...]
    previous_id: int | None
    next_id: int | None


class ReviewService:
    """Reviews on the station's store.

    Parameters
    ----------
    sessions : sessionmaker
        A session per call.
    archive : ImageArchive
        Where the views' files are.
    """

    def __init__(self, sessions: sessionmaker[Session], archive: ImageArchive) -> None:
        self.sessions = sessions
        self.archive = archive

    def queue(self) -> list[QueueItem]:
        """Parts waiting for review (REVIEW or NG, not yet reviewed), oldest first."""
        with self.sessions() as session:
            return [_item(p) for p in reviews.queue(session)]

    def page(self, part_id: int) -> PartPage:
        """Part ``part_id``'s page; its neighbours are those of the queue.

        Raises
        ------
        PartNotFoundError
        """
        with self.sessions() as session:
            part = repo.get_part(session, part_id)
            if part is None:
                raise PartNotFoundError(None, f"no part {part_id}")
            ids = [p.id for p in reviews.queue(session)]
            done = tuple(
                ReviewLine(r.verdict, r.reason, r.overturned, r.decided_at)
                for r in reviews.reviews_of(session, part_id)
            )
            sentence = part.sentence
            record = sentence.record if sentence is not None else None
            return PartPage(
                id=part.id,
                serial=part.serial,
                cell=part.cell,
                part_type=part.part_type,
                sentence=sentence.sentence if sentence is not None else None,
                no_test=bool(sentence and sentence.no_test),
                reasons=tuple(sentence.reasons) if sentence is not None else (),
                views=tuple(self._panels(part, part_id, record)),
                reviews=done,
                previous_id=max((i for i in ids if i < part_id), default=None),
                next_id=min((i for i in ids if i > part_id), default=None),
            )

    def _panels(
        self, part: PartRow, part_id: int, record: dict[str, Any] | None
    ) -> list[ViewPanel]:
        judged = {str(v.get("view")): v for v in (record or {}).get("views") or []}
        panels = []
        for view in part.views:
            found = (judged.get(view.name) or {}).get("indications") or []
            try:
                image = view_image(self.archive.path(view.sha256), view.sha256)
            except CastsightError as err:
                panels.append(
                    ViewPanel(
                        view.position, view.name, view.status, len(found), None, short_reason(err)
                    )
                )
                continue
            spec = _spec(image, f"/ui/parts/{part_id}/views/{view.position}.png", found)
            panels.append(ViewPanel(view.position, view.name, view.status, len(found), spec, None))
        return panels

    def view_png(self, part_id: int, position: int) -> bytes:
        """The packed PNG of part ``part_id``'s view ``position``.

        Raises
        ------
        PartNotFoundError
            No such part or view.
        """
        with self.sessions() as session:
            part = repo.get_part(session, part_id)
            views = part.views if part is not None else []
            view = next((v for v in views if v.position == position), None)
            if view is None:
                raise PartNotFoundError(None, f"no view {position} of part {part_id}")
            return view_image(self.archive.path(view.sha256), view.sha256).png

    def submit(self, part_id: int, *, user: User, verdict: Verdict, reason: str | None) -> bool:
        """Store ``user``'s verdict on part ``part_id`` beside the machine's sentence and
        audit it; whether it overturned the machine.

        Raises
        ------
        PartNotFoundError
        ReviewRefusedError
            The part has no sentence yet, or an overturn comes without a reason.
        """
        reason = (reason or "").strip() or None
        with self.sessions() as session:
            part = repo.get_part(session, part_id)
            if part is None:
                raise PartNotFoundError(None, f"no part {part_id}")
            sentence = part.sentence
            if sentence is None:
                raise ReviewRefusedError(None, f"part {part.serial} has no sentence yet")
            overturned = overturns(sentence.sentence, verdict)
            if overturned and reason is None:
                raise ReviewRefusedError(
                    None, f"a reason is needed to overturn the machine's {sentence.sentence}"
                )
            reviews.add_review(
                session,
                part,
                user_id=user.id,
                verdict=verdict.value,
                reason=reason,
                machine_sentence=sentence.sentence,
                overturned=overturned,
            )
            repo.audit(
                session,
                action="part_reviewed",
                actor=user.name,
                part_id=part.id,
                detail={
                    "serial": part.serial,
                    "verdict": verdict.value,
                    "machine_sentence": sentence.sentence,
                    "overturned": overturned,
                    "reason": reason,
                },
                plan_sha256=sentence.plan_sha256,
                model_sha256=sentence.model_sha256,
            )
            session.commit()
            return overturned


def _item(part: PartRow) -> QueueItem:
    sentence = part.sentence
    assert sentence is not None
    return QueueItem(
        part.id,
        part.serial,
        part.cell,
        part.part_type,
        sentence.sentence,
        tuple(sentence.reasons),
        part.received_at,
    )


def _spec(image: ViewImage, src: str, indications: list[dict[str, Any]]) -> dict[str, Any]:
    """The HTML report viewer's spec: image, scale, auto window, boxes."""
    boxes = []
    for ind in indications:
        bbox = ind.get("bbox")
        if not (isinstance(bbox, list) and len(bbox) >= 4):
            continue
        kind = str(ind.get("kind") or "unknown")
        boxes.append(
            {
                "x": bbox[0],
                "y": bbox[1],
                "w": bbox[2],
                "h": bbox[3],
                "colour": KIND_COLOURS.get(kind, KIND_COLOURS["unknown"]),
                "label": f"{ind.get('id', '')} {kind}",
            }
        )
    return {
        "src": src,
        "data": src,
        "key": src,
        "w": image.w,
        "h": image.h,
        "sx": image.sx,
        "sy": image.sy,
        "auto": list(image.auto),
        "boxes": boxes,
    }


__all__ = [
    "PartPage",
    "QueueItem",
    "ReviewLine",
    "ReviewService",
    "Verdict",
    "ViewPanel",
    "overturns",
]
