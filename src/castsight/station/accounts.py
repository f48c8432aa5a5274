"""People: the first admin, users an admin creates, disables, enables or gives a new
password, logins; every login (and each failed one) and every change to a user goes to
the audit trail."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from castsight.errors import InputError
from castsight.station.auth.passwords import DUMMY_HASH, hash_password, verify_password
from castsight.station.auth.roles import Role
from castsight.station.exceptions import ForbiddenError, UserNotFoundError
from castsight.station.settings import AuthSettings
from castsight.station.store import accounts, repo
from castsight.station.store.mappers import as_utc
from castsight.station.store.tables import UserRow


@dataclass(frozen=True)
class User:
    """A logged-in person, as the routes and pages see them."""

    id: int
    name: str
    role: Role
    session_generation: int = field(default=0, compare=False)
    """The user's session generation (counted up by a password reset); a session
    cookie carries it, and one of an earlier generation no longer works."""


@dataclass(frozen=True)
class Account:
    """A user as the admin's page lists them."""

    id: int
    name: str
    role: Role
    active: bool
    created_at: dt.datetime
    can_log_in: bool
    """Has a password (a user without one cannot log in)."""


def _account(row: UserRow) -> Account:
    return Account(
        row.id,
        row.name,
        Role.parse(row.role),
        row.active,
        as_utc(row.created_at),
        bool(row.password_hash),
    )


class AccountService:
    """Users and logins on the station's store.

    Parameters
    ----------
    sessions : sessionmaker
        A session per call.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def bootstrap(self, auth: AuthSettings) -> User | None:
        """Create the settings' bootstrap admin when the station has no user yet."""
        if auth.bootstrap_admin is None or auth.bootstrap_password is None:
            return None
        with self.sessions() as session:
            if accounts.count_users(session) > 0:
                return None
            user = self._create(
                session,
                name=auth.bootstrap_admin,
                role=Role.ADMIN,
                password=auth.bootstrap_password.get_secret_value(),
                actor="station",
            )
            session.commit()
            return user

    def create_user(self, *, name: str, role: Role, password: str, by: User) -> User:
        """A new user, created by an admin.

        Raises
        ------
        InputError
            ``by`` is no admin, the name is taken or the password shorter than 8.
        """
        if by.role is not Role.ADMIN:
            raise InputError(None, f"{by.name} is no admin: cannot create users")
        with self.sessions() as session:
            user = self._create(session, name=name, role=role, password=password, actor=by.name)
            session.commit()
            return user

    def accounts(self, *, by: User) -> list[Account]:
        """Every user, active or not, by name (admins only).

        Raises
        ------
        ForbiddenError
        """
        _admin(by, "list users")
        with self.sessions() as session:
            return [_account(row) for row in accounts.list_users(session)]

    def set_active(self, user_id: int, active: bool, *, by: User) -> Account:
        """Disable (``active`` False: no login, open sessions end) or enable a user;
        audited. An admin cannot disable themselves (someone must be left to enable).

        Raises
        ------
        ForbiddenError, UserNotFoundError
        """
        _admin(by, "disable or enable users")
        if user_id == by.id and not active:
            raise ForbiddenError(None, "an admin cannot disable themselves")
        with self.sessions() as session:
            row = _row(session, user_id)
            if row.active != active:
                row.active = active
                repo.audit(
                    session,
                    action="user_enabled" if active else "user_disabled",
                    actor=by.name,
                    detail={"user": row.name, "role": row.role},
                )
            session.commit()
            return _account(row)

    def reset_password(self, user_id: int, password: str, *, by: User) -> Account:
        """Give user ``user_id`` a new password (an admin's act, audited; the password
        itself is never stored or logged) and end every session of theirs: their session
        generation is counted up, so each session cookie issued before the reset is
        refused (an admin who resets their own password logs in again too).

        Raises
        ------
        ForbiddenError, UserNotFoundError
        InputError
            The password is shorter than 8 characters.
        """
        _admin(by, "reset passwords")
        if len(password) < 8:
            raise InputError(None, "a password needs at least 8 characters")
        with self.sessions() as session:
            row = _row(session, user_id)
            row.password_hash = hash_password(password)
            row.session_generation = (row.session_generation or 0) + 1
            repo.audit(
                session,
                action="password_reset",
                actor=by.name,
                detail={"user": row.name, "sessions_ended": True},
            )
            session.commit()
            return _account(row)

    def _create(
        self, session: Session, *, name: str, role: Role, password: str, actor: str
    ) -> User:
        if len(password) < 8:
            raise InputError(None, "a password needs at least 8 characters")
        if not name.strip() or accounts.user_by_name(session, name) is not None:
            raise InputError(None, f"the user name {name!r} is empty or taken")
        row = accounts.add_user(
            session, name=name, role=role.value, password_hash=hash_password(password)
        )
        repo.audit(session, action="user_created", actor=actor, detail={"user": name, "role": role})
        return User(row.id, row.name, role)

    def login(self, name: str, password: str, *, client: str | None = None) -> User | None:
        """The user when ``password`` is theirs and they are active; None otherwise.
        Both outcomes are audited."""
        with self.sessions() as session:
            row = accounts.user_by_name(session, name)
            stored = row.password_hash if row is not None and row.password_hash else DUMMY_HASH
            ok = verify_password(stored, password) and row is not None and row.active
            repo.audit(
                session,
                action="login" if ok else "login_failed",
                actor=name[:100],
                detail={"client": client},
            )
            session.commit()
            if not ok or row is None:
                return None
            return User(row.id, row.name, Role.parse(row.role), row.session_generation)

    def logout(self, user: User) -> None:
        """Audit a logout."""
        with self.sessions() as session:
            repo.audit(session, action="logout", actor=user.name)
            session.commit()

    def user(self, user_id: int, *, generation: int | None = None) -> User | None:
        """The active user ``user_id`` (a session's owner), or None; with ``generation``
        (the session's), None too when it is not the user's now (their password was
        reset after the session was issued)."""
        with self.sessions() as session:
            row = accounts.user_by_id(session, user_id)
            if row is None or not row.active:
                return None
            if generation is not None and generation != row.session_generation:
                return None
            return User(row.id, row.name, Role.parse(row.role), row.session_generation)


def _admin(user: User, what: str) -> None:
    if user.role is not Role.ADMIN:
        raise ForbiddenError(None, f"{user.name} ({user.role}) may not {what}: needs admin")


def _row(session: Session, user_id: int) -> UserRow:
    row = accounts.user_by_id(session, user_id)
    if row is None:
        raise UserNotFoundError(None, f"no user {user_id}")
    return row


__all__ = ["Account", "AccountService", "User"]
