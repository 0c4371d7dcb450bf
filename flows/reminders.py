"""Reminder storage: what to remind which conversation of, and when.

Per conversation a HASH `<prefix>:{<cid>}:rm` (same hash tag as the conversation)
maps reminder kind -> {"due": "YYYY-MM-DD", "text": ...}; one reminder per kind, a
new one replaces the old. A global ZSET `<prefix>:reminders:due` indexes
"<kind> <cid>" by due day so a sender can find what is due without scanning. The
index is written by a separate command (it lives in another hash slot) and is
treated as a hint: `due` checks every hit against the conversation's hash and drops
stale entries. Delivering reminders is a later job; this module only stores them.

A reminder hash lives until its due day plus the conversation TTL, so a reminder due
in two months survives a quiet month; the store's commit script only ever extends it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from redis.asyncio import Redis

from flows.pii import redact
from flows.store.keys import KeySpace
from flows.store.lua import LuaScript
from flows.turn import ScheduleReminder

_EPOCH = date(1970, 1, 1)

# KEYS: rm. ARGV: kind, JSON, expire-at ms, now ms. Sets the reminder; never shortens the TTL.
_SET = LuaScript(
    """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local pttl = redis.call('PTTL', KEYS[1])
if pttl < 0 or tonumber(ARGV[4]) + pttl < tonumber(ARGV[3]) then
  redis.call('PEXPIREAT', KEYS[1], ARGV[3])
end
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
        doc = json.dumps(
            {"due": reminder.due.isoformat(), "text": redact(reminder.text)},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        midnight = datetime.combine(reminder.due, datetime.min.time(), tzinfo=UTC)
        now_ms = _now_ms()
        ttl_ms = int(self.ttl.total_seconds() * 1000)
        # Kept until the due day plus the conversation TTL, and never less than the TTL.
        expire_at_ms = max(int(midnight.timestamp() * 1000), now_ms) + ttl_ms
        await _SET(self.redis, (self.keys.reminders(cid),), (reminder.kind, doc, expire_at_ms, now_ms))
        await self.redis.zadd(self.keys.reminders_due, {_member(reminder.kind, cid): _day(reminder.due)})

    async def cancel_all(self, cid: str) -> int:
        """Forget every reminder of `cid`; returns how many there were."""
        key = self.keys.reminders(cid)
        kinds = [_str(k) for k in await self.redis.hkeys(key)]  # type: ignore[misc]
        if not kinds:
            return 0
        pipe = self.redis.pipeline(transaction=False)
        pipe.delete(key)
        pipe.zrem(self.keys.reminders_due, *(_member(kind, cid) for kind in kinds))
        await pipe.execute()
        return len(kinds)

    async def of(self, cid: str) -> list[Reminder]:
        """The reminders of one conversation, soonest first."""
        rows = await self.redis.hgetall(self.keys.reminders(cid))  # type: ignore[misc]
        found = [_parse(cid, _str(kind), raw) for kind, raw in rows.items()]
        return sorted((r for r in found if r is not None), key=lambda r: (r.due, r.kind))

    async def due(self, today: date, limit: int = 500) -> list[Reminder]:
        """Reminders due on or before `today`, oldest first. Stale index entries are dropped."""
        members = await self.redis.zrangebyscore(
            self.keys.reminders_due, "-inf", _day(today), start=0, num=limit
        )
        pairs = [_split(_str(m)) for m in members]
        pipe = self.redis.pipeline(transaction=False)
        for kind, cid in pairs:
            pipe.hget(self.keys.reminders(cid), kind)
        raws = await pipe.execute() if pairs else []
        result: list[Reminder] = []
        stale: list[str] = []
        for (kind, cid), raw in zip(pairs, raws, strict=True):
            reminder = _parse(cid, kind, raw) if raw is not None else None
            if reminder is None:
                stale.append(_member(kind, cid))
            elif reminder.due <= today:
                result.append(reminder)
        if stale:
            await self.redis.zrem(self.keys.reminders_due, *stale)
        return result

    async def remove(self, reminder: Reminder) -> None:
        """Forget one reminder (after it was sent)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hdel(self.keys.reminders(reminder.conversation_id), reminder.kind)
        pipe.zrem(self.keys.reminders_due, _member(reminder.kind, reminder.conversation_id))
        await pipe.execute()


def _parse(cid: str, kind: str, raw: bytes | str) -> Reminder | None:
    try:
        doc = json.loads(raw)
        return Reminder(cid, kind, date.fromisoformat(doc["due"]), str(doc["text"]))
    except (ValueError, KeyError, TypeError):
        return None


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
