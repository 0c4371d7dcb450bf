"""The Lua scripts that make every state change of a conversation one atomic round trip.

All three scripts take the same KEYS, all in the conversation's hash slot:
KEYS = st, in, ip, ls, rm (see flows.store.keys).

Replies start with a status code; the rest depends on it:
  submit   {0} duplicate | {1} queued (someone else drains) | {2, v, d, next_id, next_payload}
  acquire  {0} inbox empty | {1} lease held elsewhere | {2, v, d, next_id, next_payload}
  commit   {-1} lease lost | {-2, v} version moved | {0, v} done, lease released
           | {1, v, next_id, next_payload} done, lease renewed, here is the next update
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import NoScriptError

# Shared Lua: the first waiting update with its payload, or nothing.
_NEXT = """
local function next_item()
  local first = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if not first then return nil end
  return first, (redis.call('HGET', KEYS[3], first) or false)
end
"""

SUBMIT = (
    _NEXT
    + """
-- ARGV: update id, numeric order ('' if the id is not numeric), payload, lease token,
--       lease ms, ttl ms
local uid = ARGV[1]
local recent = redis.call('HGET', KEYS[1], 'u')
if recent then
  for id in string.gmatch(recent, '%S+') do
    if id == uid then return {0} end
  end
end
if redis.call('HEXISTS', KEYS[3], uid) == 1 then return {0} end
local order = tonumber(ARGV[2])
if not order then
  local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
  order = (tonumber(last[2]) or 0) + 1
end
redis.call('ZADD', KEYS[2], order, uid)
redis.call('HSET', KEYS[3], uid, ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('PEXPIRE', KEYS[3], ARGV[6])
if not redis.call('SET', KEYS[4], ARGV[4], 'NX', 'PX', ARGV[5]) then return {1} end
local rec = redis.call('HMGET', KEYS[1], 'v', 'd')
local nid, npayload = next_item()
return {2, tonumber(rec[1]) or 0, rec[2] or false, nid, npayload}
"""
)

ACQUIRE = (
    _NEXT
    + """
-- ARGV: lease token, lease ms
local nid, npayload = next_item()
if not nid then return {0} end
if not redis.call('SET', KEYS[4], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1} end
local rec = redis.call('HMGET', KEYS[1], 'v', 'd')
return {2, tonumber(rec[1]) or 0, rec[2] or false, nid, npayload}
"""
)

COMMIT = (
    _NEXT
    + """
-- ARGV: lease token, expected version, update id, mode (w write | k keep | x forget),
--       state JSON, ttl ms, lease ms, how many recent ids to keep, tombstone ttl ms
if redis.call('GET', KEYS[4]) ~= ARGV[1] then return {-1} end
local rec = redis.call('HMGET', KEYS[1], 'v', 'u')
local v = tonumber(rec[1]) or 0
if v ~= tonumber(ARGV[2]) then return {-2, v} end
local uid = ARGV[3]
local ids = {}
if rec[2] then
  for id in string.gmatch(rec[2], '%S+') do ids[#ids + 1] = id end
end
ids[#ids + 1] = uid
local keep = tonumber(ARGV[8])
while #ids > keep do table.remove(ids, 1) end
v = v + 1
local ttl = tonumber(ARGV[6])
local mode = ARGV[4]
if mode == 'w' then
  redis.call('HSET', KEYS[1], 'd', ARGV[5], 'v', v, 'u', table.concat(ids, ' '))
else
  if mode == 'x' then
    -- forget the conversation; keep version and seen ids a short while so a
    -- redelivered update is still recognised
    redis.call('HDEL', KEYS[1], 'd')
    ttl = tonumber(ARGV[9])
  end
  redis.call('HSET', KEYS[1], 'v', v, 'u', table.concat(ids, ' '))
end
redis.call('PEXPIRE', KEYS[1], ttl)
-- reminders may be due later than the conversation's TTL: only ever extend them
local rttl = redis.call('PTTL', KEYS[5])
if rttl >= 0 and rttl < ttl then redis.call('PEXPIRE', KEYS[5], ttl) end
redis.call('ZREM', KEYS[2], uid)
redis.call('HDEL', KEYS[3], uid)
local nid, npayload = next_item()
if nid then
  redis.call('PEXPIRE', KEYS[4], ARGV[7])
  return {1, v, nid, npayload}
end
redis.call('DEL', KEYS[4])
return {0, v}
"""
)

# Global-key helper (one key, so Cluster-safe): drop a pending hint unless it was re-set.
CLEAR_HINT = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) <= tonumber(ARGV[2]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 1
end
return 0
"""


@dataclass(frozen=True, slots=True)
class LuaScript:
    """A script run by EVALSHA, loading it only when the server answers NOSCRIPT.

    redis-py's own Script checks SCRIPT EXISTS before every pipeline; that would cost
    an extra round trip per turn, so this class loads lazily instead.
    """

    source: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.source.encode()).hexdigest())

    async def __call__(self, client: Redis, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """Run the script; one round trip unless the server has not seen it yet."""
        try:
            return await client.evalsha(self.sha, len(keys), *keys, *args)  # type: ignore[misc]
        except NoScriptError:
            await client.script_load(self.source)
            return await client.evalsha(self.sha, len(keys), *keys, *args)  # type: ignore[misc]

    def queue(self, pipe: Pipeline, keys: Sequence[str], args: Sequence[Any]) -> None:
        """Add an EVALSHA to `pipe`; on NoScriptError call `load` and run the pipeline again."""
        pipe.evalsha(self.sha, len(keys), *keys, *args)

    async def load(self, client: Redis) -> None:
        """Send the script to the server (after a NOSCRIPT reply, or ahead of time)."""
        await client.script_load(self.source)


SUBMIT_SCRIPT = LuaScript(SUBMIT)
ACQUIRE_SCRIPT = LuaScript(ACQUIRE)
COMMIT_SCRIPT = LuaScript(COMMIT)
CLEAR_HINT_SCRIPT = LuaScript(CLEAR_HINT)
