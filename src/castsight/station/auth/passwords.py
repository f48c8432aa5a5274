"""Password hashes: argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile).

>>> h = hash_password("correct horse")
>>> h.startswith("$argon2id$"), verify_password(h, "correct horse"), verify_password(h, "x")
(True, True, False)
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()

DUMMY_HASH = _HASHER.hash("castsight: no such user")
"""Verified against when the user is unknown, so a wrong name costs the same time as a
wrong password."""


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (salted: two calls differ)."""
    return _HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches the ``stored`` hash (False for a malformed hash)."""
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


__all__ = ["DUMMY_HASH", "hash_password", "verify_password"]
