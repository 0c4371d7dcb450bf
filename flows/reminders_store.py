"""ReminderStore: the Redis side of reminders (layout and protocol in flows.reminders).

Besides the per-slot shards, one small ZSET per channel says where to look:

    <prefix>:reminders:next:<channel>   ZSET  slot -> earliest time something there may be taken

It is a lower bound, so a dispatcher reads it instead of 16,384 shards (a full sweep costs
~0.3 s of client CPU; measured in benchmarks/reminders.py). Every write that can make a
shard's head earlier lowers the slot's entry afterwards (ZADD LT); a dispatcher that
drained a slot first overwrites the entry with the head it read, then reads the head
again and lowers the entry if something arrived in between - so a concurrent schedule
is never hidden. Only a writer that dies between its two commands can leave a reminder
under a too-late entry; `sweep` (hourly in every dispatcher, and in `send-due`) repairs that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis.asyncio import Redis
from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot

from flows.reminders import (
    CHINA,
    MAX_PER_CHAT,
    Kind,
    Reminder,
    clean_arg,
    parse_member,
    private_parts,
    slot_tags,
    split_conversation,
)
from flows.reminders_time import epoch_seconds, morning_of, release_at
from flows.store.keys import KeySpace
from flows.store.lua import LuaScript
from flows.turn import ScheduleReminder

_SEP = "|"
# The names ScheduleReminder used before kinds had letters.
_LEGACY_KINDS = {"window_closing": Kind.WINDOW, "waiting_ends": Kind.WAITING, "monthly_payment": Kind.MONTHLY}

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

# KEYS: rq, rc. ARGV: now, lease end, limit, token. Takes up to `limit` due members;
# returns {the shard's head score afterwards or '', members...}.
_CLAIM = LuaScript("""
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, m in ipairs(due) do
  redis.call('ZADD', KEYS[1], ARGV[2], m)
  redis.call('HSET', KEYS[2], m, ARGV[4])
end
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2] or ''
table.insert(due, 1, head)
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


@dataclass(frozen=True, slots=True)
class Claimed:
    """What a claim took, and the earliest score left in the shard (None: it is empty)."""

    reminders: list[Reminder]
    head: int | None


