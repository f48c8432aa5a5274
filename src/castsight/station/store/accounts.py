"""Users on a given session (the caller commits).

>>> from castsight.station.store.engine import make_engine, session_factory
>>> from castsight.station.store.migrate import upgrade
>>> engine = make_engine("sqlite://")
>>> _ = upgrade(engine)
>>> with session_factory(engine)() as session:
...     user = add_user(session, name="ada", role="inspector", password_hash="h")
...     count_users(session), user_by_name(session, "ada").role, user_by_id(session, 99)
(1, 'inspector', None)
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from castsight.station.store.repo import now
from castsight.station.store.tables import UserRow


def add_user(session: Session, *, name: str, role: str, password_hash: str | None) -> UserRow:
    """A new active user (flushed: it has its id)."""
    row = UserRow(name=name, role=role, password_hash=password_hash, created_at=now(), active=True)
    session.add(row)
    session.flush()
    return row


def user_by_name(session: Session, name: str) -> UserRow | None:
    """The user called ``name``, or None."""
    found: UserRow | None = session.scalars(select(UserRow).where(UserRow.name == name)).first()
    return found


def user_by_id(session: Session, user_id: int) -> UserRow | None:
    """The user ``user_id``, or None."""
    return session.get(UserRow, user_id)


def list_users(session: Session) -> list[UserRow]:
    """Every user, active or not, by name."""
    return list(session.scalars(select(UserRow).order_by(UserRow.name)))


def count_users(session: Session) -> int:
    """How many users there are (active or not)."""
    return int(session.scalar(select(func.count()).select_from(UserRow)) or 0)


__all__ = ["add_user", "count_users", "list_users", "user_by_id", "user_by_name"]
