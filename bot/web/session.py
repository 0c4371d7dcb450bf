"""Signed session cookies: a random session id plus an HMAC, so nobody can forge or guess one.

The cookie holds only `<id>.<mac>`; the conversation itself lives in Redis under the
id. A missing, malformed or tampered cookie starts a new session (another visitor
cannot read or continue someone else's). The signing key comes from WEB_SESSION_KEY,
else one random key is created once in Redis and shared by every worker (a key kept in
one process's memory would log users out whenever their request reached another one).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from redis.asyncio import Redis

COOKIE_NAME = "yb_session"
_ID_BYTES = 18  # 144 random bits, 24 base64url characters
_MAC_BYTES = 16
_ID = re.compile(r"^[A-Za-z0-9_-]{24}$")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True, slots=True)
class SessionSigner:
    """Issues and checks session cookie values."""

    key: bytes

    def new_id(self) -> str:
        """A fresh, unguessable session id."""
        return _b64(secrets.token_bytes(_ID_BYTES))

    def sign(self, session_id: str) -> str:
        """The cookie value for `session_id`."""
        return f"{session_id}.{self._mac(session_id)}"

    def verify(self, value: str | None) -> str | None:
        """The session id in a cookie value, or None when it is absent or not ours."""
        if not value or len(value) > 128:
            return None
        session_id, dot, mac = value.partition(".")
        if not dot or not _ID.match(session_id):
            return None
        if not hmac.compare_digest(mac.encode(), self._mac(session_id).encode()):
            return None
        return session_id

    def _mac(self, session_id: str) -> str:
        digest = hmac.new(self.key, b"web-session:" + session_id.encode(), hashlib.sha256).digest()
        return _b64(digest[:_MAC_BYTES])


async def load_signing_key(redis: Redis, key_name: str, configured: str | None) -> bytes:
    """The configured key, else the one shared through Redis (created on first use)."""
    if configured:
        return configured.encode()
    await redis.set(key_name, secrets.token_hex(32), nx=True)
    stored = await redis.get(key_name)
    if stored is None:  # evicted between the two calls: try once more
        await redis.set(key_name, secrets.token_hex(32), nx=True)
        stored = await redis.get(key_name)
    return bytes(stored)
