"""What the page shows, kept in Redis so a reload (on any worker) shows the same conversation.

A conversation log of the store (flows.store.log) under the conversation's hash tag:
`...:{cid}:wl` LIST of "<seq>\t<entry JSON>" (the latest `MAX_ENTRIES`) and `...:{cid}:ws`
the sequence counter, so a page asks only for entries after the last one it has. The
entries of a turn (the user's words, the replies) are written by the store's commit
script, with the conversation's state (`TranscriptSink` hands them to the service as a
`LogReply`): a worker that dies or loses its lease before the commit writes nothing, the
one that takes over writes them once, and a reload never shows a reply twice or loses one.

A request that delivers its own turn (the usual case) gets the page's new entries back
from that same commit (`Exchange`): no Redis round trip of its own.
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
from flows.service import LogReply
from flows.store import ConversationLog, KeySpace, LogAppend, LogEntry, LogStore

MAX_ENTRIES = 200
SYSTEM_PREFIX = "sys-"  # update ids of events the page sends by itself (start, restart): no user bubble
RESTART_PREFIX = SYSTEM_PREFIX + "restart-"  # "重新开始": the page is emptied by the reply's own write
LOG = ConversationLog("wl", "ws", MAX_ENTRIES)


@dataclass(slots=True)
class Exchange:
    """One request's own turn: what the page has (`since`), the pressed button's label, and,
    once the turn is delivered, the page's new entries."""

    update_id: str
    since: int
    label: str | None = None
    entries: list[dict[str, Any]] | None = None

    def take(self, logged: list[LogEntry]) -> None:
        """The commit wrote the turn: these are the page's entries after `since`."""
        self.entries = _entries(logged)


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


def _entries(logged: Sequence[LogEntry]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in logged:
        entry = orjson.loads(item.data)
        entry["seq"] = item.seq
        out.append(entry)
    return out


class Transcript:
    """Reads and writes the per-conversation transcript."""

    def __init__(self, redis: Redis, keys: KeySpace, ttl: timedelta) -> None:
        self.logs = LogStore(redis, keys, ttl)

    @staticmethod
    def entries_to_append(entries: Sequence[dict[str, Any]], since: int = -1, *, clear: bool = False) -> LogAppend:
        """`entries` as the store writes them; `since` and `clear` as for `append`."""
        return LogAppend(LOG, tuple(orjson.dumps(e) for e in entries), since, clear)

    async def append(self, cid: str, entries: Sequence[dict[str, Any]], since: int = -1, *,
                     clear: bool = False) -> list[dict[str, Any]]:
        """Append entries on their own (each gets the next number); with `since` >= 0, return the
        entries after it. `clear` empties the page first, in the same step (numbers keep rising).
        A turn's entries are written by its commit instead (`TranscriptSink`)."""
        return _entries(await self.logs.append(cid, self.entries_to_append(entries, since, clear=clear)))

    async def since(self, cid: str, seq: int) -> list[dict[str, Any]]:
        """Entries numbered above `seq`, oldest first, each with its "seq"."""
        return _entries(await self.logs.since(cid, LOG, seq))

    async def clear(self, cid: str) -> None:
        """Forget what the page showed (the counter stays, so numbers keep rising)."""
        await self.logs.clear(cid, LOG)

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
    """The conversation service's sink for the web: a turn's entries, for its commit to write."""

    transcript: Transcript

    async def deliver(self, event: InEvent, messages: Sequence[OutMessage]) -> LogReply:
        cid = event.conversation_id
        exchange = CURRENT.get()
        own = exchange if exchange is not None and exchange.update_id == event.update_id else None
        entries: list[dict[str, Any]] = []
        said = await self._user_words(cid, event, own)
        if said:
            entries.append({"role": "user", "text": said, "uid": event.update_id})
        for message in messages:
            entries.append({**message_json(message), "uid": event.update_id})
        append = self.transcript.entries_to_append(entries, own.since if own else -1,
                                                   clear=event.update_id.startswith(RESTART_PREFIX))
        return LogReply(append, own.take if own else None)

    async def _user_words(self, cid: str, event: InEvent, own: Exchange | None) -> str | None:
        if event.update_id.startswith(SYSTEM_PREFIX):
            return None
        if event.payload is not None:
            if own is not None and own.label:
                return own.label
            return await self.transcript.button_label(cid, event.payload) or event.payload
        return event.text
