"""ConversationService against real Redis with a deterministic test dialog (tests.conftest.ListDialog)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta

import pytest
from redis.asyncio import Redis

from flows.messages import InEvent, OutMessage
from flows.reminders import Kind
from flows.reminders_store import ReminderStore
from flows.reminders_time import morning_of
from flows.service import (
    APOLOGY,
    FLOOD_NOTICE,
    CollectingSink,
    ConversationService,
    LogReply,
    SubmitOutcome,
    SubmitResult,
)
from flows.state import ConversationState
from flows.store import (
    ConversationLog,
    ConversationStore,
    KeySpace,
    LogAppend,
    LogEntry,
    StoreConfig,
    encode_event,
)
from flows.turn import CountReferral, ScheduleReminder, Turn
from tests.conftest import ListDialog, make_event

TODAY = date(2026, 3, 1)
CID = make_event(1).conversation_id


def _service(
    redis: Redis, keyspace: KeySpace, sink: CollectingSink | None = None, config: StoreConfig | None = None
) -> tuple[ConversationService, CollectingSink]:
    sink = sink or CollectingSink()
    store = ConversationStore(redis, keyspace, config)
    return ConversationService(store, ListDialog(), sink, clock=lambda: TODAY), sink


def _texts(sink: CollectingSink) -> list[str]:
    return [m.text for _, messages in sink.delivered for m in messages]


async def _seen(service: ConversationService, cid: str = CID) -> list[str]:
    record = await service.store.read(cid)
    return list(ConversationState.loads(record.state).slots.get("seen", []))


async def test_submit_runs_the_dialog_commits_and_delivers(redis: Redis, keyspace: KeySpace) -> None:
    service, sink = _service(redis, keyspace)
    assert await service.submit(make_event(1, "你好")) == SubmitResult(SubmitOutcome.PROCESSED, 1)
    assert await service.submit(make_event(2, "断缴三个月")) == SubmitResult(SubmitOutcome.PROCESSED, 1)
    assert _texts(sink) == ["got 你好", "got 断缴三个月"]
    assert sink.delivered[0][0] == make_event(1, "你好")
    assert await _seen(service) == ["你好", "断缴三个月"]


async def test_group_users_and_topics_have_their_own_conversations(redis: Redis, keyspace: KeySpace) -> None:
    service, _ = _service(redis, keyspace)
    alice = make_event(1, "a", user="1", chat="-100")
    bob = make_event(2, "b", user="2", chat="-100")
    topic = InEvent("telegram", "bot1", "-100", "1", alice.chat_kind, "3", text="t", thread_id="9")
    for event in (alice, bob, topic):
        await service.submit(event)
    assert len({alice.conversation_id, bob.conversation_id, topic.conversation_id}) == 3
    assert await _seen(service, alice.conversation_id) == ["a"]
    assert await _seen(service, bob.conversation_id) == ["b"]
    assert await _seen(service, topic.conversation_id) == ["t"]


async def test_repeated_update_is_answered_once(redis: Redis, keyspace: KeySpace) -> None:
    service, sink = _service(redis, keyspace)
    results = await asyncio.gather(*(service.submit(make_event(5, "同一条")) for _ in range(5)))
    assert sorted(r.outcome for r in results).count(SubmitOutcome.DUPLICATE) == 4
    assert (await service.submit(make_event(5, "同一条"))).outcome is SubmitOutcome.DUPLICATE
    assert _texts(sink) == ["got 同一条"]
    assert await _seen(service) == ["同一条"]


async def test_concurrent_updates_in_one_process_are_each_applied_once(
    redis: Redis, keyspace: KeySpace
) -> None:
    # Concurrent submits have no order among themselves (the first to reach Redis
    # drains); what must hold is exactly-once, and replies in the order applied.
    service, sink = _service(redis, keyspace)
    results = await asyncio.gather(*(service.submit(make_event(i, f"m{i}")) for i in range(1, 21)))
    assert sum(r.processed for r in results) == 20
    assert [r.outcome for r in results].count(SubmitOutcome.PROCESSED) >= 1
    seen = await _seen(service)
    assert sorted(seen) == sorted(f"m{i}" for i in range(1, 21))
    assert _texts(sink) == [f"got {text}" for text in seen]


async def test_dialog_error_is_answered_with_an_apology_and_changes_nothing(
    redis: Redis, keyspace: KeySpace, caplog: pytest.LogCaptureFixture
) -> None:
    service, sink = _service(redis, keyspace)
    await service.submit(make_event(1, "before"))
    version = (await service.store.read(CID)).version
    boom = InEvent(
        "telegram", "bot1", "42", "42", make_event(1).chat_kind, "2", text="boom", user_name="张三13812345678"
    )
    with caplog.at_level(logging.ERROR, logger="flows.service"):
        assert await service.submit(boom) == SubmitResult(SubmitOutcome.PROCESSED, 1)
    assert _texts(sink) == ["got before", APOLOGY]
    record = await service.store.read(CID)
    assert await _seen(service) == ["before"]  # the half-done mutation was not stored
    assert record.version == version + 1 and "2" in record.recent_ids
    assert (await service.submit(boom)).outcome is SubmitOutcome.DUPLICATE
    assert "RuntimeError" in caplog.text and "13812345678" not in caplog.text
    await service.submit(make_event(3, "after"))
    assert await _seen(service) == ["before", "after"]


async def test_state_the_dialog_cannot_serialise_is_an_error_too(redis: Redis, keyspace: KeySpace) -> None:
    service, sink = _service(redis, keyspace)
    await service.submit(make_event(1, "a"))
    assert await service.submit(make_event(2, "unstorable")) == SubmitResult(SubmitOutcome.PROCESSED, 1)
    assert _texts(sink) == ["got a", APOLOGY]
    assert await _seen(service) == ["a"]
    assert await redis.exists(keyspace.lease(CID)) == 0  # nothing left stuck


class _FailingSink(CollectingSink):
    async def deliver(self, event: InEvent, messages: Sequence[OutMessage]) -> None:
        await super().deliver(event, messages)
        raise ConnectionError("telegram is down")


async def test_sink_failure_keeps_the_committed_state(
    redis: Redis, keyspace: KeySpace, caplog: pytest.LogCaptureFixture
) -> None:
    service, sink = _service(redis, keyspace, _FailingSink())
    with caplog.at_level(logging.ERROR, logger="flows.service"):
        assert await service.submit(make_event(1, "a")) == SubmitResult(SubmitOutcome.PROCESSED, 1)
        assert await service.submit(make_event(2, "b")) == SubmitResult(SubmitOutcome.PROCESSED, 1)
    assert await _seen(service) == ["a", "b"]
    assert len(sink.delivered) == 2
    assert "telegram is down" in caplog.text


async def test_schema_mismatch_starts_afresh(redis: Redis, keyspace: KeySpace) -> None:
    service, _ = _service(redis, keyspace)
    await service.submit(make_event(1, "old"))
    # Version 1 as the store wrote it, with a body in an older schema (plain JSON).
    await redis.set(keyspace.state(CID), b'1 1\n{"s":0,"t":"ask","v":{"seen":["from v0"]}}')
    await service.submit(make_event(2, "new"))
    assert await _seen(service) == ["new"]


async def test_cancel_forgets_the_conversation_and_its_reminders(redis: Redis, keyspace: KeySpace) -> None:
    service, sink = _service(redis, keyspace)
    await service.submit(make_event(1, "a"))
    await service.reminders.schedule(
        CID, ScheduleReminder("window_closing", TODAY + timedelta(days=3), "快到期")
    )
    await service.submit(make_event(2, "/cancel"))
    assert _texts(sink)[-1] == "bye"
    assert (await service.store.read(CID)).state is None
    assert (await redis.get(keyspace.state(CID)) or b"").endswith(b"\n")  # nothing after the header
    assert await service.reminders.of(CID) == []
    await service.submit(make_event(3, "again"))
    assert await _seen(service) == ["again"]


class _EffectsDialog:
    def step(self, state: ConversationState, event: InEvent, today: date) -> Turn:
        return Turn(
            state=state,
            messages=[OutMessage("ok")],
            effects=[
                CountReferral("community-7"),
                ScheduleReminder("waiting_ends", today + timedelta(days=90), "等待期结束"),
            ],
        )


async def test_effects_count_referrals_and_store_reminders(redis: Redis, keyspace: KeySpace) -> None:
    store = ConversationStore(redis, keyspace, StoreConfig(ttl=timedelta(days=30)))
    service = ConversationService(store, _EffectsDialog(), CollectingSink(), clock=lambda: TODAY)
    await service.submit(make_event(1))
    await service.submit(make_event(2))
    assert await redis.hget(keyspace.referrals, "community-7") == b"1"  # one person, counted once
    reminders = ReminderStore(redis, keyspace)
    [reminder] = await reminders.of(CID)  # the same reminder twice is stored once
    assert (reminder.kind, reminder.due, reminder.arg) == (
        Kind.WAITING, morning_of(TODAY + timedelta(days=90)), "等待期结束"
    )
    assert await reminders.remove([reminder]) == 1
    assert await reminders.of(CID) == []


async def test_handle_returns_the_replies_to_its_own_update(redis: Redis, keyspace: KeySpace) -> None:
    service, sink = _service(redis, keyspace)
    assert await service.handle(make_event(1, "问一下")) == [OutMessage("got 问一下")]
    assert await service.handle(make_event(1, "问一下")) == []  # duplicate
    assert sink.delivered == []


async def test_recover_drains_what_a_dead_drainer_left(redis: Redis, keyspace: KeySpace) -> None:
    config = StoreConfig(lease=timedelta(milliseconds=100), recover_after=timedelta(milliseconds=100))
    service, sink = _service(redis, keyspace, config=config)
    # A worker took the lease for update 1 and died before committing; 2 queued behind it.
    for update_id in (1, 2):
        event = make_event(update_id, f"m{update_id}")
        await service.store.submit(CID, event.update_id, encode_event(event))
    assert await service.recover() == 0  # the lease has not expired yet
    await asyncio.sleep(0.2)
    assert await service.recover() == 2
    assert _texts(sink) == ["got m1", "got m2"]
    assert await service.store.stale_pending() == []
    assert await service.recover() == 0


class _BrokenReminders(ReminderStore):
    async def schedule(self, cid: str, reminder: ScheduleReminder) -> None:
        raise ValueError("reminder storage rejected it")


async def test_failed_effect_is_logged_and_the_turn_stands(
    redis: Redis, keyspace: KeySpace, caplog: pytest.LogCaptureFixture
) -> None:
    store = ConversationStore(redis, keyspace)
    sink = CollectingSink()
    reminders = _BrokenReminders(redis, keyspace)
    service = ConversationService(store, _EffectsDialog(), sink, clock=lambda: TODAY, reminders=reminders)
    with caplog.at_level(logging.ERROR, logger="flows.service"):
        assert await service.submit(make_event(1)) == SubmitResult(SubmitOutcome.PROCESSED, 1)
    assert _texts(sink) == ["ok"]
    assert (await store.read(CID)).version == 1
    assert await redis.hget(keyspace.referrals, "community-7") == b"1"  # the other effect still ran
    assert "reminder storage rejected it" in caplog.text


class _SlowSink(CollectingSink):
    """Takes `delay` seconds per delivery (a chat's outbound slot being waited for)."""

    def __init__(self, delay: float):
        super().__init__()
        self.delay = delay

    async def deliver(self, event: InEvent, messages: Sequence[OutMessage]) -> None:
        await asyncio.sleep(self.delay)
        await super().deliver(event, messages)


async def test_flood_gets_one_notice_and_cancel_still_goes_through(redis: Redis, keyspace: KeySpace) -> None:
    config = StoreConfig(flood_limit=5, flood_window=timedelta(seconds=30))
    service, sink = _service(redis, keyspace, config=config)
    outcomes = [(await service.submit(make_event(i, f"m{i}"))).outcome for i in range(1, 21)]
    assert outcomes == [SubmitOutcome.PROCESSED] * 5 + [SubmitOutcome.THROTTLED] * 15
    assert _texts(sink) == [f"got m{i}" for i in range(1, 6)] + [FLOOD_NOTICE]
    assert (await service.submit(make_event(21, "/cancel"))).outcome is SubmitOutcome.PROCESSED
    assert (await service.submit(make_event(22, "hi", user="43", chat="43"))).outcome is SubmitOutcome.PROCESSED
    assert _texts(sink)[-2:] == ["bye", "got hi"]


async def test_an_adapter_that_refuses_floods_itself_gets_no_notice_and_the_time_to_wait(
    redis: Redis, keyspace: KeySpace
) -> None:
    store = ConversationStore(redis, keyspace, StoreConfig(flood_limit=2, flood_window=timedelta(seconds=30)))
    sink = CollectingSink()
    service = ConversationService(store, ListDialog(), sink, clock=lambda: TODAY, flood_notice=None)
    results = [await service.submit(make_event(i, f"m{i}")) for i in range(1, 5)]
    assert [r.outcome for r in results] == [SubmitOutcome.PROCESSED] * 2 + [SubmitOutcome.THROTTLED] * 2
    assert all(28 < r.retry_after <= 30 for r in results[2:]) and results[0].retry_after == 0
    assert _texts(sink) == ["got m1", "got m2"]  # no notice: the adapter says it (e.g. HTTP 429)


async def test_a_long_turn_keeps_its_lease_and_nothing_is_applied_twice(
    redis: Redis, keyspace: KeySpace
) -> None:
    config = StoreConfig(lease=timedelta(milliseconds=150))
    slow, slow_sink = _service(redis, keyspace, _SlowSink(0.5), config)
    other, other_sink = _service(redis, keyspace, config=config)
    first = asyncio.create_task(slow.submit(make_event(1, "a")))
    await asyncio.sleep(0.3)  # two lease periods into the turn: renewed, so still held
    assert (await other.submit(make_event(2, "b"))).outcome is SubmitOutcome.QUEUED
    assert await first == SubmitResult(SubmitOutcome.PROCESSED, 2)
    assert await _seen(slow) == ["a", "b"] and other_sink.delivered == []
    assert _texts(slow_sink) == ["got a", "got b"]


async def test_close_finishes_the_turn_releases_the_lease_and_leaves_the_rest_queued(
    redis: Redis, keyspace: KeySpace
) -> None:
    config = StoreConfig(recover_after=timedelta(milliseconds=10))
    closing, closing_sink = _service(redis, keyspace, _SlowSink(0.3), config)
    first = asyncio.create_task(closing.submit(make_event(1, "a")))
    await asyncio.sleep(0.05)
    for update_id in (2, 3):
        assert (await closing.submit(make_event(update_id, f"m{update_id}"))).outcome is SubmitOutcome.QUEUED
    await closing.close(grace=2)
    assert await first == SubmitResult(SubmitOutcome.PROCESSED, 1)
    assert _texts(closing_sink) == ["got a"]
    assert not await redis.exists(keyspace.lease(CID))
    # Another worker takes over at once: no lease to wait out.
    successor, successor_sink = _service(redis, keyspace, config=config)
    await asyncio.sleep(0.02)
    assert await successor.recover() == 2
    assert await _seen(successor) == ["a", "m2", "m3"] and _texts(successor_sink) == ["got m2", "got m3"]


async def test_close_cancels_a_turn_past_its_grace_and_releases_the_lease(redis: Redis, keyspace: KeySpace) -> None:
    stuck, _ = _service(redis, keyspace, _SlowSink(30))
    turn = asyncio.create_task(stuck.submit(make_event(1, "a")))
    await asyncio.sleep(0.05)
    await stuck.close(grace=0.1)
    with pytest.raises(asyncio.CancelledError):
        await turn
    assert not await redis.exists(keyspace.lease(CID))
    assert await redis.zrange(keyspace.inbox(CID), 0, -1) == [b"1"]  # still there for the next drainer


class _LogSink:
    """Keeps the chat with the conversation, as the web page does: replies become log entries."""

    LOG = ConversationLog("tl", "tc", keep=50)

    def __init__(self, stall: Callable[[InEvent], Awaitable[None]] | None = None) -> None:
        self.stall = stall
        self.written: list[list[LogEntry]] = []

    async def deliver(self, event: InEvent, messages: Sequence[OutMessage]) -> LogReply:
        if self.stall is not None:
            await self.stall(event)
        entries = tuple(f"{event.update_id}:{m.text}".encode() for m in messages)
        return LogReply(LogAppend(self.LOG, entries, since=0), self.written.append)


async def test_a_drainer_that_lost_its_turn_writes_no_log_and_the_one_that_took_over_writes_it_once(
    redis: Redis, keyspace: KeySpace
) -> None:
    other_sink = _LogSink()
    other = ConversationService(ConversationStore(redis, keyspace), ListDialog(), other_sink, clock=lambda: TODAY)

    async def taken_over(event: InEvent) -> None:  # this worker stalls; its lease runs out, another answers
        await redis.delete(keyspace.lease(event.conversation_id))
        assert await other.submit(event) == SubmitResult(SubmitOutcome.PROCESSED, 1)

    sink = _LogSink(taken_over)
    stalled = ConversationService(ConversationStore(redis, keyspace), ListDialog(), sink, clock=lambda: TODAY)
    assert await stalled.submit(make_event(1, "a")) == SubmitResult(SubmitOutcome.PROCESSED, 0)
    logged = await stalled.store.logs.since(CID, _LogSink.LOG, 0)
    assert logged == [LogEntry(1, b"1:got a")] and other_sink.written == [logged] and sink.written == []
    assert (await stalled.submit(make_event(1, "a"))).outcome is SubmitOutcome.DUPLICATE  # a replay
    assert await stalled.store.logs.since(CID, _LogSink.LOG, 0) == logged and await _seen(stalled) == ["a"]
