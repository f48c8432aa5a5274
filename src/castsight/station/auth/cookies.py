"""Signed session cookies and their CSRF tokens (HMAC-SHA256, stateless).

A session value is ``USER_ID.GENERATION.EXPIRES.NONCE.SIGNATURE``; GENERATION is the
user's session generation when it was issued (``users.session_generation``, counted up
when their password is reset), so a reset ends every session issued before it. Its CSRF
token is another HMAC of the whole value, sent back by forms (hidden field) and scripts
(header).

>>> signer = SessionSigner(b"k" * 32, hours=1.0)
>>> value = signer.issue(7, 2, now=1000.0)
>>> signer.claims(value, now=1000.0), signer.claims(value, now=1000.0 + 3601)
(SessionClaims(user_id=7, generation=2), None)
>>> tampered = value[:-1] + ("1" if value.endswith("0") else "0")  # the nonce is random
>>> signer.claims(tampered, now=1000.0) is None
True
>>> signer.csrf_ok(value, signer.csrf(value)), signer.csrf_ok(value, "forged")
(True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

COOKIE = "castsight_session"
"""The session cookie's name."""


@dataclass(frozen=True)
class SessionClaims:
    """What a valid session value says: whose it is, under which session generation."""

    user_id: int
    generation: int


class SessionSigner:
    """Issues and checks session values and CSRF tokens under one secret key.

    Parameters
    ----------
    key : bytes
        The secret (at least 32 bytes).
    hours : float
        How long a session lasts.
    """

    def __init__(self, key: bytes, *, hours: float) -> None:
        if len(key) < 32:
            raise ValueError(f"the session key needs at least 32 bytes, got {len(key)}")
        self._key = key
        self.max_age_s = int(hours * 3600)

    def _sign(self, purpose: str, text: str) -> str:
        message = f"{purpose}|{text}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def issue(self, user_id: int, generation: int = 0, *, now: float | None = None) -> str:
        """A new session value for ``user_id`` under their session ``generation``."""
        expires = int((time.time() if now is None else now) + self.max_age_s)
        body = f"{user_id}.{generation}.{expires}.{secrets.token_hex(8)}"
        return f"{body}.{self._sign('session', body)}"

    def claims(self, value: str, *, now: float | None = None) -> SessionClaims | None:
        """The user and session generation of a valid, unexpired session value; None
        otherwise (the caller checks the generation is still the user's)."""
        body, _, signature = value.rpartition(".")
        if not body or not hmac.compare_digest(signature, self._sign("session", body)):
            return None
        parts = body.split(".")
        if len(parts) != 4 or not all(p.isdigit() for p in parts[:3]):
            return None
        user, generation, expires = (int(p) for p in parts[:3])
        if expires <= (time.time() if now is None else now):
            return None
        return SessionClaims(user, generation)

    def csrf(self, value: str) -> str:
        """The CSRF token that goes with session ``value``."""
        return self._sign("csrf", value)

    def csrf_ok(self, value: str, token: str) -> bool:
        """Whether ``token`` is the CSRF token of session ``value``."""
        return hmac.compare_digest(token, self.csrf(value))


__all__ = ["COOKIE", "SessionClaims", "SessionSigner"]
