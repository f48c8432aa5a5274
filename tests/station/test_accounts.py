"""Users and logins on SQLite and PostgreSQL: the bootstrap admin, roles, the audit."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, select

from castsight.errors import InputError
from castsight.station.accounts import AccountService
from castsight.station.auth.roles import Role
from castsight.station.settings import AuthSettings
from castsight.station.store import migrate
from castsight.station.store.engine import session_factory
from castsight.station.store.tables import AuditRow, UserRow


@pytest.fixture
def service(engine: Engine) -> AccountService:
    migrate.upgrade(engine)
    return AccountService(session_factory(engine))


def audit_lines(service: AccountService) -> list[tuple[str, str]]:
    with service.sessions() as session:
        return [
            (a.action, a.actor) for a in session.scalars(select(AuditRow).order_by(AuditRow.id))
        ]


def test_bootstrap_admin_only_when_there_is_no_user(service: AccountService) -> None:
    auth = AuthSettings(bootstrap_admin="root", bootstrap_password=SecretStr("s3cret-pass"))
    admin = service.bootstrap(auth)
    assert admin is not None and admin.role is Role.ADMIN
    assert service.bootstrap(auth) is None
    with service.sessions() as session:
        stored = session.scalars(select(UserRow)).one()
    assert stored.password_hash is not None and stored.password_hash.startswith("$argon2id$")
    assert "s3cret-pass" not in stored.password_hash
    assert audit_lines(service) == [("user_created", "station")]


def test_logins_are_checked_and_audited(service: AccountService) -> None:
    admin = service.bootstrap(
        AuthSettings(bootstrap_admin="root", bootstrap_password=SecretStr("s3cret-pass"))
    )
    assert admin is not None
    ada = service.create_user(name="ada", role=Role.INSPECTOR, password="ada-pass-1", by=admin)
    with pytest.raises(InputError, match="no admin"):
        service.create_user(name="bob", role=Role.ADMIN, password="bob-pass-1", by=ada)
    with pytest.raises(InputError, match="taken"):
        service.create_user(name="ada", role=Role.OPERATOR, password="other-pass", by=admin)
    with pytest.raises(InputError, match="8 characters"):
        service.create_user(name="eve", role=Role.OPERATOR, password="short", by=admin)
    assert service.login("ada", "ada-pass-1", client="127.0.0.1") == ada
    assert service.login("ada", "wrong-pass") is None
    assert service.login("nobody", "ada-pass-1") is None
    assert service.user(ada.id) == ada
    assert audit_lines(service)[-4:] == [
        ("user_created", "root"),
        ("login", "ada"),
        ("login_failed", "ada"),
        ("login_failed", "nobody"),
    ]
    with service.sessions() as session:
        line = session.scalars(select(AuditRow).where(AuditRow.action == "login")).one()
    assert line.software and line.detail == {"client": "127.0.0.1"}
