"""Signed session cookies and their CSRF tokens (HMAC-SHA256, stateless).

A session value is ``USER_ID.EXPIRES.NONCE.SIGNATURE``; its CSRF token is another
HMAC of the whole value, sent back by forms (hidden field) and scripts (header).

>>> signer = SessionSigner(b"k" * 32, hours=1.0)
>>> value = signer.issue(7, now=1000.0)
>>> signer.user_id(value, now=1000.0), signer.user_id(value, now=1000.0 + 3601)
(7, None)
>>> signer.user_id(value[:-1] + "0", now=1000.0) is None
True
>>> signer.csrf_ok(value, signer.csrf(value)), signer.csrf_ok(value, "forged")
(True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

COOKIE = "castsight_session"
"""The session cookie's name."""


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

    def issue(self, user_id: int, *, now: float | None = None) -> str:
        """A new session value for ``user_id``."""
        expires = int((time.time() if now is None else now) + self.max_age_s)
        body = f"{user_id}.{expires}.{secrets.token_hex(8)}"
        return f"{body}.{self._sign('session', body)}"

    def user_id(self, value: str, *, now: float | None = None) -> int | None:
        """The user of a valid, unexpired session value; None otherwise."""
        body, _, signature = value.rpartition(".")
        if not body or not hmac.compare_digest(signature, self._sign("session", body)):
            return None
        user, expires, _nonce = [*body.split("."), "", ""][:3]
        if not (user.isdigit() and expires.isdigit()):
            return None
        if int(expires) <= (time.time() if now is None else now):
            return None
        return int(user)

    def csrf(self, value: str) -> str:
        """The CSRF token that goes with session ``value``."""
        return self._sign("csrf", value)

    def csrf_ok(self, value: str, token: str) -> bool:
        """Whether ``token`` is the CSRF token of session ``value``."""
        return hmac.compare_digest(token, self.csrf(value))


__all__ = ["COOKIE", "SessionSigner"]
