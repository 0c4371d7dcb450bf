"""The Lua scripts that make every state change of a conversation one atomic round trip.

KEYS = st, in, ip, ls[, rm] (see flows.store.keys), all in the conversation's hash slot,
and for `submit` and `commit` optionally a last key, the global pending-hint ZSET:
submit adds the conversation, the commit that empties the inbox removes it. Only on a
single Redis server, where a script may touch any key; under Cluster the store writes
the hint with a separate command and `recover` removes it. The record format is in
flows.store.record.

The store's tunables (TTL, lease, ...) are compiled into the scripts as constants
(`build_scripts`), which keeps the per-call arguments - and their encoding cost on the
hot path - to the few values that change per call.

Replies start with a status code; the rest depends on it:
  submit   {0} duplicate | {1} queued (someone else drains)
           | {2, v, body, next_id[, next_payload]}  (payload left out when it is the caller's)
  acquire  {0} inbox empty | {1} lease held elsewhere | {2, v, body, next_id, next_payload}
  commit   {-1} lease lost | {-2, v} version moved | {0, v} done, lease released
           | {1, v, next_id, next_payload} done, lease renewed, here is the next update
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from flows.store.wire import evalsha

# Shared Lua: read the record (version, seen ids, body) and the first waiting update.
_COMMON = """
local function read_record()
  local rec = redis.call('GET', KEYS[1])
  if not rec then return 0, '', '' end
  local nl = string.find(rec, '\\n', 1, true)
  if not nl then return 0, '', '' end
  local v, ids = string.match(string.sub(rec, 1, nl - 1), '^(%d+) ?(.*)$')
  return tonumber(v) or 0, ids or '', string.sub(rec, nl + 1)
end
local function next_item()
  local first = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if not first then return nil end
  return first, (redis.call('HGET', KEYS[3], first) or false)
end
"""

_SUBMIT = """
-- ARGV: update id, payload, lease token[, now ms, conversation id (with the hint key)]
local uid = ARGV[1]
local v, ids, body = read_record()
for id in string.gmatch(ids, '%S+') do
  if id == uid then return {0} end
end
if redis.call('HEXISTS', KEYS[3], uid) == 1 then return {0} end
-- numeric ids (Telegram's) sort numerically; up to 15 digits are exact in a double
local order = #uid <= 15 and string.match(uid, '^%d+$') and tonumber(uid)
if not order then
  local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
  order = (tonumber(last[2]) or 0) + 1
end
redis.call('ZADD', KEYS[2], order, uid)
redis.call('HSET', KEYS[3], uid, ARGV[2])
redis.call('PEXPIRE', KEYS[2], TTL_MS)
redis.call('PEXPIRE', KEYS[3], TTL_MS)
if KEYS[5] then
  local now = tonumber(ARGV[4])
  redis.call('ZADD', KEYS[5], now, ARGV[5])
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - HINT_MS)
end
if not redis.call('SET', KEYS[4], ARGV[3], 'NX', 'PX', LEASE_MS) then return {1} end
local nid, npayload = next_item()
if nid == uid then return {2, v, body, nid} end
return {2, v, body, nid, npayload}
"""

_ACQUIRE = """
-- ARGV: lease token
if redis.call('EXISTS', KEYS[2]) == 0 then return {0} end
if not redis.call('SET', KEYS[4], ARGV[1], 'NX', 'PX', LEASE_MS) then return {1} end
local v, _, body = read_record()
local nid, npayload = next_item()
return {2, v, body, nid, npayload}
"""

_COMMIT = """
-- ARGV: lease token, expected version, update id, mode and body: 'w'..state | 'k' | 'x'
--       [, conversation id (with the hint key as KEYS[6])]
if redis.call('GET', KEYS[4]) ~= ARGV[1] then return {-1} end
local v, ids, body = read_record()
if v ~= tonumber(ARGV[2]) then return {-2, v} end
local uid = ARGV[3]
local seen = {}
for id in string.gmatch(ids, '%S+') do seen[#seen + 1] = id end
seen[#seen + 1] = uid
while #seen > KEEP_IDS do table.remove(seen, 1) end
v = v + 1
local ttl = TTL_MS
local mode = string.sub(ARGV[4], 1, 1)
if mode == 'w' then
  body = string.sub(ARGV[4], 2)
elseif mode == 'x' then
  -- forget the conversation; keep version and seen ids a short while
  body = ''
  ttl = TOMBSTONE_MS
end
redis.call('SET', KEYS[1], v .. ' ' .. table.concat(seen, ' ') .. '\\n' .. body, 'PX', ttl)
-- reminders may be due later than the conversation's TTL: only ever extend them
local rttl = redis.call('PTTL', KEYS[5])
if rttl >= 0 and rttl < ttl then redis.call('PEXPIRE', KEYS[5], ttl) end
redis.call('ZREM', KEYS[2], uid)
redis.call('HDEL', KEYS[3], uid)
local nid, npayload = next_item()
if nid then
  redis.call('PEXPIRE', KEYS[4], LEASE_MS)
  return {1, v, nid, npayload}
end
redis.call('DEL', KEYS[4])
-- nothing waits any more: drop the pending hint (single server only, see above)
if KEYS[6] then redis.call('ZREM', KEYS[6], ARGV[5]) end
return {0, v}
"""

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

    Like redis-py's Script, but usable with any client and free of its pipeline
    behaviour (a SCRIPT EXISTS round trip before every pipeline).
    """

    source: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.source.encode()).hexdigest())

    async def __call__(self, client: Redis, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """Run the script; one round trip unless the server has not seen it yet."""
        try:
            return await evalsha(client, self.sha, keys, args)
        except NoScriptError:
            await client.script_load(self.source)
            return await evalsha(client, self.sha, keys, args)

    async def load(self, client: Redis) -> None:
        """Send the script to the server (after a NOSCRIPT reply, or ahead of time)."""
        await client.script_load(self.source)


CLEAR_HINT_SCRIPT = LuaScript(CLEAR_HINT)


@dataclass(frozen=True, slots=True)
class Scripts:
    """The per-conversation scripts compiled for one set of store tunables."""

    submit: LuaScript
    acquire: LuaScript
    commit: LuaScript


def build_scripts(*, ttl_ms: int, lease_ms: int, keep_ids: int, tombstone_ms: int, hint_ms: int) -> Scripts:
    """Compile the scripts with the tunables as Lua constants (all must be positive integers)."""
    values = {
        "TTL_MS": ttl_ms,
        "LEASE_MS": lease_ms,
        "KEEP_IDS": keep_ids,
        "TOMBSTONE_MS": tombstone_ms,
        "HINT_MS": hint_ms,
    }
    for name, value in values.items():
        if not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} must be a positive integer, not {value!r}")
    header = "".join(f"local {name} = {value}\n" for name, value in values.items())
    return Scripts(
        submit=LuaScript(header + _COMMON + _SUBMIT),
        acquire=LuaScript(header + _COMMON + _ACQUIRE),
        commit=LuaScript(header + _COMMON + _COMMIT),
    )
