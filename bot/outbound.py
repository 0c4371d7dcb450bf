"""Outbound rate limits shared by every worker process through Redis.

Telegram allows about 30 messages per second in total, about 1 per second in one
chat (short bursts are tolerated) and 20 per minute in one group. Each send first
*reserves* a slot with a Lua script (GCRA per chat plus a sliding window for groups,
then a GCRA over all chats) and sleeps until that slot; there is no polling. Time is
Redis server time, so all workers agree. A 429 with `retry_after` stores the chat's
"not before" time in Redis (other workers respect it too) and the message is sent
again at its next slot.

Keys of one chat share a hash tag (`{tg:<bot>:<chat>}`) and the global bucket has its
own. On one Redis server a send's chat and global reservations are one script (one
round trip); on a Redis Cluster they are two, each within one slot.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.metrics import OUTBOUND_429, OUTBOUND_WAIT_SECONDS, OUTBOUND_WAITS
from flows.store.client import RedisClient, is_cluster

log = logging.getLogger(__name__)
T = TypeVar("T")

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
"""

# The chat's next slot in ms: per-chat GCRA, group window, 429 "not before".
_CHAT_FN = """
local function chat_slot(rate, win, interval, burst, window, wmax, member)
  local h = redis.call('HMGET', rate, 'tat', 'nb', 'last')
  local tat = tonumber(h[1]) or 0
  local nb = tonumber(h[2]) or 0
  local last = tonumber(h[3]) or 0
  local slot = math.max(now, nb, last, tat - (burst - 1) * interval)
  if h[3] then
    slot = math.max(slot, last + 1)  -- strictly after the chat's previous send: keeps order
  end
  if wmax > 0 then
    redis.call('ZREMRANGEBYSCORE', win, '-inf', now - window)
    local n = redis.call('ZCARD', win)
    if n >= wmax then
      local e = redis.call('ZRANGE', win, n - wmax, n - wmax, 'WITHSCORES')
      slot = math.max(slot, tonumber(e[2]) + window)
    end
    redis.call('ZADD', win, slot, member)
    redis.call('PEXPIRE', win, math.ceil(slot - now + window + 1000))
  end
  tat = math.max(tat, slot) + interval
  redis.call('HSET', rate, 'tat', tat, 'last', slot)
  redis.call('PEXPIRE', rate, math.ceil(math.max(tat, nb) - now + 60000))
  return slot
end
"""

# The all-chats bucket's next slot in ms, no earlier than `at`.
_GLOBAL_FN = """
local function global_slot(rate, interval, burst, at)
  local tat = tonumber(redis.call('HGET', rate, 'tat')) or 0
  local slot = math.max(now, at, tat - (burst - 1) * interval)
  redis.call('HSET', rate, 'tat', math.max(tat, slot) + interval)
  redis.call('PEXPIRE', rate, math.ceil(math.max(tat, slot) + interval - now + 60000))
  return slot
end
"""

# KEYS: rate hash, window zset. ARGV: interval ms, burst, window ms, window max, member.
# Returns {delay in microseconds, slot in ms as string}.
_CHAT_LUA = _NOW + _CHAT_FN + """
local slot = chat_slot(KEYS[1], KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]),
                       tonumber(ARGV[4]), ARGV[5])
return {math.ceil((slot - now) * 1000), tostring(slot)}
"""

# KEYS: global rate hash. ARGV: interval ms, burst, earliest slot ms. Returns delay in microseconds.
_GLOBAL_LUA = _NOW + _GLOBAL_FN + """
return math.ceil((global_slot(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])) - now) * 1000)
"""

# Both in one round trip (one server only: the keys lie in two hash slots).
# KEYS: chat rate hash, chat window zset, global rate hash. ARGV: _CHAT_LUA's five, then
# the global interval ms and burst. Returns the delay in microseconds.
_BOTH_LUA = _NOW + _CHAT_FN + _GLOBAL_FN + """
local slot = chat_slot(KEYS[1], KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]),
                       tonumber(ARGV[4]), ARGV[5])
return math.ceil((global_slot(KEYS[3], tonumber(ARGV[6]), tonumber(ARGV[7]), slot) - now) * 1000)
"""

