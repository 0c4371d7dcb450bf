"""ConversationStore: per-conversation mailbox, drain lease and versioned state in Redis.

How one update travels (round trips in brackets):
1. `submit` [1]: one script drops a repeated update id, queues the update in the
   conversation's inbox (ordered by numeric update id) and tries to take the drain
   lease (SET NX PX). The caller that gets the lease also gets the first waiting
   update and the state record in the same reply. The same script notes the
   conversation in a global pending-hint ZSET for `recover()` (on Redis Cluster that
   is a separate command, as a script may only touch one hash slot there).
2. The lease holder runs the dialog and calls `commit` [1]: one script checks lease
   token and version, writes the new state, marks the update seen, removes it from
   the inbox, refreshes TTLs and hands back the next waiting update - or, when the
   inbox is empty, releases the lease (and drops the pending hint) in the same atomic
   step, so an update queued concurrently either sees the lease free or is seen by the
   drainer. Nothing waits, sleeps or retries a lock.

A drainer that dies keeps its lease only until it expires; the next submit (or
`recover`) then drains. A stalled drainer whose lease expired meanwhile is refused
at commit (token and version no longer match) and must not deliver.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, Final

from redis.asyncio import Redis

from flows.store.keys import KeySpace
from flows.store.lua import CLEAR_HINT_SCRIPT, build_scripts
from flows.store.record import StoredRecord, pack_state, parse_record, unpack_state


class SubmitStatus(StrEnum):
    DUPLICATE = "duplicate"  # this update id was already processed or is waiting
    QUEUED = "queued"  # waiting in the inbox; another worker holds the lease and drains it
    LEASED = "leased"  # queued, and this caller holds the lease: it must drain


class AcquireStatus(StrEnum):
    EMPTY = "empty"  # nothing waiting
    BUSY = "busy"  # another worker holds the lease
    LEASED = "leased"  # this caller holds the lease now


class CommitStatus(StrEnum):
    COMMITTED = "committed"
    LOST_LEASE = "lost_lease"  # the lease expired and someone else may be draining
    STALE_VERSION = "stale_version"  # the record changed under this drainer


class Keep:
    """Marker for `commit`: leave the stored state as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = Keep()


@dataclass(frozen=True, slots=True)
class InboxItem:
    """One queued update. `payload` is None if it vanished (it then counts as processed)."""

    update_id: str
    payload: bytes | None


@dataclass(slots=True)
class Lease:
    """The right to drain one conversation, with what the drainer needs next.

    `state` is the stored record at `version`; `item` is the next update to process
    (None once the inbox is drained and the lease released). `commit` moves all three on.
    """

    conversation_id: str
    token: str
    version: int
    state: bytes | None
    item: InboxItem | None


@dataclass(frozen=True, slots=True)
class Submitted:
    status: SubmitStatus
    lease: Lease | None = None  # set when status is LEASED


@dataclass(frozen=True, slots=True)
class Acquired:
    status: AcquireStatus
    lease: Lease | None = None  # set when status is LEASED


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """Tunables. `ttl` is how long an idle conversation is remembered."""

    ttl: timedelta = timedelta(days=30)
    lease: timedelta = timedelta(seconds=30)  # > dialog step + sending the replies
    recent_ids: int = 8  # processed update ids remembered for de-duplication
    tombstone_ttl: timedelta = timedelta(days=1)  # after a conversation is forgotten
    hint_horizon: timedelta = timedelta(hours=1)  # pending hints older than this are trimmed
    cluster: bool = False  # Redis Cluster: keep the global pending hint out of the script


