"""Per-session message rate, counted in Redis so every worker sees the same count.

A fixed window per session (`...:{cid}:wr`): the first message of a window starts it,
and past `limit` messages the rest of the window is refused with the time left.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

_COUNT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); left = tonumber(ARGV[1]) end
return {n, left}
"""


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most `limit` messages per `window_ms` per session."""

    limit: int = 12
    window_ms: int = 10_000


class RateLimiter:
    """Counts one session's messages; `hit` says how long to wait (0: go ahead)."""

    def __init__(self, redis: Redis, rate: RateLimit) -> None:
        self.rate = rate
        self._count = redis.register_script(_COUNT)

    async def hit(self, key: str) -> float:
        """Count one message under `key`; seconds until the window ends if over the limit, else 0."""
        n, left = await self._count(keys=[key], args=[self.rate.window_ms])
        return 0.0 if int(n) <= self.rate.limit else max(int(left), 1) / 1000
