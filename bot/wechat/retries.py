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

from enum import StrEnum

from redis.asyncio import Redis

from flows.store.lua import LuaScript

RECORD_TTL = 600  # seconds; WeChat's retries come within ~15 s

# KEYS: record. Returns the previous value, or false when this call created the record ('p').
_BEGIN = LuaScript("""
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], 'p', 'EX', ARGV[1])
  return false
end
if v == 'p' then redis.call('SET', KEYS[1], 'x', 'KEEPTTL') end
return v
""")

# KEYS: record. ARGV: reply body. 1 when the passive reply may go out (no retry came meanwhile).
_CLAIM_PASSIVE = LuaScript("""
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


class RetryRecords:
    """The per-message records described in the module docstring."""

    def __init__(self, redis: Redis, ttl: int = RECORD_TTL) -> None:
        self._redis = redis
        self._ttl = ttl

    async def begin(self, key: str) -> tuple[Seen, bytes | None]:
        """Register a delivery of the message `key`; the stored reply when it was answered passively."""
        previous = await _BEGIN(self._redis, [key], [self._ttl])
        if previous is None:
            return Seen.NEW, None
        raw = previous if isinstance(previous, bytes) else str(previous).encode()
        if raw.startswith(b"r"):
            return Seen.REPLIED, raw[1:]
        return Seen.BUSY, None

    async def claim_passive(self, key: str, body: bytes) -> bool:
        """True: answer this delivery with `body`. False: send it as a customer-service message."""
        return bool(await _CLAIM_PASSIVE(self._redis, [key], [body]))

    async def hand_over(self, key: str) -> None:
        """The reply will go out as a customer-service message; retries get "success"."""
        await self._redis.set(key, "c", keepttl=True)

    async def forget(self, key: str) -> None:
        """Drop the record (the answer failed): a retry is then treated as a first delivery."""
        await self._redis.delete(key)
