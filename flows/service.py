"""ConversationService: takes platform-neutral updates through the dialog, exactly once, in order.

`submit` redacts personal numbers from the event, queues it in the conversation's
Redis mailbox and, if this caller obtains the conversation's drain lease, drains the
mailbox: for every waiting update it runs the (pure) dialog, hands the replies to the
`Sink`, commits the new state atomically, then carries out the turn's effects.
A caller that does not obtain the lease returns at once; the lease holder - maybe in
another worker process - answers its update, in update-id order.

Guarantees: an update's state change is applied exactly once (lease token and
version are checked in the commit script) and, unless Redis loses data, eventually
(a dead drainer's lease expires and the next submit or `recover` continues).
Replies go out before the commit, while the lease is held, so replies to one
conversation are sent strictly in the order the updates are applied, even across
workers. The price: a drainer that stalls past its lease (or dies between sending and
committing) has its update processed again by the next drainer, so that reply is sent
twice; state and effects still apply once. A sink that keeps its chat with the conversation
(a web page's transcript) returns the replies as a `LogReply` instead, and the commit
writes them with the state: they too land exactly once. Effects (Redis writes) run after
the commit.

Faults: the lease is short and renewed while a turn takes long, so a dead drainer
holds its conversation up for about 1.6 s: a worker that queued an update behind it
takes over when the lease runs out, as does the next submit, and `recover` (run
every half second by the workers) catches the rest. Past the store's flood limit a
conversation gets one notice (unless its adapter refuses such updates itself) and its
further updates are dropped until the window passes; /cancel and /stop are never limited
and jump the queue. `close` stops draining gracefully.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from flows.lease_keeper import LeaseKeeper, release_shielded
from flows.messages import InEvent, OutMessage
from flows.pii import redact
from flows.referrals import Referrals, person_of
from flows.reminders_actions import ReminderActions
from flows.reminders_store import ReminderStore
from flows.reminders_time import Clock, china_today, real_clock
from flows.sinks import CollectingSink, LogReply, Sink
from flows.state import ConversationState
from flows.storable import jumps_queue, storable
from flows.store import (
    KEEP,
    AcquireStatus,
    CommitStatus,
    ConversationStore,
    Keep,
    Lease,
    LogEntry,
    SubmitStatus,
    decode_event,
    encode_event,
    normalise_update_id,
)
from flows.turn import CancelReminders, CountReferral, Dialog, Effect, ScheduleReminder, Turn

__all__ = [
    "APOLOGY",
    "FLOOD_NOTICE",
    "CollectingSink",
    "ConversationService",
    "LogReply",
    "Sink",
    "SubmitOutcome",
    "SubmitResult",
]

log = logging.getLogger(__name__)

_FRESH_STATE = ConversationState().dumps()
APOLOGY = "抱歉，处理您的消息时出了点问题，请再发一次，或拨打12393咨询。"
FLOOD_NOTICE = "您发消息太快了，请稍等片刻再发；这段时间里新发的消息我先不处理。发 /cancel 可以重新开始。"
_WATCH_MARGIN = 0.02  # seconds after a lease's expiry before trying to take over


class SubmitOutcome(StrEnum):
    DUPLICATE = "duplicate"  # the update id was seen before: nothing happens
    QUEUED = "queued"  # another worker is draining this conversation and will answer
    PROCESSED = "processed"  # this call drained the conversation (see `processed`)
    THROTTLED = "throttled"  # over the flood limit: dropped (the first one got a notice)


@dataclass(frozen=True, slots=True)
class SubmitResult:
    outcome: SubmitOutcome
    processed: int = 0  # updates this call took through the dialog (its own and others')
    retry_after: float = 0.0  # THROTTLED: seconds until the flood window ends


@dataclass(slots=True)
class _Capture:
    """Replies to one update, taken aside for `handle` instead of going to the sink."""

    cid: str
    update_id: str
    messages: list[OutMessage]


class ConversationService:
    """The conversation core's I/O shell around a pure `Dialog`."""

    def __init__(
        self,
        store: ConversationStore,
        dialog: Dialog,
        sink: Sink,
        clock: Callable[[], date] = china_today,
        reminders: ReminderStore | None = None,
        reminder_clock: Clock = real_clock,
        flood_notice: str | None = FLOOD_NOTICE,
    ):
        """`flood_notice` is said (once per window) to a conversation past the store's flood
        limit; None for an adapter that refuses such updates itself (the web page: HTTP 429)."""
        self.store = store
        self.dialog = dialog
        self.sink = sink
        self.clock = clock
        self.flood_notice = flood_notice
        # ReminderStore is typed for one server; it only uses commands both clients have.
        self.reminders = reminders or ReminderStore(store.redis, store.keys, store.config.ttl)  # type: ignore[arg-type]
        self._closing = False
        self._draining: set[asyncio.Task[object]] = set()
        self._active: set[str] = set()  # conversations this process is draining
        # Conversations this process queued updates in behind another worker's lease:
        # checked again when that lease runs out (see `_watch`).
        self._watched: dict[str, asyncio.TimerHandle] = {}
        self._watching: set[asyncio.Task[None]] = set()
        self.reminder_actions = ReminderActions(self.reminders, reminder_clock)

    async def submit(self, event: InEvent) -> SubmitResult:
        """Queue `event` and, if this caller gets the conversation's lease, drain it.

        Redis errors propagate (the platform may then redeliver, which is safe);
        everything the dialog or the sink does wrong is logged and answered politely.
        """
        return await self._submit(event, None)

    async def handle(self, event: InEvent) -> list[OutMessage]:
        """Submit `event` and return the replies to it instead of sending them to the sink.

        Replies to other updates drained in the same call still go to the sink. Returns
        [] for a duplicate, or when another worker drains this conversation.
        """
        capture = _Capture(event.conversation_id, normalise_update_id(event.update_id), [])
        await self._submit(event, capture)
        return capture.messages

    async def recover(self, limit: int = 100) -> int:
        """Drain conversations whose updates wait with no live drainer; returns updates processed.

        Run it periodically (every lease period or so). It only looks at conversations
        last submitted to at least one lease period ago.
        """
        total = 0
        for cid, score in await self.store.stale_pending(limit):
            if cid in self._active:
                continue  # this process drains it right now (perhaps slowly): leave it be
            acquired = await self.store.acquire(cid)
            if acquired.status is AcquireStatus.BUSY:
                continue  # a live drainer, or a dead one whose lease has not expired yet
            if acquired.lease is not None:
                total += await self._drain(acquired.lease, None, None)
            await self.store.clear_hint(cid, score)
        return total

    async def close(self, grace: float = 3.0) -> None:
        """Stop draining: each running drain finishes its current turn and gives its lease
        back; one still busy after `grace` seconds is cancelled (its lease is released,
        its update stays queued). Updates submitted from now on are queued, not drained:
        another worker's `recover` (or this one's after a restart) answers them."""
        self._closing = True
        for timer in self._watched.values():
            timer.cancel()
        self._watched.clear()
        for watch in self._watching:
            watch.cancel()
        running = list(self._draining)
        if not running:
            return
        _done, late = await asyncio.wait(running, timeout=grace)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=grace)

    async def _submit(self, event: InEvent, capture: _Capture | None) -> SubmitResult:
        clean = storable(event)
        jump = jumps_queue(clean)
        cid = clean.conversation_id
        submitted = await self.store.submit(cid, clean.update_id, encode_event(clean), jump=jump)
        status = submitted.status
        if status is SubmitStatus.DUPLICATE:
            return SubmitResult(SubmitOutcome.DUPLICATE)
        if status is SubmitStatus.FLOODED or status is SubmitStatus.DROPPED:
            if status is SubmitStatus.FLOODED and self.flood_notice:
                reply = await self._deliver(clean, [OutMessage(self.flood_notice)], capture)
                if reply is not None:  # no commit to write it with: on its own
                    self._written(clean, reply, await self.store.logs.append(cid, reply.append))
            return SubmitResult(SubmitOutcome.THROTTLED, retry_after=submitted.retry_after)
        if submitted.lease is None:
            self._watch(cid, submitted.lease_left)
            return SubmitResult(SubmitOutcome.QUEUED)
        return SubmitResult(SubmitOutcome.PROCESSED, await self._drain(submitted.lease, capture, clean))

    def _watch(self, cid: str, after: float) -> None:
        """Try to take `cid` over once its holder's lease runs out (unless renewed by then).

        A holder that died is thus replaced as soon as its lease expires, not at the next
        `recover` pass; a live holder renews, and the check is simply repeated. One timer
        per conversation with updates waiting behind another worker."""
        if cid in self._watched or self._closing:
            return
        loop = asyncio.get_running_loop()
        self._watched[cid] = loop.call_later(after + _WATCH_MARGIN, self._watch_fired, cid)

    def _watch_fired(self, cid: str) -> None:
        self._watched.pop(cid, None)
        task = asyncio.get_running_loop().create_task(self._take_over(cid))
        self._watching.add(task)
        task.add_done_callback(self._watching.discard)

    async def _take_over(self, cid: str) -> None:
        if cid in self._active or self._closing:
            return  # this process drains it already (or is stopping)
        try:
            acquired = await self.store.acquire(cid)
            if acquired.status is AcquireStatus.BUSY:
                self._watch(cid, acquired.lease_left)
            elif acquired.lease is not None:
                await self._drain(acquired.lease, None, None)
        except Exception as exc:  # Redis away: `recover` will do it later
            log.warning("taking over %s failed: %s", cid, redact(repr(exc)))

    async def _drain(self, lease: Lease, capture: _Capture | None, own: InEvent | None) -> int:
        """Process waiting updates until the inbox is empty, the lease is lost or the service closes."""
        task = asyncio.current_task()
        if task is not None:
            self._draining.add(task)
        keeper = LeaseKeeper(self.store, lease)
        self._active.add(lease.conversation_id)
        try:
            return await self._drain_leased(lease, capture, own)
        except asyncio.CancelledError:
            await release_shielded(self.store.release(lease))
            raise
        finally:
            keeper.stop()
            self._active.discard(lease.conversation_id)
            if task is not None:
                self._draining.discard(task)

    async def _drain_leased(self, lease: Lease, capture: _Capture | None, own: InEvent | None) -> int:
        processed = 0
        while lease.item is not None:
            if self._closing:
                await self.store.release(lease)  # what still waits goes to another drainer
                break
            update_id = lease.item.update_id
            event, turn, state = self._step(lease, own)
            if event is not None and turn.effects:  # reminders: done before the reply confirms them
                turn = await self.reminder_actions.resolve(event, turn)
            # Deliver while still holding the lease: no other worker can answer a later
            # update of this conversation before this reply has gone out. A sink that keeps
            # its chat with the conversation has the commit write the replies, with the state.
            reply = None
            if event is not None and turn.messages:
                reply = await self._deliver(event, turn.messages, capture)
            status = await self.store.commit(lease, state, reply.append if reply else None)
            if status is not CommitStatus.COMMITTED:
                # Our lease expired and another worker took over; it continues from here.
                log.warning("drain of %s stopped at update %s: %s", lease.conversation_id, update_id, status)
                break
            processed += 1
            if event is not None and reply is not None:
                self._written(event, reply, lease.logged)
            if turn.effects:
                await self._apply(lease.conversation_id, turn.effects)
        return processed

    def _step(self, lease: Lease, own: InEvent | None) -> tuple[InEvent | None, Turn, bytes | Keep | None]:
        """Run the dialog on the lease's current item: (event, turn, what to store).

        `own` is the caller's own (redacted) event, used as is instead of decoding it."""
        item = lease.item
        assert item is not None
        if own is not None and item.update_id == own.update_id:
            event = own
        elif item.payload is None:
            log.warning("update %s of %s lost its payload", item.update_id, lease.conversation_id)
            return None, Turn(state=None), KEEP
        else:
            try:
                event = decode_event(item.payload)
            except (ValueError, TypeError, KeyError):
                log.warning("unreadable payload for %s; skipped", lease.conversation_id)
                return None, Turn(state=None), KEEP
        try:
            # Parse afresh each turn: a failed step may have mutated its state object.
            turn = self.dialog.step(ConversationState.loads(lease.state), event, self.clock())
            data = turn.state.dumps() if turn.state is not None else None
        except Exception as exc:
            # The event was redacted before the dialog saw it; redact the trace anyway.
            log.error(
                "dialog failed on %s update %s: %s",
                lease.conversation_id,
                item.update_id,
                redact("".join(traceback.format_exception(exc))),
            )
            return event, Turn(state=None, messages=[OutMessage(APOLOGY)]), KEEP
        if data is None:
            return event, turn, None
        # A turn that changes nothing (e.g. a group's own talk) writes nothing, not even a fresh record.
        unchanged = lease.state if lease.state is not None else _FRESH_STATE
        return event, turn, KEEP if data == unchanged else data

    async def _deliver(
        self, event: InEvent, messages: list[OutMessage], capture: _Capture | None
    ) -> LogReply | None:
        if capture and event.update_id == capture.update_id and event.conversation_id == capture.cid:
            capture.messages.extend(messages)
            return None
        try:
            return await self.sink.deliver(event, messages)
        except Exception as exc:
            # The state is committed; a failed send must not undo it or stop the drain.
            log.error(
                "sink failed for %s update %s: %s", event.conversation_id, event.update_id, redact(repr(exc))
            )
            return None

    @staticmethod
    def _written(event: InEvent, reply: LogReply, entries: list[LogEntry]) -> None:
        if reply.written is None:
            return
        try:
            reply.written(entries)
        except Exception as exc:  # the turn is committed; the adapter's failure must not stop the drain
            log.error("log reader failed for %s: %s", event.conversation_id, redact(repr(exc)))

    async def _apply(self, cid: str, effects: Sequence[Effect]) -> None:
        for effect in effects:
            try:
                if isinstance(effect, CountReferral):
                    await Referrals(self.store.redis, self.store.keys).count(effect.source, person_of(cid))
                elif isinstance(effect, ScheduleReminder):
                    await self.reminders.schedule(cid, effect)
                elif isinstance(effect, CancelReminders):
                    await self.reminders.cancel_all(cid)
            except Exception as exc:  # the turn is committed; a failed effect must not undo it
                log.error("effect %s of %s failed: %s", type(effect).__name__, cid, redact(repr(exc)))
