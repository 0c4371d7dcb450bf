"""The Lua scripts that make every state change of a conversation one atomic round trip.

KEYS = st, in, ip, ls, fl (see flows.store.keys; `commit` adds rm, and a conversation
log's two keys when it writes one), all in the conversation's hash slot, and for
`submit` and `commit` optionally a last key, the global pending-hint ZSET: submit adds
the conversation, the commit that empties the inbox removes it. Only on a single Redis
server, where a script may touch any key; under Cluster the store writes the hint with
a separate command and `recover` removes it. The record format is in flows.store.record.

Which update ids count as already applied (`seen` below): every id listed in the
record's header, and every decimal id at or below its floor. Decimal ids are a
platform's increasing update ids (Telegram's update_id). The listed ids form two
generations of SEEN_S seconds each: when a generation is older than that, its ids
retire - the largest decimal one becomes the floor, the others are dropped. So a
redelivery is refused at any distance, the header stays small (about the ids of the
last one to two minutes, at most KEEP_IDS, which the flood limit keeps well away
from), and an update that arrives for the first time after newer ones of the same
conversation is still applied, unless those newer ones were applied more than one to
two minutes before (the price of the bound). Non-decimal ids (web, WeChat) are
remembered for the same time only: their platforms redeliver within seconds.

The store's tunables (TTL, lease, ...) are compiled into the scripts as constants
(`build_scripts`), which keeps the per-call arguments to the few values that change.

Replies start with a status code; the rest depends on it:
  submit   {0} duplicate | {1, ms the lease has left} queued (someone else drains)
           | {3, ms the flood window has left} over the flood limit, send the notice | {4, ms left} dropped
           | {2, v, body, next_id[, next_payload]}  (payload left out when it is the caller's)
  acquire  {0} inbox empty | {1, ms the lease has left} lease held elsewhere | {2, v, body, next_id, next_payload}
  commit   {-1} lease taken by another drainer | {-2, v} version moved | {0, v[, log]} done, lease released
           | {1, v, next_id, next_payload[, log]} done, lease renewed, here is the next update
           (log: when a log was given, its entries after `since`; see flows.store.log)
  renew, release   1 when the caller held the lease, else 0
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import NoScriptError

# Shared Lua: read the record (version, floor, recent ids, body), seen ids, the first waiting update.
_COMMON = """
-- header: "<version> [~<floor>] [@<generation start, s>] <older ids> | <recent ids>"
local function read_record()
  local rec = redis.call('GET', KEYS[1])
  if not rec then return 0, '', '', '' end
  local nl = string.find(rec, '\\n', 1, true)
  if not nl then return 0, '', '', '' end
  local v, ids = string.match(string.sub(rec, 1, nl - 1), '^(%d+) ?(.*)$')
  local floor, rest = string.match(ids or '', '^~(%d+) ?(.*)$')
  if floor then ids = rest else floor = '' end
  return tonumber(v) or 0, floor, ids or '', string.sub(rec, nl + 1)
end
local function is_num(id) return string.match(id, '^[1-9]%d*$') ~= nil end
-- decimal strings of any length compared exactly (a double holds only 15 digits)
local function num_lt(a, b)
  if #a ~= #b then return #a < #b end
  return a < b
end
local function seen(uid, floor, ids)
  if floor ~= '' and is_num(uid) and not num_lt(floor, uid) then return true end
  for id in string.gmatch(ids, '%S+') do
    if id == uid then return true end
  end
  return false
end
-- the first waiting update and its payload; `known` is an id whose payload the caller has
local function next_item(known)
  local first = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if not first or first == known then return first end
  return first, (redis.call('HGET', KEYS[3], first) or false)
end
"""

# Lua: append ARGV[first + 3 ..] to a log, numbered on from its counter; empty the list
# first when ARGV[first + 2] is 'c' (numbers keep rising); keep the last ARGV[first];
# return the entries numbered above ARGV[first + 1] (none when it is negative). Those
# numbers are consecutive, so they are the list's last (counter - since), read as a
# range rather than a scan of the whole list (ten times the cost at 200 entries).
APPEND_LOG_LUA = """
local function append_log(list, counter, ttl, first)
  local keep, since = tonumber(ARGV[first]), tonumber(ARGV[first + 1])
  if ARGV[first + 2] == 'c' then redis.call('DEL', list) end
  local count = #ARGV - first - 2
  local n
  if count > 0 then
    n = redis.call('INCRBY', counter, count)
    local items = {}
    for i = 1, count do items[i] = (n - count + i) .. '\\t' .. ARGV[first + 2 + i] end
    redis.call('RPUSH', list, unpack(items))
    redis.call('LTRIM', list, -keep, -1)
  else
    n = tonumber(redis.call('GET', counter) or '0')
  end
  redis.call('PEXPIRE', list, ttl)
  redis.call('PEXPIRE', counter, ttl)
  if since < 0 or n <= since then return {} end
  return redis.call('LRANGE', list, since - n, -1)
