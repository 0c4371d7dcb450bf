"""Conversation logs: numbered entries kept with a conversation, written with its state.

An adapter whose "chat" is stored rather than sent (the web page's transcript) hands
the service a `LogAppend` for a turn's replies instead of sending them; the store's
commit script appends them in the same atomic step that applies the update, so the
replies and the state change land together, exactly once: a commit refused for a lost
lease writes nothing, and the drainer that takes over writes them once.

Two keys per log, under the conversation's hash tag (one slot on Redis Cluster):
`<prefix>:{<cid>}:<list_part>` LIST of "<seq>\\t<entry>" (the latest `keep`) and
`<prefix>:{<cid>}:<counter_part>` the last number given, so a reader asks only for the
entries after the last one it has. Entries are opaque bytes to the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flows.store.client import RedisClient
from flows.store.keys import KeySpace
from flows.store.lua import APPEND_LOG_LUA, LuaScript

# KEYS: list, counter. ARGV: ttl ms, then as for append_log.
_APPEND = APPEND_LOG_LUA + "return append_log(KEYS[1], KEYS[2], tonumber(ARGV[1]), 2)\n"


@dataclass(frozen=True, slots=True)
class ConversationLog:
    """Which log: the key parts of its list and counter, and how many entries it keeps."""

    list_part: str
    counter_part: str
    keep: int

    def keys(self, keyspace: KeySpace, cid: str) -> tuple[str, str]:
        """The list and counter keys of conversation `cid`."""
        return keyspace.conversation(cid, self.list_part), keyspace.conversation(cid, self.counter_part)


@dataclass(frozen=True, slots=True)
class LogAppend:
    """Entries to append to `log`; with `since` >= 0 the write returns the entries numbered above it
    (the new ones, and any written since by others); `clear` empties the log first."""

    log: ConversationLog
    entries: tuple[bytes, ...]
    since: int = -1
    clear: bool = False

    def args(self) -> tuple[Any, ...]:
        """The script arguments append_log reads (from its `first`)."""
        return (self.log.keep, self.since, b"c" if self.clear else b"", *self.entries)


@dataclass(frozen=True, slots=True)
class LogEntry:
    seq: int
    data: bytes


def parse_log(raw: Sequence[bytes] | None, since: int) -> list[LogEntry]:
    """Entries numbered above `since` from stored "<seq>\\t<entry>" items, oldest first."""
    out: list[LogEntry] = []
    for item in raw or ():
        number, _, data = bytes(item).partition(b"\t")
        if int(number) > since:
            out.append(LogEntry(int(number), data))
    return out


class LogStore:
    """Reads a conversation's log, and writes it outside a commit (tools, tests, notices)."""

    def __init__(self, redis: RedisClient, keys: KeySpace, ttl: timedelta) -> None:
        self.redis = redis
        self.keys = keys
        self.ttl_ms = int(ttl.total_seconds() * 1000)
        self._append = LuaScript(_APPEND)

    async def append(self, cid: str, append: LogAppend) -> list[LogEntry]:
        """Write `append` on its own; the entries above its `since` (none when negative)."""
        raw = await self._append(self.redis, append.log.keys(self.keys, cid), (self.ttl_ms, *append.args()))
        return parse_log(raw, append.since)

    async def since(self, cid: str, log: ConversationLog, seq: int) -> list[LogEntry]:
        """Entries numbered above `seq`, oldest first."""
        raw = await self.redis.lrange(log.keys(self.keys, cid)[0], 0, -1)  # type: ignore[misc]
        return parse_log(raw, seq)

    async def clear(self, cid: str, log: ConversationLog) -> None:
        """Empty the log (the counter stays, so numbers keep rising)."""
        await self.redis.delete(log.keys(self.keys, cid)[0])
