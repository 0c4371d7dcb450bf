"""Freshness of WeChat's signed requests: a recorded request cannot be replayed later.

WeChat signs `timestamp` and `nonce` (with the account's token) into every request's
query, the GET verification and the POST push alike (接入指南,
https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html).
The signature alone would accept a recorded query forever, so two more checks:

* the timestamp must lie within MAX_SKEW_SECONDS of now (`fresh`);
* within that window one signed query serves one request (`SignedOnce`): the first use
  binds it in Redis to what it carried (the verification, or the pushed message's
  sender and MsgId / CreateTime + event). The same message again under the same query
  passes: it may be WeChat retrying on the same query, and the retry records
  (bot.wechat.retries) answer it once either way. Anything else under a used query is
  refused. This matters most in plain mode, where the body is not signed at all: a
  recorded query would otherwise carry any message from any openid for five minutes.
  A verification is never repeated by WeChat (the admin's next click is signed anew),
  so a verification query used before is refused outright.

The keys carry no hash tag (they spread over a Cluster) and expire when their query's
timestamp leaves the window: at most 2 * MAX_SKEW_SECONDS + 1 seconds.
"""

from __future__ import annotations

from enum import IntEnum

from redis.asyncio import Redis

from flows.store.lua import LuaScript

# WeChat retries an unanswered push 3 times within about 15 s, each within seconds of the
# first, and our clock may be off from WeChat's by a minute or two (NTP aside): 5 minutes
# tolerates both with room, and bounds how long a recorded request could be replayed.
MAX_SKEW_SECONDS = 300
VERIFY = "verify"  # what a GET verification binds its query to

# KEYS: the query's key. ARGV: what this request carries, ttl (s). 0 first use, 1 same, 2 other.
_CLAIM = LuaScript("""
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 0
end
if v == ARGV[1] then return 1 end
return 2
""")


class Use(IntEnum):
    FIRST = 0  # the query's first use
    SAME = 1  # used before for the same thing (a retry, or a replay the retry records absorb)
    OTHER = 2  # used before for something else: refused


def stamp(timestamp: str) -> int | None:
    """The signed `timestamp` as Unix seconds, or None when it is not a plain decimal number."""
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return None  # signed, but not a number: not a request WeChat sent
    return int(timestamp)


def fresh(timestamp: str, now: float) -> bool:
    """Whether a signed `timestamp` (Unix seconds) is within MAX_SKEW_SECONDS of `now`."""
    at = stamp(timestamp)
    return at is not None and abs(now - at) <= MAX_SKEW_SECONDS


class SignedOnce:
    """Binds each signed query to the one request it served (module docstring); one round trip."""

    def __init__(self, redis: Redis, prefix: str, app_id: str) -> None:
        self._redis = redis
        self._prefix = f"{prefix}:wxq:{app_id}:"

    async def use(self, signature: str, timestamp: str, carries: str, now: float) -> Use:
        """Record that the query signed `signature` (already checked, and `fresh`) carries `carries`."""
        at = stamp(timestamp) or int(now)
        ttl = max(1, int(at + MAX_SKEW_SECONDS - now) + 1)  # until the timestamp is stale anyway
        found = await _CLAIM(self._redis, [self._prefix + signature.lower()], [carries, ttl])
        return Use(int(found))