end
"""

_SUBMIT = """
-- ARGV: update id, payload, lease token, 'p' for a command that jumps the queue (else '')
--       [, now ms, conversation id (with the hint key as KEYS[6])]
local uid = ARGV[1]
local v, floor, ids, body = read_record()
if seen(uid, floor, ids) then return {0} end
if redis.call('HEXISTS', KEYS[3], uid) == 1 then
  -- waiting: a redelivery. If its drainer is gone (lease expired), this caller takes over.
  if not redis.call('SET', KEYS[4], ARGV[3], 'NX', 'PX', LEASE_MS) then return {0} end
  local nid, npayload = next_item()
  return {2, v, body, nid, npayload}
end
local jump = ARGV[4] == 'p'
if FLOOD_MAX > 0 and not jump then
  local n = redis.call('INCR', KEYS[5])
  if n == 1 then redis.call('PEXPIRE', KEYS[5], FLOOD_MS) end
  if n > FLOOD_MAX then
    local left = redis.call('PTTL', KEYS[5])
    if n == FLOOD_MAX + 1 then return {3, left} end
    return {4, left}
  end
end
-- decimal ids (Telegram's) sort numerically; up to 15 digits are exact in a double
local order = #uid <= 15 and is_num(uid) and tonumber(uid)
if not order then
  local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
  order = (tonumber(last[2]) or 0) + 1
end
if jump then
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if first[2] then order = math.min(order, tonumber(first[2]) - 1) end
end
redis.call('ZADD', KEYS[2], order, uid)
redis.call('HSET', KEYS[3], uid, ARGV[2])
redis.call('PEXPIRE', KEYS[2], TTL_MS)
redis.call('PEXPIRE', KEYS[3], TTL_MS)
if KEYS[6] then redis.call('ZADD', KEYS[6], ARGV[5], ARGV[6]) end  -- trimmed by `recover`
if not redis.call('SET', KEYS[4], ARGV[3], 'NX', 'PX', LEASE_MS) then return {1, redis.call('PTTL', KEYS[4])} end
local nid, npayload = next_item(uid)
if nid == uid then return {2, v, body, nid} end
return {2, v, body, nid, npayload}
"""

_ACQUIRE = """
-- ARGV: lease token
if redis.call('EXISTS', KEYS[2]) == 0 then return {0} end
if not redis.call('SET', KEYS[4], ARGV[1], 'NX', 'PX', LEASE_MS) then return {1, redis.call('PTTL', KEYS[4])} end
local v, _, _, body = read_record()
local nid, npayload = next_item()
return {2, v, body, nid, npayload}
"""

_COMMIT = """
-- KEYS: st, in, ip, ls, fl, rm[, log list, log counter][, pending hint (last)]
-- ARGV: lease token, expected version, update id, mode and body: 'w'..state | 'k' | 'x',
--       now in seconds (the workers' clocks: generations are a minute long),
--       conversation id when the hint key is given (else '')
--       [, log: entries kept, since, 'c' to empty it first, entries... (see append_log)]
-- A lease that expired while its holder stalled (a slow first answer, a busy machine)
-- still counts if nobody took it since: the version check below sees any other commit.
local holder = redis.call('GET', KEYS[4])
if holder and holder ~= ARGV[1] then return {-1} end
local v, floor, ids, body = read_record()
if v ~= tonumber(ARGV[2]) then return {-2, v} end
local uid = ARGV[3]
local now = tonumber(ARGV[5])
local gen = tonumber(string.match(ids, '^@(%d+)')) or now
local older, recent = {}, {}
local list = older
for id in string.gmatch(ids, '%S+') do
  if id == '|' then list = recent elseif string.sub(id, 1, 1) ~= '@' then list[#list + 1] = id end
end
if list == older then older, recent = {}, older end  -- a header without generations
local function retire(ids)
  for _, id in ipairs(ids) do
    if is_num(id) and (floor == '' or num_lt(floor, id)) then floor = id end
  end
end
if now - gen >= 2 * SEEN_S then
  retire(older)
  retire(recent)
  older, recent, gen = {}, {}, now
elseif now - gen >= SEEN_S then
  retire(older)
  older, recent, gen = recent, {}, now
end
recent[#recent + 1] = uid
while #older + #recent > KEEP_IDS do
  -- over the hard bound: the smallest decimal id moves into the floor, else the oldest goes
  local from, drop = nil, nil
  for _, l in ipairs({older, recent}) do
    for i, id in ipairs(l) do
      if is_num(id) and (not drop or num_lt(id, from[drop])) then from, drop = l, i end
    end
  end
  if drop then
    retire({from[drop]})
    table.remove(from, drop)
  elseif #older > 0 then
    table.remove(older, 1)
  else
    table.remove(recent, 1)
  end
end
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
local header = {v}
if floor ~= '' then header[2] = '~' .. floor end
header[#header + 1] = '@' .. gen
for _, id in ipairs(older) do header[#header + 1] = id end
header[#header + 1] = '|'
for _, id in ipairs(recent) do header[#header + 1] = id end
redis.call('SET', KEYS[1], table.concat(header, ' ') .. '\\n' .. body, 'PX', ttl)
-- reminders may be due later than the conversation's TTL: only ever extend them
local rttl = redis.call('PTTL', KEYS[6])
if rttl >= 0 and rttl < ttl then redis.call('PEXPIRE', KEYS[6], ttl) end
-- the turn's replies, when they are kept with the conversation (a web page): with the state, once
local logged = #ARGV > 6 and append_log(KEYS[7], KEYS[8], TTL_MS, 7)
local two = redis.call('ZRANGE', KEYS[2], 0, 1)
local nid = nil
if two[1] ~= uid or two[2] then
  redis.call('ZREM', KEYS[2], uid)
  redis.call('HDEL', KEYS[3], uid)
  -- a command that jumped the queue may now stand before this update
  if two[1] == uid then nid = two[2] else nid = two[1] end
end
if nid then
  redis.call('SET', KEYS[4], ARGV[1], 'PX', LEASE_MS)
  return {1, v, nid, redis.call('HGET', KEYS[3], nid) or false, logged}
end
-- nothing waits any more (the usual case): one call drops the inbox and the lease
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
-- and the pending hint (single server only, see above)
if ARGV[6] ~= '' then redis.call('ZREM', KEYS[#KEYS], ARGV[6]) end
return {0, v, logged}
"""

# KEYS: ls. ARGV: token. Keep a lease alive while its holder works on a long turn.
_RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], LEASE_MS)
return 1
"""

# KEYS: ls. ARGV: token. Give a lease back (shutting down): the next drainer need not wait.
_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
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
    """A script run by EVALSHA; on NOSCRIPT it is run once by EVAL, which also caches it.

    EVAL goes to the node that owns the keys, so this works on Redis Cluster too (a
    node that just received a slot by resharding has never seen the script), and
    redis-py's own retry and redirection apply to every call.
    """

    source: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.source.encode()).hexdigest())

    async def __call__(self, client: Any, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """Run the script with `keys` and `args` (one round trip once the node knows it)."""
        try:
            return await client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await client.eval(self.source, len(keys), *keys, *args)

    async def load(self, client: Any) -> None:
        """Send the script to the server ahead of time (optional)."""
        await client.script_load(self.source)


CLEAR_HINT_SCRIPT = LuaScript(CLEAR_HINT)


@dataclass(frozen=True, slots=True)
class Scripts:
    """The per-conversation scripts compiled for one set of store tunables."""

    submit: LuaScript
    acquire: LuaScript
    commit: LuaScript
    renew: LuaScript
    release: LuaScript


def build_scripts(
    *,
    ttl_ms: int,
    lease_ms: int,
    keep_ids: int,
    seen_s: int,
    tombstone_ms: int,
    flood_max: int,
    flood_ms: int,
) -> Scripts:
    """Compile the scripts with the tunables as Lua constants (positive integers; flood_max 0 = off)."""
    values = {
        "TTL_MS": ttl_ms,
        "LEASE_MS": lease_ms,
        "KEEP_IDS": keep_ids,
        "SEEN_S": seen_s,
        "TOMBSTONE_MS": tombstone_ms,
        "FLOOD_MAX": flood_max,
        "FLOOD_MS": flood_ms,
    }
    for name, value in values.items():
        if not isinstance(value, int) or value < (0 if name == "FLOOD_MAX" else 1):
            raise ValueError(f"{name} must be a positive integer, not {value!r}")
    header = "".join(f"local {name} = {value}\n" for name, value in values.items())
    per_conversation = header + _COMMON
    return Scripts(
        submit=LuaScript(per_conversation + _SUBMIT),
        acquire=LuaScript(per_conversation + _ACQUIRE),
        commit=LuaScript(per_conversation + APPEND_LOG_LUA + _COMMIT),
        renew=LuaScript(header + _RENEW),
        release=LuaScript(_RELEASE),
    )
