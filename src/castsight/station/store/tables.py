"""The station's tables (SQLAlchemy 2 declarative). A change here needs a new Alembic
revision (``store/alembic/versions``); the test suite fails on any difference between
these tables and the migrations' head.

Append-only by use: ``sentences`` (one machine sentence per part), ``reviews`` and
``audit`` are only ever inserted by the repositories.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names fixed here, so every database gets the same ones (migrations can
name them)."""

Stamp = DateTime(timezone=True)


class Base(DeclarativeBase):
    """The tables' base (its own metadata, apart from any API shape)."""

    metadata = MetaData(naming_convention=NAMING)


class UserRow(Base):
    """A person: operator (views), inspector (reviews), engineer (plans, models) or
    admin (users); see :mod:`castsight.station.auth.roles`."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    """argon2id; None: the user cannot log in."""
    created_at: Mapped[dt.datetime] = mapped_column(Stamp)
    active: Mapped[bool] = mapped_column(Boolean, server_default=true(), default=True)
    """False: the user cannot log in and open sessions end (users are never deleted:
    the audit trail names them)."""
    session_generation: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    """Counted up when the password is reset: a session cookie issued under an earlier
    generation no longer works (:mod:`castsight.station.auth.cookies`)."""


class PlanRow(Base):
    """An inspection plan in use, by its hash."""

    __tablename__ = "plans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    part_type: Mapped[str] = mapped_column(String(100))
    registered_at: Mapped[dt.datetime] = mapped_column(Stamp)


class ModelRow(Base):
    """A model artifact in use, by its hash."""

    __tablename__ = "models"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(Text)
    part_type: Mapped[str | None] = mapped_column(String(100))
    registered_at: Mapped[dt.datetime] = mapped_column(Stamp)


class ModelActivationRow(Base):
    """A model made active for a part type by an engineer: active while
    ``deactivated_at`` is None (one per part type), kept when the next one replaces it."""

    __tablename__ = "model_activations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), index=True)
    part_type: Mapped[str] = mapped_column(String(100), index=True)
    activated_at: Mapped[dt.datetime] = mapped_column(Stamp)
    activated_by: Mapped[str] = mapped_column(String(100))
    """The engineer's name (``station`` for the settings' model at a first start)."""
    deactivated_at: Mapped[dt.datetime | None] = mapped_column(Stamp)
    deactivated_by: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[ModelRow] = relationship()


class PartRow(Base):
    """A part as acknowledged: durable before the answer; ``state`` says how far it got."""

    __tablename__ = "parts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(255), index=True)
    cell: Mapped[str] = mapped_column(String(100), index=True)
    part_type: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), index=True)
    """received (acknowledged, not sentenced) | sentenced"""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """How often an inspection was started (a restart starts it again)."""
    received_at: Mapped[dt.datetime] = mapped_column(Stamp)
    sentenced_at: Mapped[dt.datetime | None] = mapped_column(Stamp)
    reception_sha256: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    """What identifies the reception (:func:`castsight.station.store.repo.reception_digest`:
    serial, cell, the views' names and sha256s), unique: the database stores the same
    upload once, even two copies received at the same moment. None only for a copy
    stored twice before revision 0005 (the first copy holds it)."""
    views: Mapped[list[ViewRow]] = relationship(
        back_populates="part", order_by="ViewRow.position", cascade="all, delete-orphan"
    )
    sentence: Mapped[SentenceRow | None] = relationship(back_populates="part")


class ViewRow(Base):
    """One view of a part: its file in the archive and what inspection made of it."""

    __tablename__ = "views"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    """The file's sha256: its name in the archive."""
    size_bytes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str | None] = mapped_column(String(20))
    """After inspection: inspected | unreadable | failed_quality | unmeasurable | error."""
    detector: Mapped[str | None] = mapped_column(String(50))
    error: Mapped[str | None] = mapped_column(Text)
    judged_pct: Mapped[float | None] = mapped_column(Float)
    part: Mapped[PartRow] = relationship(back_populates="views")


class SentenceRow(Base):
    """The machine's sentence of a part (one per part), with its provenance."""

    __tablename__ = "sentences"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id", ondelete="CASCADE"), unique=True)
    sentence: Mapped[str] = mapped_column(String(10), index=True)
    no_test: Mapped[bool] = mapped_column(Boolean)
    """The part could not be inspected (timeout, error): REVIEW, never OK."""
    reasons: Mapped[list[str]] = mapped_column(JSON)
    software: Mapped[str] = mapped_column(String(50))
    plan_sha256: Mapped[str | None] = mapped_column(String(64))
    model_sha256: Mapped[str | None] = mapped_column(String(64))
    inspected_at: Mapped[dt.datetime] = mapped_column(Stamp)
    record: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The ``castsight.record/1`` object (None when there is none: timeout, error)."""
    part: Mapped[PartRow] = relationship(back_populates="sentence")


class FindingRow(Base):
    """One reason a part is not OK."""

    __tablename__ = "findings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(50))
    zone: Mapped[str] = mapped_column(String(100))
    view: Mapped[str | None] = mapped_column(String(255))
    sentence: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)


class IndicationRow(Base):
    """One measured indication of a view."""

    __tablename__ = "indications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id", ondelete="CASCADE"), index=True)
    view_id: Mapped[int | None] = mapped_column(ForeignKey("views.id", ondelete="CASCADE"))
    ident: Mapped[str] = mapped_column(String(300))
    """``VIEW#k``, as in the record."""
    kind: Mapped[str | None] = mapped_column(String(50))
    zone: Mapped[str | None] = mapped_column(String(100))
    score: Mapped[float | None] = mapped_column(Float)
    eq_diameter_mm: Mapped[float | None] = mapped_column(Float)
    confirmed: Mapped[bool | None] = mapped_column(Boolean)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The record's whole indication object."""


class ReviewRow(Base):
    """A person's verdict on a part, stored beside the machine's sentence."""

    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verdict: Mapped[str] = mapped_column(String(20))
    """accepted (the part is good) | rejected (the part is scrap)."""
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime] = mapped_column(Stamp)
    machine_sentence: Mapped[str | None] = mapped_column(String(10))
    """The machine's sentence the reviewer saw (OK, NG, REVIEW)."""
    overturned: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    """The verdict contradicts a decided machine sentence (NG accepted, OK rejected)."""


class AuditRow(Base):
    """One line of the append-only audit trail."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(Stamp, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    """``station`` for the machine, else the user's name."""
    action: Mapped[str] = mapped_column(String(50))
    part_id: Mapped[int | None] = mapped_column(ForeignKey("parts.id", ondelete="SET NULL"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    software: Mapped[str] = mapped_column(String(50))
    plan_sha256: Mapped[str | None] = mapped_column(String(64))
    model_sha256: Mapped[str | None] = mapped_column(String(64))


__all__ = [
    "AuditRow",
    "Base",
    "FindingRow",
    "IndicationRow",
    "ModelActivationRow",
    "ModelRow",
    "PartRow",
    "PlanRow",
    "ReviewRow",
    "SentenceRow",
    "UserRow",
    "ViewRow",
]
