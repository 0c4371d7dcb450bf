"""Reminder storage: what to remind which conversation of, and when.

Per conversation one STRING `<prefix>:{<cid>}:rm` (same hash tag as the conversation)
holds one line per reminder kind, "<kind>\\t<YYYY-MM-DD>\\t<text>\\n"; a new reminder
replaces the old one of its kind. A STRING because a HASH whose values exceed 64 bytes
(reminder texts do) leaves Redis's compact encoding and costs several times more.
A global ZSET `<prefix>:reminders:due` indexes "<kind> <cid>" by due day so a sender can
find what is due without scanning. The index is written by a separate command (it lives
in another hash slot) and is treated as a hint: `due` checks every hit against the
conversation's record and drops stale entries. Delivering reminders is a later job;
this module only stores them.

A reminder record lives until its due day plus the conversation TTL (at least the TTL
from now), so a reminder due in two months survives a quiet month; the store's commit
script only ever extends it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from redis.asyncio import Redis

from flows.pii import redact
from flows.store.keys import KeySpace
from flows.store.lua import LuaScript
from flows.turn import ScheduleReminder

_EPOCH = date(1970, 1, 1)

# Shared Lua: the record's lines without the one of kind ARGV[1].
_OTHERS = """
local others = {}
local rec = redis.call('GET', KEYS[1])
if rec then
  for line in string.gmatch(rec, '[^\\n]+') do
    if string.sub(line, 1, #ARGV[1] + 1) ~= ARGV[1] .. '\\t' then others[#others + 1] = line end
  end
end
"""

# KEYS: rm. ARGV: kind, line, expire-at ms, now ms. Sets one reminder; never shortens the TTL.
_SET = LuaScript(
    _OTHERS
    + """
others[#others + 1] = ARGV[2]
local value = table.concat(others, '\\n') .. '\\n'
local pttl = redis.call('PTTL', KEYS[1])
if pttl >= 0 and tonumber(ARGV[4]) + pttl >= tonumber(ARGV[3]) then
  redis.call('SET', KEYS[1], value, 'KEEPTTL')
else
  redis.call('SET', KEYS[1], value, 'PXAT', ARGV[3])
end
return #others
"""
)

# KEYS: rm. ARGV: kind. Removes one reminder; the record goes when it is empty.
_REMOVE = LuaScript(
    _OTHERS
    + """
if #others == 0 then return redis.call('DEL', KEYS[1]) end
redis.call('SET', KEYS[1], table.concat(others, '\\n') .. '\\n', 'KEEPTTL')
return 1
"""
)


@dataclass(frozen=True, slots=True)
class Reminder:
    """A stored reminder of one conversation."""

    conversation_id: str
    kind: str
    due: date
    text: str


class ReminderStore:
    """Schedules, cancels and looks up reminders."""

    def __init__(self, redis: Redis, keys: KeySpace | None = None, ttl: timedelta = timedelta(days=30)):
        self.redis = redis
        self.keys = keys or KeySpace()
        self.ttl = ttl

    async def schedule(self, cid: str, reminder: ScheduleReminder) -> None:
        """Store `reminder` for conversation `cid`, replacing one of the same kind."""
        kind = _clean(reminder.kind).replace(" ", "_")
        line = f"{kind}\t{reminder.due.isoformat()}\t{_clean(redact(reminder.text))}"
        midnight = datetime.combine(reminder.due, datetime.min.time(), tzinfo=UTC)
        now_ms = _now_ms()
        ttl_ms = int(self.ttl.total_seconds() * 1000)
        # Kept until the due day plus the conversation TTL, and never less than the TTL.
        expire_at_ms = max(int(midnight.timestamp() * 1000), now_ms) + ttl_ms
        await _SET(self.redis, (self.keys.reminders(cid),), (kind, line, expire_at_ms, now_ms))
        await self.redis.zadd(self.keys.reminders_due, {_member(kind, cid): _day(reminder.due)})

    async def cancel_all(self, cid: str) -> int:
        """Forget every reminder of `cid`; returns how many there were."""
        key = self.keys.reminders(cid)
        found = _parse(cid, await self.redis.get(key))
        pipe = self.redis.pipeline(transaction=False)
        pipe.delete(key)
        if found:
            pipe.zrem(self.keys.reminders_due, *(_member(r.kind, cid) for r in found))
        await pipe.execute()
        return len(found)

    async def of(self, cid: str) -> list[Reminder]:
        """The reminders of one conversation, soonest first."""
        found = _parse(cid, await self.redis.get(self.keys.reminders(cid)))
        return sorted(found, key=lambda r: (r.due, r.kind))

    async def due(self, today: date, limit: int = 500) -> list[Reminder]:
        """Reminders due on or before `today`, oldest first. Stale index entries are dropped."""
        members = await self.redis.zrangebyscore(
            self.keys.reminders_due, "-inf", _day(today), start=0, num=limit
        )
        pairs = [_split(_str(m)) for m in members]
        pipe = self.redis.pipeline(transaction=False)
        for _, cid in pairs:
            pipe.get(self.keys.reminders(cid))
        records = await pipe.execute() if pairs else []
        result: list[Reminder] = []
        stale: list[str] = []
        for (kind, cid), raw in zip(pairs, records, strict=True):
            reminder = next((r for r in _parse(cid, raw) if r.kind == kind), None)
            if reminder is None:
                stale.append(_member(kind, cid))
            elif reminder.due <= today:
                result.append(reminder)
        if stale:
            await self.redis.zrem(self.keys.reminders_due, *stale)
        return result

    async def remove(self, reminder: Reminder) -> None:
        """Forget one reminder (after it was sent)."""
        cid = reminder.conversation_id
        await _REMOVE(self.redis, (self.keys.reminders(cid),), (reminder.kind,))
        await self.redis.zrem(self.keys.reminders_due, _member(reminder.kind, cid))


def _parse(cid: str, raw: bytes | str | None) -> list[Reminder]:
    """The reminders in a stored record; unreadable lines are skipped."""
    if not raw:
        return []
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    found: list[Reminder] = []
    for line in text.splitlines():
        kind, _, rest = line.partition("\t")
        day, _, message = rest.partition("\t")
        try:
            found.append(Reminder(cid, kind, date.fromisoformat(day), message))
        except ValueError:
            continue
    return found


def _clean(text: str) -> str:
    """One line without tabs: the record's separators."""
    return " ".join(text.split())


def _split(member: str) -> tuple[str, str]:
    kind, _, cid = member.partition(" ")
    return kind, cid


def _member(kind: str, cid: str) -> str:
    return f"{kind} {cid}"


def _day(day: date) -> int:
    return (day - _EPOCH).days


def _now_ms() -> int:
    return int(time.time() * 1000)


def _str(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
