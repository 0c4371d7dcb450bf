"""Reminder storage: a due index per Redis Cluster slot, claimed with a lease, sent once.

Layout. For every hash slot S (16384) and channel C ("telegram:<bot id>"):

    <prefix>:{<tag S>}:rq:<C>   ZSET  member "<chat>|<kind>|<due minute>|<arg>" -> score
    <prefix>:{<tag S>}:rc:<C>   HASH  member -> claim token (only while a dispatcher holds it)
    <prefix>:reminders:channels SET   channels that ever had a reminder (for the CLI)

`<tag S>` is a short string whose CRC16 falls in slot S (see `slot_tag`), and a
conversation's reminders go to the slot of its own hash tag `{<conversation id>}`. So
a reminder lives in the same cluster slot as its conversation, every script touches
keys of one slot only (Cluster-safe), and the index is sharded by slot rather than one
global key. The member is the whole reminder: at a million reminders a slot holds about
61, which Redis keeps as a compact listpack (about 60 bytes a reminder, index included;
`benchmarks/reminders.py`). A separate record per conversation would cost ~170 bytes
before any index (measured there too).

Score: when the reminder may next be taken - its release time (due, or 09:00 after quiet
hours) while it waits, the lease's end while a dispatcher holds it. A dispatcher that
dies therefore loses its claims at the lease's end and another takes them.

Sending one reminder: `claim` (batch: score := lease end, token noted) -> `begin` right
before the Bot API call (still ours? then extend the lease) -> send -> `finish` (remove
it - the sent marker - and, for a monthly reminder, add the next month's). The only
window where a reminder can go out twice is between `begin` and `finish` (README).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache

from redis.asyncio import Redis
from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot

from flows.pii import redact
from flows.reminders_time import (
    CHINA,
    add_months,
    epoch_seconds,
    morning_of,
    release_at,
)
from flows.store.keys import KeySpace
from flows.store.lua import LuaScript
from flows.turn import ScheduleReminder

MAX_PER_CHAT = 12  # a person's reminders, all kinds; more are refused with a polite line
MAX_ARG = 36  # bytes of a reminder's argument (an own reminder's topic is cut to fit)
_SEP = "|"


class Kind(StrEnum):
    """Why a reminder was set. One letter: it is part of every stored member."""

    WINDOW = "w"  # the back-pay window closes (arg: the deadline, ISO date)
    WAITING = "e"  # the waiting period ends (arg: the day benefits resume)
    MONTHLY = "m"  # a self-payer's monthly payment (arg: day of month); repeats
    DECLARATION = "d"  # the monthly declaration window opens (arg: day of month); repeats
    ENROLMENT = "r"  # resident-insurance enrolment deadline (arg: the deadline)
    OWN = "o"  # a date the person chose (arg: their words, e.g. "交医保")

    @property
    def repeats(self) -> bool:
        return self in (Kind.MONTHLY, Kind.DECLARATION)

    @property
    def unique(self) -> bool:
        """One per person: a new one replaces the old (own reminders may be many)."""
        return self is not Kind.OWN


@dataclass(frozen=True, slots=True)
class Reminder:
    """One reminder of one private conversation."""

    channel: str  # "<platform>:<bot id>"
    chat: str  # the private chat (= the user) the reminder is sent to
    kind: Kind
    due: datetime  # aware; minute precision
    arg: str = ""

    @property
    def conversation_id(self) -> str:
        return f"{self.channel}:{self.chat}:-:{self.chat}"

    @property
    def member(self) -> str:
        return _SEP.join((self.chat, self.kind.value, str(epoch_seconds(self.due) // 60), self.arg))

    @property
    def ref(self) -> str:
        """A short, stable name for buttons (callback data is limited to 64 bytes)."""
        return hashlib.sha1(self.member.encode()).hexdigest()[:10]

    @property
    def release(self) -> datetime:
        return release_at(self.due)

    def following(self) -> Reminder | None:
        """The next occurrence of a repeating reminder (same day next month, clipped)."""
        if not self.kind.repeats:
            return None
        local = self.due.astimezone(CHINA)
        day_of_month = int(self.arg) if self.arg.isdigit() else local.day
        nxt = add_months(local.date(), 1, day_of_month)
        return replace(self, due=datetime.combine(nxt, local.timetz()))

    def snoozed(self, at: datetime) -> Reminder:
        """The same reminder again at `at` (a repeating one comes back once, as an own reminder)."""
        if not self.kind.repeats:
            return replace(self, due=at)
        return replace(self, kind=Kind.OWN, due=at, arg=_snooze_topic(self.kind))


# The names ScheduleReminder used before kinds had letters.
_LEGACY_KINDS = {"window_closing": Kind.WINDOW, "waiting_ends": Kind.WAITING, "monthly_payment": Kind.MONTHLY}


def _snooze_topic(kind: Kind) -> str:
    return "缴费" if kind is Kind.MONTHLY else "申报缴费"


def parse_member(channel: str, member: bytes | str) -> Reminder | None:
    """The reminder a stored member describes; None for anything unreadable."""
    text = member.decode("utf-8", "replace") if isinstance(member, bytes) else member
    parts = text.split(_SEP, 3)
    if len(parts) != 4 or not parts[2].isdigit():
        return None
    try:
        kind = Kind(parts[1])
    except ValueError:
        return None
    due = datetime.fromtimestamp(int(parts[2]) * 60, CHINA)
    return Reminder(channel, parts[0], kind, due, parts[3])


def split_conversation(cid: str) -> tuple[str, str] | None:
    """(channel, chat) of a private conversation id; None for group or topic conversations."""
    parts = cid.split(":")
    if len(parts) != 5 or parts[3] != "-" or parts[2] != parts[4] or not parts[2]:
        return None
    return f"{parts[0]}:{parts[1]}", parts[2]


def clean_arg(text: str) -> str:
    """A reminder argument: one line, no separators, personal numbers hidden, at most MAX_ARG bytes."""
    text = " ".join(redact(text).replace(_SEP, " ").split())
    raw = text.encode()[:MAX_ARG]
    return raw.decode("utf-8", "ignore")


@cache
def slot_tags() -> tuple[str, ...]:
    """For every cluster slot, the shortest hash tag (base-36 counter) that falls in it."""
    tags: list[str | None] = [None] * REDIS_CLUSTER_HASH_SLOTS
    missing = REDIS_CLUSTER_HASH_SLOTS
    n = 0
    while missing:
        tag = _base36(n)
        slot = key_slot(tag.encode())
        if tags[slot] is None:
            tags[slot] = tag
            missing -= 1
        n += 1
    return tuple(t for t in tags if t is not None)


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = digits[n % 36]
    while n >= 36:
        n //= 36
        out = digits[n % 36] + out
    return out


# KEYS: rq, rc. ARGV: member, score, "<chat>|", "<chat>|<kind>|" or "" (replace that kind), max.
# Returns 1 stored, 0 the chat already has `max` reminders.
_SCHEDULE = LuaScript("""
local all = redis.call('ZRANGE', KEYS[1], 0, -1)
local mine = 0
for _, m in ipairs(all) do
  if string.sub(m, 1, #ARGV[3]) == ARGV[3] then
    if ARGV[4] ~= '' and string.sub(m, 1, #ARGV[4]) == ARGV[4] and m ~= ARGV[1] then
      redis.call('ZREM', KEYS[1], m)
      redis.call('HDEL', KEYS[2], m)
    elseif m ~= ARGV[1] then
      mine = mine + 1
    end
  end
end
if mine >= tonumber(ARGV[5]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
""")

# KEYS: rq, rc. ARGV: members. Removes them; returns how many were there.
_REMOVE = LuaScript("""
local n = 0
for _, m in ipairs(ARGV) do
  n = n + redis.call('ZREM', KEYS[1], m)
  redis.call('HDEL', KEYS[2], m)
end
return n
""")

# KEYS: rq, rc. ARGV: now, lease end, limit, token. Takes up to `limit` due members.
_CLAIM = LuaScript("""
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, m in ipairs(due) do
  redis.call('ZADD', KEYS[1], ARGV[2], m)
  redis.call('HSET', KEYS[2], m, ARGV[4])
end
return due
""")

# KEYS: rq, rc. ARGV: member, token, lease end. 1: still ours (lease extended); 0: not ours any more.
_BEGIN = LuaScript("""
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
""")

# KEYS: rq, rc. ARGV: member, next member or '', next score. The sent marker: the member goes
# (whoever holds it now), the next occurrence of a repeating reminder comes in the same step.
_FINISH = LuaScript("""
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if ARGV[2] ~= '' then redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2]) end
return 1
""")

# KEYS: rq, rc. ARGV: member, token, score. Gives a claim back (to be taken again at `score`).
_RELEASE = LuaScript("""
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
return 1
""")


class ReminderStore:
    """Schedules, lists, cancels and hands out reminders (see the module docstring)."""

    def __init__(self, redis: Redis, keys: KeySpace | None = None, ttl: timedelta | None = None):
        self.redis = redis
        self.keys = keys or KeySpace()
        # `ttl` is accepted for the conversation store's signature; reminders live until sent.
        del ttl

    # ------------------------------------------------------------------ keys
    def shard(self, channel: str, slot: int) -> tuple[str, str]:
        """The due index and the claims of one slot and channel (same hash tag)."""
        tag = slot_tags()[slot]
        base = f"{self.keys.prefix}:{{{tag}}}"
        return f"{base}:rq:{channel}", f"{base}:rc:{channel}"

    def shard_of(self, cid: str) -> tuple[str, str]:
        """The shard holding conversation `cid`'s reminders: its own hash slot."""
        channel, _ = _private(cid)
        return self.shard(channel, key_slot(cid.encode()))

    @property
    def channels_key(self) -> str:
        return f"{self.keys.prefix}:reminders:channels"

    async def channels(self) -> list[str]:
        """Channels that have had reminders (sorted)."""
        members = await self.redis.smembers(self.channels_key)  # type: ignore[misc]
        return sorted(_str(m) for m in members)

    # ----------------------------------------------------------- per person
    async def add(self, reminder: Reminder) -> bool:
        """Store `reminder` (replacing the person's earlier one of a unique kind).

        False when the person already has MAX_PER_CHAT reminders."""
        cid = reminder.conversation_id
        chat_prefix = reminder.chat + _SEP
        replace_prefix = f"{chat_prefix}{reminder.kind.value}{_SEP}" if reminder.kind.unique else ""
        stored = await _SCHEDULE(
            self.redis,
            self.shard_of(cid),
            (reminder.member, epoch_seconds(reminder.release), chat_prefix, replace_prefix, MAX_PER_CHAT),
        )
        if stored:
            await self.redis.sadd(self.channels_key, reminder.channel)  # type: ignore[misc]
        return bool(stored)

    async def schedule(self, cid: str, request: ScheduleReminder) -> None:
        """Store a dialog's `ScheduleReminder` (a dated reminder at 09:00 that day)."""
        channel, chat = _private(cid)
        kind = _LEGACY_KINDS.get(request.kind) or next((k for k in Kind if k.value == request.kind), Kind.OWN)
        await self.add(Reminder(channel, chat, kind, morning_of(request.due), clean_arg(request.text)))

    async def of(self, cid: str) -> list[Reminder]:
        """The reminders of one conversation, soonest first."""
        found = split_conversation(cid)
        if found is None:
            return []
        channel, chat = found
        members: list[bytes] = await self.redis.zrange(self.shard_of(cid)[0], 0, -1)  # type: ignore[assignment]
        prefix = (chat + _SEP).encode()
        mine = [parse_member(channel, m) for m in members if m.startswith(prefix)]
        return sorted((r for r in mine if r is not None), key=lambda r: (r.due, r.kind.value, r.arg))

    async def remove(self, reminders: Sequence[Reminder]) -> int:
        """Forget these reminders (all of one conversation); returns how many were there."""
        if not reminders:
            return 0
        shard = self.shard_of(reminders[0].conversation_id)
        return int(await _REMOVE(self.redis, shard, [r.member for r in reminders]))

    async def cancel(self, cid: str, ref: str) -> Reminder | None:
        """Forget the reminder named `ref` (see Reminder.ref); returns it, or None if it is gone."""
        found = next((r for r in await self.of(cid) if r.ref == ref), None)
        if found is None or not await self.remove([found]):
            return None
        return found

    async def cancel_all(self, cid: str) -> int:
        """Forget every reminder of `cid`; returns how many there were."""
        return await self.remove(await self.of(cid))

    # ----------------------------------------------------------- dispatching
    async def due_slots(self, channel: str, now: datetime, slots: Iterable[int] | None = None) -> list[int]:
        """Slots whose index has something to take at `now` (one pipelined read per slot)."""
        wanted = list(range(REDIS_CLUSTER_HASH_SLOTS) if slots is None else slots)
        pipe = self.redis.pipeline(transaction=False)
        for slot in wanted:
            pipe.zrangebyscore(self.shard(channel, slot)[0], "-inf", epoch_seconds(now), start=0, num=1)
        heads = await pipe.execute()
        return [slot for slot, head in zip(wanted, heads, strict=True) if head]

    async def claim(
        self, channel: str, slot: int, now: datetime, lease: timedelta, limit: int, token: str
    ) -> list[Reminder]:
        """Take up to `limit` due reminders of one slot for `lease`; unreadable members are dropped."""
        shard = self.shard(channel, slot)
        members = await _CLAIM(self.redis, shard, (epoch_seconds(now), epoch_seconds(now + lease), limit, token))
        taken: list[Reminder] = []
        broken: list[str] = []
        for member in members:
            reminder = parse_member(channel, member)
            if reminder is None:
                broken.append(_str(member))
            else:
                taken.append(reminder)
        if broken:
            await _REMOVE(self.redis, shard, broken)
        return taken

    async def begin(self, reminder: Reminder, token: str, lease_end: datetime) -> bool:
        """Right before sending: still ours? Then extend the lease to `lease_end`."""
        shard = self.shard_of(reminder.conversation_id)
        return bool(await _BEGIN(self.redis, shard, (reminder.member, token, epoch_seconds(lease_end))))

    async def finish(self, reminder: Reminder) -> Reminder | None:
        """Mark `reminder` sent (it goes); a repeating one is followed by its next occurrence (returned)."""
        following = reminder.following()
        args = (reminder.member, following.member, epoch_seconds(following.release)) if following else (
            reminder.member, "", 0)
        await _FINISH(self.redis, self.shard_of(reminder.conversation_id), args)
        return following

    async def release(self, reminder: Reminder, token: str, at: datetime) -> bool:
        """Give a claimed reminder back, to be taken again at `at` (a failed send, quiet hours)."""
        shard = self.shard_of(reminder.conversation_id)
        return bool(await _RELEASE(self.redis, shard, (reminder.member, token, epoch_seconds(at))))

    async def stop_chat(self, channel: str, chat: str) -> int:
        """Forget every reminder of one chat (the person blocked the bot)."""
        return await self.cancel_all(f"{channel}:{chat}:-:{chat}")

    async def upcoming(self, channel: str, before: datetime | None, count: int) -> tuple[int, list[datetime]]:
        """(how many are due before `before` - all when None -, the next `count` times reminders may go out)."""
        pipe = self.redis.pipeline(transaction=False)
        top = "+inf" if before is None else f"({epoch_seconds(before)}"
        for slot in range(REDIS_CLUSTER_HASH_SLOTS):
            key = self.shard(channel, slot)[0]
            pipe.zcount(key, "-inf", top)
            pipe.zrange(key, 0, count - 1, withscores=True)
        replies = await pipe.execute()
        total = sum(int(n) for n in replies[0::2])
        scores = sorted(int(score) for heads in replies[1::2] for _, score in heads)[:count]
        return total, [datetime.fromtimestamp(s, CHINA) for s in scores]


def _private(cid: str) -> tuple[str, str]:
    found = split_conversation(cid)
    if found is None:
        raise ValueError("reminders are kept for private conversations only")
    return found


def _str(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def due_day(reminder: Reminder) -> date:
    """The China-time day a reminder is due."""
    return reminder.due.astimezone(CHINA).date()
