"""Referral counts: how many people each community service account brought, each person once.

A deep link names its source (flows.deeplink). Opening the same link again, or
pressing /start with it three times, must not count three: the count of a source is
the number of distinct people (platform, bot and user id) who started from it.

Keys (the prefix is the store's):

    <prefix>:{ref:<source>}:people  SET   people who came from <source>
    <prefix>:referrals              HASH  source -> count of its people (what reports read)

The person is added to the source's set first and the count raised only when the
person is new. The two keys live in different hash slots (Redis Cluster forbids one
script over both), so a worker dying between the two writes under-counts that one
person; `recount()` rebuilds the HASH from the sets.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from flows.store import KeySpace

_PLAIN_SOURCE = re.compile(r"^[A-Za-z0-9_]{1,64}$")


def person_of(conversation_id: str) -> str:
    """The person behind a conversation id ("platform:bot:chat:thread:user" -> "platform:bot:user")."""
    parts = conversation_id.split(":")
    return f"{parts[0]}:{parts[1]}:{parts[-1]}" if len(parts) >= 3 else conversation_id


class Referrals:
    """Count people per referral source in Redis."""

    def __init__(self, redis: Any, keys: KeySpace) -> None:
        self.redis = redis
        self.keys = keys

    def people_key(self, source: str) -> str:
        # A source is usually [A-Za-z0-9_]; anything else (decoded base32 text) is hashed so
        # it cannot break the hash tag.
        tag = source if _PLAIN_SOURCE.match(source) else hashlib.sha256(source.encode()).hexdigest()[:32]
        return f"{self.keys.prefix}:{{ref:{tag}}}:people"

    async def count(self, source: str, person: str) -> bool:
        """Count `person` for `source` unless already counted; True when this was the first time."""
        added = await self.redis.sadd(self.people_key(source), person)
        if not added:
            return False
        await self.redis.hincrby(self.keys.referrals, source, 1)
        return True

    async def counts(self) -> dict[str, int]:
        """Source -> number of people."""
        raw = await self.redis.hgetall(self.keys.referrals)
        return {k.decode(): int(v) for k, v in raw.items()}

    async def recount(self) -> dict[str, int]:
        """Rebuild the HASH from the sets (after a crash between the two writes); returns it."""
        fixed: dict[str, int] = {}
        for source in await self.counts():
            fixed[source] = int(await self.redis.scard(self.people_key(source)))
            await self.redis.hset(self.keys.referrals, source, fixed[source])
        return fixed
