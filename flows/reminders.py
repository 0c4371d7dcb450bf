"""Reminder storage: a due index per Redis Cluster slot, claimed with a lease, sent once.

Layout. For every hash slot S (16384) and channel C ("telegram:<bot id>"):

    <prefix>:{<tag S>}:rq:<C>   ZSET  member "<chat>|<kind>|<due minute>|<arg>" -> score
    <prefix>:{<tag S>}:rc:<C>   HASH  member -> claim token (only while a dispatcher holds it)
    <prefix>:reminders:channels SET   channels that ever had a reminder (for the CLI)
    <prefix>:reminders:next:<C> ZSET  slot -> earliest time to look there (flows.reminders_store)

`<tag S>` is a short string whose CRC16 falls in slot S (see `slot_tags`), and a
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
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from functools import cache

from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot

from flows.pii import redact
from flows.reminders_time import (
    CHINA,
    add_months,
    epoch_seconds,
    release_at,
)

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


def due_day(reminder: Reminder) -> date:
    """The China-time day a reminder is due."""
    return reminder.due.astimezone(CHINA).date()


def private_parts(cid: str) -> tuple[str, str]:
    """(channel, chat) of a private conversation; ValueError for any other."""
    found = split_conversation(cid)
    if found is None:
        raise ValueError("reminders are kept for private conversations only")
    return found