class ConversationStore:
    """Redis conversation store; see the module docstring for the protocol."""

    def __init__(self, redis: Redis, keys: KeySpace | None = None, config: StoreConfig | None = None):
        if redis.get_encoder().decode_responses:
            raise ValueError(
                "ConversationStore needs a client with decode_responses=False: records are binary"
            )
        self.redis = redis
        self.keys = keys or KeySpace()
        self.config = config or StoreConfig()
        ttl_ms = _ms(self.config.ttl)
        self._lease_ms = _ms(self.config.lease)
        self._hint_ms = _ms(self.config.hint_horizon)
        self._scripts = build_scripts(
            ttl_ms=ttl_ms,
            lease_ms=self._lease_ms,
            keep_ids=self.config.recent_ids,
            tombstone_ms=min(_ms(self.config.tombstone_ttl), ttl_ms),
            hint_ms=self._hint_ms,
        )

    async def submit(self, cid: str, update_id: str, payload: bytes) -> Submitted:
        """Queue an update (already redacted) unless its id was seen; try to take the lease.

        `update_id` must contain no whitespace (see `normalise_update_id`). Numeric ids
        are drained in numeric order, others in arrival order.
        """
        token = _token()
        now = _now_ms()
        st, inbox, payloads, lease = self.keys.all_of(cid)[:4]
        if self.config.cluster:
            reply = await self._scripts.submit(
                self.redis, (st, inbox, payloads, lease), (update_id, payload, token)
            )
            # Another hash slot: separate, best-effort commands (one more round trip).
            pipe = self.redis.pipeline(transaction=False)
            pipe.zadd(self.keys.pending, {cid: now})
            pipe.zremrangebyscore(self.keys.pending, "-inf", now - self._hint_ms)
            await pipe.execute()
        else:
            keys = (st, inbox, payloads, lease, self.keys.pending)
            reply = await self._scripts.submit(self.redis, keys, (update_id, payload, token, now, cid))
        code = int(reply[0])
        if code == 0:
            return Submitted(SubmitStatus.DUPLICATE)
        if code == 1:
            return Submitted(SubmitStatus.QUEUED)
        if len(reply) == 4:  # the first waiting update is the caller's own: payload not echoed
            reply = [*reply, payload]
        return Submitted(SubmitStatus.LEASED, _lease_from(cid, token, reply))

    async def acquire(self, cid: str) -> Acquired:
        """Take the lease of a conversation that has waiting updates (for `recover`)."""
        token = _token()
        reply = await self._scripts.acquire(self.redis, self.keys.all_of(cid)[:4], (token,))
        code = int(reply[0])
        if code == 0:
            return Acquired(AcquireStatus.EMPTY)
        if code == 1:
            return Acquired(AcquireStatus.BUSY)
        return Acquired(AcquireStatus.LEASED, _lease_from(cid, token, reply))

    async def commit(self, lease: Lease, state: bytes | Keep | None) -> CommitStatus:
        """Apply the outcome of `lease.item` and move `lease` on to the next update.

        `state` is the new record, None to forget the conversation, or KEEP. On success
        `lease.item` becomes the next waiting update, or None when the lease was released.
        """
        if lease.item is None:
            raise ValueError("nothing to commit: the lease has no current item")
        if isinstance(state, Keep):
            change = b"k"
        elif state is None:
            change = b"x"
        else:
            change = b"w" + pack_state(state)
        cid = lease.conversation_id
        keys: tuple[str, ...] = self.keys.all_of(cid)
        args: tuple[Any, ...] = (lease.token, lease.version, lease.item.update_id, change)
        if not self.config.cluster:
            keys, args = (*keys, self.keys.pending), (*args, cid)
        reply = await self._scripts.commit(self.redis, keys, args)
        code = int(reply[0])
        if code == -1:
            return CommitStatus.LOST_LEASE
        if code == -2:
            return CommitStatus.STALE_VERSION
        lease.version = int(reply[1])
        if not isinstance(state, Keep):
            lease.state = state
        lease.item = InboxItem(_str(reply[2]), _bytes_or_none(reply[3])) if code == 1 else None
        return CommitStatus.COMMITTED

    async def read(self, cid: str) -> StoredRecord:
        """The stored record: state JSON (None if absent), version, recently processed ids."""
        return parse_record(_bytes_or_none(await self.redis.get(self.keys.state(cid))))

    async def existing_keys(self, cid: str) -> list[str]:
        """Those of the conversation's keys that exist now."""
        names = self.keys.all_of(cid)
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.exists(name)
        found = await pipe.execute()
        return [name for name, hit in zip(names, found, strict=True) if hit]

    async def stale_pending(self, limit: int = 100) -> list[tuple[str, float]]:
        """Conversations submitted to at least one lease period ago: (cid, hint score)."""
        cutoff = _now_ms() - self._lease_ms
        rows = await self.redis.zrangebyscore(
            self.keys.pending, "-inf", cutoff, start=0, num=limit, withscores=True
        )
        return [(_str(row[0]), float(row[1])) for row in rows]

    async def clear_hint(self, cid: str, score: float) -> bool:
        """Drop the pending hint of `cid` unless a newer submit re-set it."""
        return bool(await CLEAR_HINT_SCRIPT(self.redis, (self.keys.pending,), (cid, score)))


def _lease_from(cid: str, token: str, reply: list[Any]) -> Lease:
    item = InboxItem(_str(reply[3]), _bytes_or_none(reply[4])) if reply[3] is not None else None
    return Lease(cid, token, int(reply[1]), unpack_state(_bytes_or_none(reply[2])), item)


def _token() -> str:
    return secrets.token_hex(8)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _ms(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)


def _str(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _bytes_or_none(value: bytes | str | None) -> bytes | None:
    if value is None:
        return None
    return value.encode() if isinstance(value, str) else value
