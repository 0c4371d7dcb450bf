"""What the page shows, kept in Redis so a reload (on any worker) shows the same conversation.

Two keys per conversation, under its hash tag (one slot on Redis Cluster):
`...:{cid}:wl` LIST of "<seq>\\t<entry JSON>" (the latest `MAX_ENTRIES`) and
`...:{cid}:ws` the sequence counter, so a page asks only for entries after the last
one it has. Entries are written by `TranscriptSink` while the conversation service
delivers a turn, from the event as stored (personal numbers already redacted).

A request that delivers its own turn (the usual case) gets the page's new entries back
from the same script that writes them (`Exchange`): one Redis round trip, not two.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from redis.asyncio import Redis

from flows.messages import InEvent, OutMessage
from flows.store import KeySpace

MAX_ENTRIES = 200
SYSTEM_PREFIX = "sys-"  # update ids of events the page sends by itself (start, restart): no user bubble
RESTART_PREFIX = SYSTEM_PREFIX + "restart-"  # "重新开始": the page is emptied by the reply's own write

# KEYS: list, counter. ARGV: ttl ms, entries kept, since (-1: return nothing), 'c' to empty the
# list first (else ''), entries...
# Returns the entries numbered above `since` when asked: the numbers are consecutive, so they
# are the list's last (counter - since), read as a range (not a scan of the whole list, which
# cost Redis about ten times as much per turn once a conversation had 200 entries).
_APPEND = """
local ttl, keep, since = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local n = tonumber(redis.call('GET', KEYS[2]) or '0')
if ARGV[4] == 'c' then redis.call('DEL', KEYS[1]) end
for i = 5, #ARGV do
  n = redis.call('INCR', KEYS[2])
  redis.call('RPUSH', KEYS[1], n .. '\\t' .. ARGV[i])
end
redis.call('LTRIM', KEYS[1], -keep, -1)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
if since < 0 or n <= since then return {} end
return redis.call('LRANGE', KEYS[1], since - n, -1)
"""


@dataclass(slots=True)
class Exchange:
    """One request's own turn: what the page has (`since`), the pressed button's label, and,
    once the turn is delivered, the page's new entries."""

    update_id: str
    since: int
    label: str | None = None
    entries: list[dict[str, Any]] | None = None


CURRENT: ContextVar[Exchange | None] = ContextVar("web_exchange", default=None)


def message_json(message: OutMessage) -> dict[str, Any]:
    """One bot message as the page draws it (text is shown as text, never as HTML)."""
    entry: dict[str, Any] = {"role": "bot", "text": message.text}
    if message.buttons:
        entry["buttons"] = [[{"label": b.label, "payload": b.payload} for b in row] for row in message.buttons]
    if message.suggestions:
        entry["suggestions"] = list(message.suggestions)
    view = getattr(message, "view", None)
    if view is not None:
        entry["view"] = view  # a dataclass of plain values and dates; orjson writes it as JSON
    return entry


def _parse(raw: Sequence[bytes], since: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in raw:
        number, _, body = bytes(item).partition(b"\t")
        n = int(number)
        if n > since:
            entry = orjson.loads(body)
            entry["seq"] = n
            out.append(entry)
    return out


class Transcript:
    """Reads and writes the per-conversation transcript."""

    def __init__(self, redis: Redis, keys: KeySpace, ttl: timedelta) -> None:
        self.redis = redis
        self.keys = keys
        self.ttl_ms = int(ttl.total_seconds() * 1000)
        self._append = redis.register_script(_APPEND)

    def _log(self, cid: str) -> str:
        return self.keys.conversation(cid, "wl")

    def _seq(self, cid: str) -> str:
        return self.keys.conversation(cid, "ws")

    async def append(self, cid: str, entries: Sequence[dict[str, Any]], since: int = -1, *,
                     clear: bool = False) -> list[dict[str, Any]]:
        """Append entries (each gets the next number); with `since` >= 0, return the entries after it.
        `clear` empties the page first, in the same step (numbers keep rising)."""
        args = [self.ttl_ms, MAX_ENTRIES, since, "c" if clear else "", *(orjson.dumps(e) for e in entries)]
        raw = await self._append(keys=[self._log(cid), self._seq(cid)], args=args)
        return _parse(raw, since)

    async def since(self, cid: str, seq: int) -> list[dict[str, Any]]:
        """Entries numbered above `seq`, oldest first, each with its "seq"."""
        return _parse(await self.redis.lrange(self._log(cid), 0, -1), seq)  # type: ignore[misc]

    async def clear(self, cid: str) -> None:
        """Forget what the page showed (the counter stays, so numbers keep rising)."""
        await self.redis.delete(self._log(cid))

    async def button_label(self, cid: str, payload: str) -> str | None:
        """The label of the latest button with `payload` the page showed."""
        for entry in reversed(await self.since(cid, 0)):
            for row in entry.get("buttons", ()):
                for button in row:
                    if button.get("payload") == payload:
                        return str(button.get("label"))
        return None


@dataclass(frozen=True, slots=True)
class TranscriptSink:
    """The conversation service's sink for the web: replies go into the transcript."""

    transcript: Transcript

    async def deliver(self, event: InEvent, messages: Sequence[OutMessage]) -> None:
        cid = event.conversation_id
        exchange = CURRENT.get()
        own = exchange if exchange is not None and exchange.update_id == event.update_id else None
        entries: list[dict[str, Any]] = []
        said = await self._user_words(cid, event, own)
        if said:
            entries.append({"role": "user", "text": said, "uid": event.update_id})
        for message in messages:
            entries.append({**message_json(message), "uid": event.update_id})
        new = await self.transcript.append(cid, entries, own.since if own else -1,
                                           clear=event.update_id.startswith(RESTART_PREFIX))
        if own is not None:
            own.entries = new

    async def _user_words(self, cid: str, event: InEvent, own: Exchange | None) -> str | None:
        if event.update_id.startswith(SYSTEM_PREFIX):
            return None
        if event.payload is not None:
            if own is not None and own.label:
                return own.label
            return await self.transcript.button_label(cid, event.payload) or event.payload
        return event.text
