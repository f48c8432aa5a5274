"""Roles, each allowed what the ones below it are.

>>> allows(Role.ENGINEER, Role.INSPECTOR), allows(Role.OPERATOR, Role.INSPECTOR)
(True, False)
>>> Role.parse("inspector") is Role.INSPECTOR
True
"""

from __future__ import annotations

from enum import StrEnum

from castsight.errors import InputError


class Role(StrEnum):
    """operator (views parts), inspector (reviews), engineer (plans, models), admin (users)."""

    OPERATOR = "operator"
    INSPECTOR = "inspector"
    ENGINEER = "engineer"
    ADMIN = "admin"

    @classmethod
    def parse(cls, text: str) -> Role:
        """The role called ``text``.

        Raises
        ------
        InputError
            No role is called so.
        """
        try:
            return cls(text)
        except ValueError:
            names = ", ".join(r.value for r in cls)
            raise InputError(None, f"no role {text!r} (roles: {names})") from None


RANK = {role: k for k, role in enumerate(Role)}
"""Each role's place: a role is allowed what every lower one is."""


def allows(role: Role, needed: Role) -> bool:
    """Whether ``role`` may do what needs ``needed``."""
    return RANK[role] >= RANK[needed]


__all__ = ["RANK", "Role", "allows"]
