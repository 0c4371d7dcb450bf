"""Recognising WeChat's retries of a pushed message, and deciding who delivers its reply.

WeChat drops a push it has no answer to within 5 seconds and sends it again, up to
three times (接收普通消息: "微信服务器在五秒内收不到响应会断掉连接，并且重新发起请求，总共重试三次";
de-duplicate by MsgId, events by FromUserName + CreateTime). Each message gets one record in
Redis, in its conversation's hash slot, with an expiry well past the retries:

    p        the first delivery is being answered
    x        a retry came while it was: WeChat has given up on the first connection,
             so a passive reply on it would be lost; the reply goes out as a
             customer-service message instead
    c        handed over to a customer-service message (slow turn, or another worker drains)
    r<body>  answered passively with <body> (the plain reply XML); a later retry means WeChat
             never got that answer, so the retry is answered with the same body

The dialog sees each message once either way (the conversation store also refuses a
repeated update id); these records only decide how the one reply reaches the user.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

from redis.asyncio import Redis

from flows.store.lua import LuaScript

RECORD_TTL = 600  # seconds; WeChat's retries come within ~15 s

# KEYS: record, window, choices. ARGV: record ttl, now (s), window ttl.
# A first delivery creates the record ('p') and opens the user's 48-hour window. Returns
# {previous record or false, the choices last offered or false}.
_ARRIVE = LuaScript("""
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], 'p', 'EX', ARGV[1])
  redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
  return {false, redis.call('GET', KEYS[3])}
end
if v == 'p' then redis.call('SET', KEYS[1], 'x', 'KEEPTTL') end
return {v, false}
""")

# KEYS: record, choices. ARGV: reply body, choices ('' for none), choices ttl.
# Remembers the choices the reply offers; 1 when the passive reply may go out (no retry came
# meanwhile), else 0 and the reply goes as a customer-service message.
_FINISH = LuaScript("""
if ARGV[2] == '' then redis.call('DEL', KEYS[2]) else redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3]) end
if redis.call('GET', KEYS[1]) == 'p' then
  redis.call('SET', KEYS[1], 'r' .. ARGV[1], 'KEEPTTL')
  return 1
end
return 0
""")


class Seen(StrEnum):
    NEW = "new"  # first delivery: answer it
    BUSY = "busy"  # being answered, or handed to a customer-service message: answer "success"
    REPLIED = "replied"  # answered passively before: send the same reply again


@dataclass(frozen=True, slots=True)
class Arrival:
    seen: Seen
    reply: bytes | None = None  # REPLIED: the passive reply sent before
    choices: bytes | None = None  # NEW: the choices last offered (encoded by the outbox)


@dataclass(frozen=True, slots=True)
class PushKeys:
    """The keys one push touches, all in its conversation's hash slot."""

    record: str
    window: str
    choices: str


class RetryRecords:
    """The per-message records described in the module docstring (one round trip each way)."""

    def __init__(self, redis: Redis, ttl: int = RECORD_TTL) -> None:
        self._redis = redis
        self._ttl = ttl

    async def arrive(self, keys: PushKeys, window_seconds: int) -> Arrival:
        """Register a delivery; a first one also opens the user's window and reads their choices."""
        previous, choices = await _ARRIVE(self._redis, [keys.record, keys.window, keys.choices],
                                          [self._ttl, int(time.time()), window_seconds])
        if previous is None:
            return Arrival(Seen.NEW, choices=choices)
        raw = previous if isinstance(previous, bytes) else str(previous).encode()
        if raw.startswith(b"r"):
            return Arrival(Seen.REPLIED, reply=raw[1:])
        return Arrival(Seen.BUSY)

    async def finish(self, keys: PushKeys, body: bytes, choices: bytes, choices_ttl: int) -> bool:
        """Store the offered choices; True: answer this delivery with `body`, False: send it otherwise."""
        return bool(await _FINISH(self._redis, [keys.record, keys.choices], [body, choices, choices_ttl]))

    async def hand_over(self, keys: PushKeys) -> None:
        """The reply will go out as a customer-service message; retries get "success"."""
        await self._redis.set(keys.record, "c", keepttl=True)

    async def forget(self, keys: PushKeys) -> None:
        """Drop the record (the answer failed): a retry is then treated as a first delivery."""
        await self._redis.delete(keys.record)