class ReminderStore:
    """Schedules, lists, cancels and hands out reminders."""

    def __init__(self, redis: Redis, keys: KeySpace | None = None, ttl: timedelta | None = None):
        self.redis = redis
        self.keys = keys or KeySpace()
        del ttl  # accepted for the conversation store's signature; a reminder lives until sent

    # ------------------------------------------------------------------ keys
    def shard(self, channel: str, slot: int) -> tuple[str, str]:
        """The due index and the claims of one slot and channel (same hash tag)."""
        base = f"{self.keys.prefix}:{{{slot_tags()[slot]}}}"
        return f"{base}:rq:{channel}", f"{base}:rc:{channel}"

    def shard_of(self, reminder: Reminder) -> tuple[str, str]:
        """The shard of a reminder: the hash slot of its conversation."""
        return self.shard(reminder.channel, key_slot(reminder.conversation_id.encode()))

    def hint_key(self, channel: str) -> str:
        return f"{self.keys.prefix}:reminders:next:{channel}"

    @property
    def channels_key(self) -> str:
        return f"{self.keys.prefix}:reminders:channels"

    async def channels(self) -> list[str]:
        """Channels that have had reminders (sorted)."""
        members = await self.redis.smembers(self.channels_key)  # type: ignore[misc]
        return sorted(_str(m) for m in members)

    async def _lower_hint(self, reminder: Reminder, at: datetime) -> None:
        slot = key_slot(reminder.conversation_id.encode())
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(self.hint_key(reminder.channel), {str(slot): epoch_seconds(at)}, lt=True)
        pipe.sadd(self.channels_key, reminder.channel)
        await pipe.execute()

    # ----------------------------------------------------------- per person
    async def add(self, reminder: Reminder) -> bool:
        """Store `reminder` (replacing the person's earlier one of a unique kind).

        False when the person already has MAX_PER_CHAT reminders."""
        chat_prefix = reminder.chat + _SEP
        replace_prefix = f"{chat_prefix}{reminder.kind.value}{_SEP}" if reminder.kind.unique else ""
        stored = await _SCHEDULE(
            self.redis,
            self.shard_of(reminder),
            (reminder.member, epoch_seconds(reminder.release), chat_prefix, replace_prefix, MAX_PER_CHAT),
        )
        if stored:
            await self._lower_hint(reminder, reminder.release)
        return bool(stored)

    async def schedule(self, cid: str, request: ScheduleReminder) -> None:
        """Store a dialog's `ScheduleReminder` (a dated reminder at 09:00 that day)."""
        channel, chat = private_parts(cid)
        kind = _LEGACY_KINDS.get(request.kind) or next((k for k in Kind if k.value == request.kind), Kind.OWN)
        await self.add(Reminder(channel, chat, kind, morning_of(request.due), clean_arg(request.text)))

    async def of(self, cid: str) -> list[Reminder]:
        """The reminders of one conversation, soonest first (none for a group conversation)."""
        found = split_conversation(cid)
        if found is None:
            return []
        channel, chat = found
        probe = Reminder(channel, chat, Kind.OWN, datetime.now(CHINA))
        members: list[bytes] = await self.redis.zrange(self.shard_of(probe)[0], 0, -1)  # type: ignore[assignment]
        prefix = (chat + _SEP).encode()
        mine = [parse_member(channel, m) for m in members if m.startswith(prefix)]
        return sorted((r for r in mine if r is not None), key=lambda r: (r.due, r.kind.value, r.arg))

    async def remove(self, reminders: Sequence[Reminder]) -> int:
        """Forget these reminders (all of one conversation); returns how many were there."""
        if not reminders:
            return 0
        return int(await _REMOVE(self.redis, self.shard_of(reminders[0]), [r.member for r in reminders]))

    async def cancel(self, cid: str, ref: str) -> Reminder | None:
        """Forget the reminder named `ref` (Reminder.ref); returns it, or None if it is gone."""
        found = next((r for r in await self.of(cid) if r.ref == ref), None)
        if found is None or not await self.remove([found]):
            return None
        return found

    async def cancel_all(self, cid: str) -> int:
        """Forget every reminder of `cid`; returns how many there were."""
        return await self.remove(await self.of(cid))

    async def stop_chat(self, channel: str, chat: str) -> int:
        """Forget every reminder of one chat (the person blocked the bot)."""
        return await self.cancel_all(f"{channel}:{chat}:-:{chat}")

    # ----------------------------------------------------------- dispatching
    async def due_slots(self, channel: str, now: datetime) -> list[int]:
        """Slots that may have something to take at `now` (from the hint)."""
        slots = await self.redis.zrangebyscore(self.hint_key(channel), "-inf", epoch_seconds(now))
        return [int(_str(s)) for s in slots]

    async def held(self, channel: str, now: datetime) -> int:
        """How many reminders are due by `now` but wait for quiet hours to end."""
        release = release_at(now)
        slots = await self.due_slots(channel, release)
        if not slots:
            return 0
        pipe = self.redis.pipeline(transaction=False)
        for slot in slots:
            pipe.zrangebyscore(self.shard(channel, slot)[0], "-inf", epoch_seconds(release))
        waiting = [parse_member(channel, m) for members in await pipe.execute() for m in members]
        return sum(1 for r in waiting if r is not None and r.due <= now)

    async def claim(
        self, channel: str, slot: int, now: datetime, lease: timedelta, limit: int, token: str
    ) -> Claimed:
        """Take up to `limit` due reminders of one slot for `lease`; unreadable members are dropped."""
        [claimed] = await self.claim_many(channel, [slot], now, lease, limit, token)
        return claimed

    async def claim_many(
        self, channel: str, slots: Sequence[int], now: datetime, lease: timedelta, limit: int, token: str
    ) -> list[Claimed]:
        """`claim` for several slots in one pipelined round trip (one script call per slot)."""
        pipe = self.redis.pipeline(transaction=False)
        args = (epoch_seconds(now), epoch_seconds(now + lease), limit, token)
        for slot in slots:
            # EVAL, not EVALSHA: in a pipeline a NOSCRIPT reply could not fall back per call.
            pipe.eval(_CLAIM.source, 2, *self.shard(channel, slot), *args)
        claims: list[Claimed] = []
        for slot, (head, *members) in zip(slots, await pipe.execute(), strict=True):
            taken = [r for r in (parse_member(channel, m) for m in members) if r is not None]
            if len(taken) < len(members):
                broken = [_str(m) for m in members if parse_member(channel, m) is None]
                await _REMOVE(self.redis, self.shard(channel, slot), broken)
            claims.append(Claimed(taken, int(float(head)) if head else None))
        return claims

    async def settle(self, channel: str, heads: dict[int, int | None]) -> None:
        """After draining slots: set each one's hint to its head as the last claim saw it (None:
        empty), then read the heads again and lower a hint where something came in between.
        Three pipelined round trips for any number of slots, in this order."""
        hint = self.hint_key(channel)
        pipe = self.redis.pipeline(transaction=False)
        for slot, head in heads.items():
            if head is None:
                pipe.zrem(hint, str(slot))
            else:
                pipe.zadd(hint, {str(slot): head})
        await pipe.execute()
        pipe = self.redis.pipeline(transaction=False)
        for slot in heads:
            pipe.zrange(self.shard(channel, slot)[0], 0, 0, withscores=True)
        again = await pipe.execute()
        lower = {str(slot): int(now[0][1]) for (slot, head), now in zip(heads.items(), again, strict=True)
                 if now and (head is None or int(now[0][1]) < head)}
        if lower:
            await self.redis.zadd(hint, lower, lt=True)  # type: ignore[arg-type]

    async def sweep(self, channel: str) -> int:
        """Repair the hint from every shard (one pipelined read per slot); returns slots found non-empty."""
        pipe = self.redis.pipeline(transaction=False)
        for slot in range(REDIS_CLUSTER_HASH_SLOTS):
            pipe.zrange(self.shard(channel, slot)[0], 0, 0, withscores=True)
        heads = await pipe.execute()
        found = {str(slot): int(head[0][1]) for slot, head in enumerate(heads) if head}
        if found:
            await self.redis.zadd(self.hint_key(channel), found, lt=True)  # type: ignore[arg-type]
        return len(found)

    async def begin(self, reminder: Reminder, token: str, lease_end: datetime) -> bool:
        """Right before sending: still ours? Then extend the lease to `lease_end`."""
        return bool(await _BEGIN(self.redis, self.shard_of(reminder),
                                 (reminder.member, token, epoch_seconds(lease_end))))

    async def finish(self, reminder: Reminder) -> Reminder | None:
        """The sent marker: `reminder` goes; a repeating one's next occurrence comes (and is returned)."""
        following = reminder.following()
        if following is None:
            await _FINISH(self.redis, self.shard_of(reminder), (reminder.member, "", 0))
            return None
        await _FINISH(self.redis, self.shard_of(reminder),
                      (reminder.member, following.member, epoch_seconds(following.release)))
        await self._lower_hint(following, following.release)
        return following

    async def release(self, reminder: Reminder, token: str, at: datetime) -> bool:
        """Give a claimed reminder back, to be taken again at `at` (a send that failed for now)."""
        released = bool(await _RELEASE(self.redis, self.shard_of(reminder), (reminder.member, token, epoch_seconds(at))))
        if released:
            await self._lower_hint(reminder, at)
        return released

    async def upcoming(self, channel: str, before: datetime, count: int) -> tuple[int, list[datetime]]:
        """(how many may be taken before `before`, the next `count` times reminders may be taken).

        Reads only the slots the hint names: their entries are lower bounds, so once the
        hint's next entry is later than the `count`-th time found, nothing earlier is left."""
        hint: list[tuple[bytes, float]] = await self.redis.zrange(  # type: ignore[assignment]
            self.hint_key(channel), 0, -1, withscores=True)
        cutoff = epoch_seconds(before)
        pipe = self.redis.pipeline(transaction=False)
        for slot, _ in hint:
            key = self.shard(channel, int(_str(slot)))[0]
            pipe.zcount(key, "-inf", f"({cutoff}")
            pipe.zrange(key, 0, count - 1, withscores=True)
        replies = await pipe.execute() if hint else []
        total = sum(int(n) for n in replies[0::2])
        found: list[int] = []
        for (_, bound), heads in zip(hint, replies[1::2], strict=True):
            if len(found) >= count and bound > found[count - 1]:
                break
            found = sorted(found + [int(score) for _, score in heads])[:count]
        return total, [datetime.fromtimestamp(s, CHINA) for s in found]


def _str(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
