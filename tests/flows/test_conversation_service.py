"""The real dialog through the real service and Redis: expiry, PII, duplicates, groups."""

from __future__ import annotations

import asyncio
import itertools
from datetime import date, timedelta

import pytest
from redis.asyncio import Redis

from flows.dialog import GapDialog
from flows.messages import ChatKind, InEvent
from flows.service import CollectingSink, ConversationService
from flows.state import ConversationState
from flows.store import ConversationStore, KeySpace, StoreConfig
from tests.conftest import dump_prefixed

TODAY = date(2026, 11, 22)


@pytest.fixture(scope="module")
def dialog() -> GapDialog:
    return GapDialog.create()


def make_service(redis: Redis, prefix: str, dialog: GapDialog, ttl: timedelta = timedelta(days=30)):
    store = ConversationStore(redis, KeySpace(prefix), StoreConfig(ttl=ttl))
    return ConversationService(store, dialog, CollectingSink(), clock=lambda: TODAY), store


_ids = itertools.count(1)


def event(text: str | None = None, *, user: str = "u1", kind: ChatKind = ChatKind.PRIVATE,
          payload: str | None = None, addressed: bool = True, update_id: str | None = None) -> InEvent:
    return InEvent(platform="test", bot_id="b", chat_id="c", user_id=user, chat_kind=kind,
                   update_id=update_id or str(next(_ids)), text=text, payload=payload, addressed=addressed)


async def test_expired_conversation_starts_afresh(redis: Redis, key_prefix: str, dialog: GapDialog) -> None:
    service, store = make_service(redis, key_prefix, dialog, ttl=timedelta(seconds=1))
    await service.handle(event("乌鲁木齐"))
    record = await store.read(event().conversation_id)
    assert record.state is not None
    assert ConversationState.loads(record.state).slots["region"] == "650100"
    await asyncio.sleep(1.3)
    assert (await store.read(event().conversation_id)).state is None
    replies = await service.handle(event("灵活就业断了2个月"))
    assert "请问您在哪个城市" in replies[0].text  # the region was forgotten with the record


async def test_personal_numbers_never_reach_redis(redis: Redis, key_prefix: str, dialog: GapDialog) -> None:
    service, store = make_service(redis, key_prefix, dialog)
    phone, id_card, card = "13812345678", "11010519491231002X", "6222021234567890123"
    first = event(f"我的手机{phone}，身份证{id_card}，卡号{card}，乌鲁木齐灵活就业断了4个月")
    await service.handle(first)
    record = await store.read(first.conversation_id)
    assert record.state is not None
    stored = repr(await dump_prefixed(redis, key_prefix)) + record.state.decode()  # raw and inflated
    for secret in (phone, id_card, card):
        assert secret not in stored
    # the rest of the message was still understood and stored
    assert ConversationState.loads(record.state).slots["region"] == "650100"


async def test_duplicate_update_answered_once(redis: Redis, key_prefix: str, dialog: GapDialog) -> None:
    service, _ = make_service(redis, key_prefix, dialog)
    first = await service.handle(event("北京", update_id="777"))
    again = await service.handle(event("北京", update_id="777"))
    assert first and again == []


async def test_group_members_keep_separate_conversations(
    redis: Redis, key_prefix: str, dialog: GapDialog
) -> None:
    service, store = make_service(redis, key_prefix, dialog)
    await service.handle(event("北京", user="a", kind=ChatKind.GROUP))
    await service.handle(event("乌鲁木齐", user="b", kind=ChatKind.GROUP))
    chatter = await service.handle(event("今天天气不错", user="a", kind=ChatKind.GROUP, addressed=False))
    assert chatter == []
    a = await store.read(event(user="a", kind=ChatKind.GROUP).conversation_id)
    b = await store.read(event(user="b", kind=ChatKind.GROUP).conversation_id)
    assert ConversationState.loads(a.state).slots["region"] == "110000"
    assert ConversationState.loads(b.state).slots["region"] == "650100"


async def test_unaddressed_group_talk_writes_no_conversation(
    redis: Redis, key_prefix: str, dialog: GapDialog
) -> None:
    service, store = make_service(redis, key_prefix, dialog)
    talk = event("今天天气不错", user="lurker", kind=ChatKind.GROUP, addressed=False)
    assert await service.handle(talk) == []
    record = await store.read(talk.conversation_id)
    assert record.state is None  # nothing stored for people who never spoke to the bot


async def test_lone_surrogate_in_a_message_is_answered(redis: Redis, key_prefix: str, dialog: GapDialog) -> None:
    # Half an emoji (a lone UTF-16 surrogate) is not UTF-8: it must not break queueing the update.
    service, store = make_service(redis, key_prefix, dialog)
    first = event("乌鲁木齐\ud83d灵活就业\udc00")
    replies = await service.handle(first)
    assert replies and "乌鲁木齐" in replies[0].text
    record = await store.read(first.conversation_id)
    assert record.state is not None
    assert ConversationState.loads(record.state).slots["insurance_type"] == "flexible"


async def test_late_redelivery_never_rolls_the_answer_back(redis: Redis, key_prefix: str, dialog: GapDialog) -> None:
    # The case: a Telegram redelivery after 8 newer messages was applied again and
    # the stored gap went back from 50 to 3 months. Now it is refused at any distance.
    service, store = make_service(redis, key_prefix, dialog)
    base = 500_000_000
    assert await service.handle(event("乌鲁木齐灵活就业，断了3个月", update_id=str(base)))
    script = ["断了50个月", "还能补吗", "要交多少钱", "什么时候能报销", "在哪办", "谢谢", "还能补吗",
              "要交多少钱", "什么时候能报销", "谢谢", "在哪办", "还能补吗"]
    for n, text in enumerate(script, 1):
        await service.handle(event(text, update_id=str(base + 7 * n)))
    cid = event().conversation_id
    before = await store.read(cid)
    assert ConversationState.loads(before.state).slots["gap_months"] == 50
    assert await service.handle(event("乌鲁木齐灵活就业，断了3个月", update_id=str(base))) == []
    after = await store.read(cid)
    assert (after.version, after.state) == (before.version, before.state)