# KEYS: rate hash. ARGV: retry_after ms. Moves the chat's "not before" time forward.
_PENALTY_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local nb = math.max(tonumber(redis.call('HGET', KEYS[1], 'nb')) or 0, now + tonumber(ARGV[1]))
redis.call('HSET', KEYS[1], 'nb', nb)
local ttl = redis.call('PTTL', KEYS[1])
redis.call('PEXPIRE', KEYS[1], math.max(ttl, math.ceil(nb - now + 60000)))
return tostring(nb)
"""


class RetryLater(Exception):
    """The platform said "too many requests": try this chat again in `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class OutboundLimits:
    """Telegram's documented limits; tests may loosen them to run fast."""

    global_per_second: float = 30.0
    global_burst: int = 30
    chat_per_second: float = 1.0
    chat_burst: int = 3
    group_per_minute: int = 20
    max_attempts: int = 5


@dataclass(frozen=True, slots=True)
class Slot:
    """A reserved send time: `delay` seconds from now."""

    delay: float
    at_ms: float


class OutboundLimiter:
    """Reserve send slots in Redis and run sends at their slot."""

    def __init__(self, redis: RedisClient, limits: OutboundLimits, bot_id: str, *, prefix: str = "ob") -> None:
        self._redis = redis
        self._prefix = prefix
        self._limits = limits
        self._bot = bot_id
        self._chat_script = redis.register_script(_CHAT_LUA)
        self._global_script = redis.register_script(_GLOBAL_LUA)
        # One script for both reservations saves a round trip per message (about a third
        # of the limiter's Redis CPU); a Cluster keeps them apart, in their own slots.
        self._both_script = None if is_cluster(redis) else redis.register_script(_BOTH_LUA)
        self._penalty_script = redis.register_script(_PENALTY_LUA)

    def chat_keys(self, chat_id: str) -> tuple[str, str]:
        """The rate hash and the group window of one chat (same hash tag)."""
        tag = f"{{tg:{self._bot}:{chat_id}}}"
        return f"{self._prefix}:{tag}:rate", f"{self._prefix}:{tag}:win"

    @property
    def global_key(self) -> str:
        return f"{self._prefix}:{{tg:{self._bot}:all}}:rate"

    def _chat_args(self, group: bool) -> list[float | int | str]:
        lim = self._limits
        window_max = lim.group_per_minute if group else 0
        return [1000.0 / lim.chat_per_second, lim.chat_burst, 60000, window_max, uuid.uuid4().hex]

    def _global_args(self) -> list[float | int]:
        return [1000.0 / self._limits.global_per_second, self._limits.global_burst]

    async def reserve_chat(self, chat_id: str, group: bool) -> Slot:
        """Reserve the chat's next slot (per-chat GCRA, group window, 429 "not before")."""
        delay_us, slot = await self._chat_script(keys=list(self.chat_keys(chat_id)), args=self._chat_args(group))
        return Slot(max(0.0, int(delay_us) / 1e6), float(slot))

    async def reserve_global(self, at_ms: float = 0.0) -> float:
        """Reserve a slot in the all-chats bucket no earlier than `at_ms`; returns the delay in seconds."""
        delay_us = await self._global_script(keys=[self.global_key], args=[*self._global_args(), at_ms])
        return max(0.0, int(delay_us) / 1e6)

    async def penalize(self, chat_id: str, retry_after: float) -> None:
        """Remember in Redis that the chat must not get messages for `retry_after` seconds."""
        await self._penalty_script(keys=[self.chat_keys(chat_id)[0]], args=[retry_after * 1000.0])

    async def reserve(self, chat_id: str, group: bool, *, per_chat: bool = True) -> float:
        """Reserve the next send slot for the chat; returns seconds to wait.

        `per_chat=False` (e.g. editing a pressed keyboard) uses only the global bucket,
        but still respects the chat's "not before" time after a 429.
        """
        if per_chat and self._both_script is not None:
            delay_us = await self._both_script(keys=[*self.chat_keys(chat_id), self.global_key],
                                               args=[*self._chat_args(group), *self._global_args()])
            return max(0.0, int(delay_us) / 1e6)
        if per_chat:
            slot = await self.reserve_chat(chat_id, group)
            return await self.reserve_global(slot.at_ms)
        return max(await self._not_before(chat_id), await self.reserve_global())

    async def send_at(self, delay: float, chat_id: str, group: bool, call: Callable[[], Awaitable[T]], *,
                      per_chat: bool = True) -> T:
        """Sleep until the reserved slot and run `call`; after a 429, reserve anew and send again."""
        attempt = 0
        while True:
            attempt += 1
            if delay > 0:
                OUTBOUND_WAITS.inc()
                OUTBOUND_WAIT_SECONDS.observe(delay)
                await asyncio.sleep(delay)
            try:
                return await call()
            except RetryLater as exc:
                OUTBOUND_429.inc()
                log.warning("429 for chat %s: retry after %ss (attempt %d)",
                            chat_id, exc.retry_after, attempt)
                await self.penalize(chat_id, exc.retry_after)
                if attempt >= self._limits.max_attempts:
                    raise
            delay = await self.reserve(chat_id, group, per_chat=per_chat)

    async def send(self, chat_id: str, group: bool, call: Callable[[], Awaitable[T]], *,
                   per_chat: bool = True) -> T:
        """Run `call` at the chat's next free slot (see `reserve` and `send_at`)."""
        delay = await self.reserve(chat_id, group, per_chat=per_chat)
        return await self.send_at(delay, chat_id, group, call, per_chat=per_chat)

    async def _not_before(self, chat_id: str) -> float:
        """Seconds until the chat's stored "not before" time (0 when none)."""
        raw = await self._redis.hget(self.chat_keys(chat_id)[0], "nb")
        if raw is None:
            return 0.0
        now_s, now_us = await self._redis.time()
        return max(0.0, float(raw) / 1000.0 - (now_s + now_us / 1e6))
