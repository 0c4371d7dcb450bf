"""ConversationStore: per-conversation mailbox, drain lease and versioned state in Redis.

How one update travels (round trips in brackets):
1. `submit` [1]: one script drops an update id already applied (see flows.store.lua
   for the rule), counts the update against the conversation's flood limit, queues
   it in the conversation's inbox (ordered by numeric update id; /cancel-like
   commands jump ahead) and tries to take the drain lease (SET NX PX). The caller
   that gets the lease also gets the first waiting update and the state record in the
   same reply. A redelivery of an update that still waits takes the lease if its
   drainer is gone. The same script notes the conversation in a global pending-hint
   ZSET for `recover()` (on Redis Cluster that is a separate command, as a script may
   only touch one hash slot there).
2. The lease holder runs the dialog and calls `commit` [1]: one script checks lease
   token and version, writes the new state, marks the update seen, removes it from
   the inbox, refreshes TTLs and hands back the next waiting update - or, when the
   inbox is empty, releases the lease (and drops the pending hint) in the same atomic
   step, so an update queued concurrently either sees the lease free or is seen by the
   drainer. Nothing waits, sleeps or retries a lock. An adapter whose replies are
   kept with the conversation (a web page's transcript) has them written by the same
   script (flows.store.log).

The lease is short (1.6 s) and renewed by its holder during a long turn (`renew`), so a
drainer that dies holds up its conversation for about that long: the next submit,
a redelivery, or `recover` then drains. A stalled drainer whose lease expired and was
taken by another is refused at commit (token or version no longer match); if nobody
took it, its commit still stands.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any, Final

from flows.store.client import RedisClient, is_cluster
from flows.store.keys import KeySpace
from flows.store.log import LogAppend, LogEntry, LogStore, parse_log
from flows.store.lua import CLEAR_HINT_SCRIPT, build_scripts
from flows.store.record import StoredRecord, pack_state, parse_record, unpack_state


class SubmitStatus(StrEnum):
    DUPLICATE = "duplicate"  # this update id was already processed or is waiting
    QUEUED = "queued"  # waiting in the inbox; another worker holds the lease and drains it
    LEASED = "leased"  # queued, and this caller holds the lease: it must drain
    FLOODED = "flooded"  # over the flood limit: not queued; tell the user (once per window)
    DROPPED = "dropped"  # over the flood limit again: not queued, nothing to say


class AcquireStatus(StrEnum):
    EMPTY = "empty"  # nothing waiting
    BUSY = "busy"  # another worker holds the lease
    LEASED = "leased"  # this caller holds the lease now


class CommitStatus(StrEnum):
    COMMITTED = "committed"
    LOST_LEASE = "lost_lease"  # the lease expired and another drainer took it
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
    logged: list[LogEntry] = field(default_factory=list)  # see `commit`


@dataclass(frozen=True, slots=True)
class Submitted:
    status: SubmitStatus
    lease: Lease | None = None  # set when status is LEASED
    lease_left: float = 0.0  # QUEUED: seconds the holder's lease has left (unless renewed)
    retry_after: float = 0.0  # FLOODED, DROPPED: seconds until the flood window ends


@dataclass(frozen=True, slots=True)
class Acquired:
    status: AcquireStatus
    lease: Lease | None = None  # set when status is LEASED
    lease_left: float = 0.0  # BUSY: seconds the holder's lease has left (unless renewed)


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """Tunables. `ttl` is how long an idle conversation is remembered."""

    ttl: timedelta = timedelta(days=30)
    # Short, and renewed every eighth of it by a drainer that is still working: a dead
    # drainer holds its conversation up for about this long, and a live one whose event
    # loop stalls for up to seven eighths of it (a loaded machine) keeps it.
    lease: timedelta = timedelta(milliseconds=1600)
    # Applied update ids are listed for one to two `seen_window`s, then only the floor
    # remembers them (see flows.store.lua). `recent_ids` bounds the list in any case; the
    # flood limit keeps a conversation far below it, and a header at the bound (about
    # 3 KB) shrinks back at the next commit two windows later.
    seen_window: timedelta = timedelta(seconds=60)
    recent_ids: int = 256
    tombstone_ttl: timedelta = timedelta(days=1)  # after a conversation is forgotten
    hint_horizon: timedelta = timedelta(hours=1)  # pending hints older than this are trimmed
    recover_after: timedelta = timedelta(milliseconds=250)  # `recover` leaves younger hints alone
    flood_limit: int = 20  # updates per conversation and window; past it one notice, then drops (0: off)
    flood_window: timedelta = timedelta(seconds=30)
    cluster: bool = False  # force Redis Cluster handling (a RedisCluster client implies it)


class ConversationStore:
    """Redis conversation store; see the module docstring for the protocol."""

    def __init__(self, redis: RedisClient, keys: KeySpace | None = None, config: StoreConfig | None = None):
        if redis.get_encoder().decode_responses:
            raise ValueError(
                "ConversationStore needs a client with decode_responses=False: records are binary"
            )
        self.redis = redis
        self.keys = keys or KeySpace()
        self.config = config or StoreConfig()
        self.cluster = self.config.cluster or is_cluster(redis)
        self.logs = LogStore(redis, self.keys, self.config.ttl)  # conversation logs, outside a commit
        ttl_ms = _ms(self.config.ttl)
        self._lease_ms = _ms(self.config.lease)
        self._hint_ms = _ms(self.config.hint_horizon)
        self._scripts = build_scripts(
            ttl_ms=ttl_ms,
            lease_ms=self._lease_ms,
            keep_ids=self.config.recent_ids,
            seen_s=max(1, int(self.config.seen_window.total_seconds())),
            tombstone_ms=min(_ms(self.config.tombstone_ttl), ttl_ms),
            flood_max=self.config.flood_limit,
            flood_ms=_ms(self.config.flood_window),
        )

    @property
    def renew_every(self) -> float:
        """Seconds between lease renewals of a drainer still at work (an eighth of the lease)."""
        return self._lease_ms / 8000

    async def submit(self, cid: str, update_id: str, payload: bytes, *, jump: bool = False) -> Submitted:
        """Queue an update (already redacted) unless its id was seen; try to take the lease.

        `update_id` must contain no whitespace (see `normalise_update_id`). Numeric ids
        are drained in numeric order, others in arrival order; `jump` puts the update
        first in line and exempts it from the flood limit (/cancel, /stop).
        """
        token = _token()
        now = _now_ms()
        keys: tuple[str, ...] = self.keys.all_of(cid)[:5]
        args: tuple[Any, ...] = (update_id, payload, token, b"p" if jump else b"")
        if self.cluster:
            reply = await self._scripts.submit(self.redis, keys, args)
            if int(reply[0]) in (1, 2):
                # Another hash slot: a separate command (one more round trip); `recover` trims.
                await self.redis.zadd(self.keys.pending, {cid: now})
        else:
            reply = await self._scripts.submit(self.redis, (*keys, self.keys.pending), (*args, now, cid))
        code = int(reply[0])
        if code == 0:
            return Submitted(SubmitStatus.DUPLICATE)
        if code == 1:
            return Submitted(SubmitStatus.QUEUED, lease_left=_left(reply))
        if code == 3:
            return Submitted(SubmitStatus.FLOODED, retry_after=_left(reply))
        if code == 4:
            return Submitted(SubmitStatus.DROPPED, retry_after=_left(reply))
        if len(reply) == 4:  # the first waiting update is the caller's own: payload not echoed
            reply = [*reply, payload]
        return Submitted(SubmitStatus.LEASED, _lease_from(cid, token, reply))

    async def acquire(self, cid: str) -> Acquired:
        """Take the lease of a conversation that has waiting updates (for `recover`)."""
        token = _token()
        reply = await self._scripts.acquire(self.redis, self.keys.all_of(cid)[:5], (token,))
        code = int(reply[0])
        if code == 0:
            return Acquired(AcquireStatus.EMPTY)
        if code == 1:
            return Acquired(AcquireStatus.BUSY, lease_left=_left(reply))
        return Acquired(AcquireStatus.LEASED, _lease_from(cid, token, reply))

    async def commit(self, lease: Lease, state: bytes | Keep | None, log: LogAppend | None = None) -> CommitStatus:
        """Apply the outcome of `lease.item` and move `lease` on to the next update.

        `state` is the new record, None to forget the conversation, or KEEP; `log`, the
        turn's entries for a conversation log, written in the same step (flows.store.log).
        On success `lease.item` becomes the next waiting update, or None when the lease
        was released, and `lease.logged` the log's entries after `log.since`.
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
        args: tuple[Any, ...] = (lease.token, lease.version, lease.item.update_id, change, int(time.time()),
                                 "" if self.cluster else cid)
        if log is not None:
            keys, args = (*keys, *log.log.keys(self.keys, cid)), (*args, *log.args())
        if not self.cluster:
            keys = (*keys, self.keys.pending)
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
        at = 4 if code == 1 else 2  # where the log's entries are, when a log was written
        lease.logged = parse_log(reply[at] if len(reply) > at else None, log.since) if log is not None else []
        return CommitStatus.COMMITTED

    async def renew(self, lease: Lease) -> bool:
        """Extend `lease` by another lease period; False when it was lost already."""
        lkey = self.keys.lease(lease.conversation_id)
        return bool(await self._scripts.renew(self.redis, (lkey,), (lease.token,)))

    async def release(self, lease: Lease) -> bool:
        """Give `lease` up (its waiting updates stay for the next drainer); False if not held."""
        lkey = self.keys.lease(lease.conversation_id)
        lease.item = None
        return bool(await self._scripts.release(self.redis, (lkey,), (lease.token,)))

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
        """Conversations last submitted to at least `recover_after` ago: (cid, hint score)."""
        now = _now_ms()
        cutoff = now - _ms(self.config.recover_after)
        # Hints left by drainers that died for good: trimmed here, off the hot path.
        await self.redis.zremrangebyscore(self.keys.pending, "-inf", now - self._hint_ms)
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


def _left(reply: list[Any]) -> float:
    """Seconds a key (lease, flood counter) has left, from a {code, pttl} reply (0 if it just expired)."""
    return max(0, int(reply[1])) / 1000 if len(reply) > 1 else 0.0


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
