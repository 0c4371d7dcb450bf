"""Reminders in the conversation: the real dialog and service, real Redis. Nothing is set unless
asked; every confirmation names the date of what was really stored."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime

import pytest
from redis.asyncio import Redis

from flows.dialog import GapDialog
from flows.messages import ChatKind, InEvent, OutMessage
from flows.reminders import Kind
from flows.reminders_time import CHINA, SetClock, morning_of
from flows.service import CollectingSink, ConversationService
from flows.store import ConversationStore, KeySpace

TODAY = date(2026, 11, 30)  # a Monday
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=CHINA)
USER = "5001"
CID = f"telegram:bot1:{USER}:-:{USER}"


@pytest.fixture(scope="module")
def dialog() -> GapDialog:
    return GapDialog.create()


@dataclass
class Person:
    """One Telegram user talking to the bot through the service."""

    service: ConversationService
    sink: CollectingSink
    chat: str = USER
    can_push: bool = True  # False: a web page, which nothing can reach later
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def say(self, text: str | None = None, *, payload: str | None = None,
                  start: str | None = None) -> list[OutMessage]:
        kind = ChatKind.PRIVATE if self.chat == USER else ChatKind.GROUP
        event = InEvent("telegram", "bot1", self.chat, USER, kind, str(next(self.ids)), text=text,
                        payload=payload, start_payload=start, bot_username="yibao_test_bot",
                        can_push=self.can_push)
        return await self.service.handle(event)

    async def press(self, prefix: str, replies: list[OutMessage]) -> list[OutMessage]:
        [payload] = [b.payload for m in replies for b in m.all_buttons() if b.payload.startswith(prefix)][:1]
        return await self.say(payload=payload)


def _person(dialog: GapDialog, redis: Redis, keyspace: KeySpace, chat: str = USER) -> Person:
    sink = CollectingSink()
    service = ConversationService(ConversationStore(redis, keyspace), dialog, sink, clock=lambda: TODAY,
                                  reminder_clock=SetClock(NOW, running=False))
    return Person(service, sink, chat)


def _text(replies: list[OutMessage]) -> str:
    return "\n".join(m.text for m in replies)


def _payloads(replies: list[OutMessage]) -> list[str]:
    return [b.payload for m in replies for b in m.all_buttons()]


async def test_own_day_in_words_is_set_and_confirmed_with_its_date(
    dialog: GapDialog, redis: Redis, keyspace: KeySpace
) -> None:
    person = _person(dialog, redis, keyspace)
    replies = await person.say("下个月10号提醒我交医保")
    assert "已设好提醒" in _text(replies) and "2026年12月10日（周四）上午9点：交医保" in _text(replies)
    [stored] = await person.service.reminders.of(CID)
    assert (stored.kind, stored.due, stored.arg) == (Kind.OWN, morning_of(date(2026, 12, 10)), "交医保")
    replies = await person.say("2月30号提醒我")
    assert "不存在" in _text(replies)
    assert len(await person.service.reminders.of(CID)) == 1


async def test_an_answer_offers_reminders_and_sets_only_what_is_pressed(
    dialog: GapDialog, redis: Redis, keyspace: KeySpace
) -> None:
    person = _person(dialog, redis, keyspace)
    card = await person.say("天津灵活就业断了2个月")
    assert "a:remind" in _payloads(card)
    assert await person.service.reminders.of(CID) == []  # an answer alone sets nothing
    offer = await person.say(payload="a:remind")
    assert "2026年12月26日" in _text(offer) and "26日至次月15日" in _text(offer)  # 天津's window
    assert {"rp:d", "rp:w", "rp:*"} <= set(_payloads(offer))  # declaration day, window closing
    assert await person.service.reminders.of(CID) == []
    confirmed = await person.press("rp:d", offer)
    assert "已设好提醒" in _text(confirmed) and "（每月）" in _text(confirmed)
    [stored] = await person.service.reminders.of(CID)
    assert (stored.kind, stored.arg, stored.due) == (Kind.DECLARATION, "26", morning_of(date(2026, 12, 26)))
    await person.press("rp:*", offer)
    kinds = {r.kind for r in await person.service.reminders.of(CID)}
    assert kinds == {Kind.DECLARATION, Kind.WINDOW}  # set again: replaced, not doubled


async def test_where_nothing_can_deliver_it_the_dates_are_given_and_nothing_is_set(
    dialog: GapDialog, redis: Redis, keyspace: KeySpace
) -> None:
    person = _person(dialog, redis, keyspace)
    person.can_push = False
    own = await person.say("下个月10号提醒我交医保")
    assert "记到手机日历" in _text(own) and "2026-12-10" in _text(own) and "已设好" not in _text(own)
    card = await person.say("天津灵活就业断了4个月")
    assert "a:remind" not in _payloads(card)  # the card offers no reminder button there
    offered = await person.say("提醒我")
    assert "记到手机日历" in _text(offered) and "2026-12-26" in _text(offered)
    assert not [p for p in _payloads(offered) if p.startswith("rp:")]
    forged = await person.say(payload="rp:*")  # a forged press sets nothing either
    assert "记到手机日历" in _text(forged)
    assert await person.service.reminders.of(CID) == []


async def test_list_cancel_one_cancel_all_and_stop(dialog: GapDialog, redis: Redis, keyspace: KeySpace) -> None:
    person = _person(dialog, redis, keyspace)
    for text in ("下个月10号提醒我交医保", "3月1号提醒我", "明天提醒我去社保局"):
        await person.say(text)
    listing = await person.say("/reminders")
    assert "您有 3 条提醒" in _text(listing)
    lines = _text(listing).splitlines()
    assert lines[1].startswith("1. 2026年12月1日（周二）上午9点：去社保局")
    assert _payloads(listing)[-1] == "rc:*"
    cancelled = await person.press("rc:", listing)  # the first: 去社保局
    assert "已取消" in _text(cancelled) and "去社保局" in _text(cancelled)
    again = await person.say(payload=_payloads(listing)[0])
    assert "已经不在了" in _text(again)
    assert len(await person.service.reminders.of(CID)) == 2
    all_gone = await person.say(payload="rc:*")
    assert "已停止您的全部 2 条提醒" in _text(all_gone)
    await person.say("下个月10号提醒我交医保")
    stopped = await person.say("/stop")
    assert "已停止您的全部 1 条提醒" in _text(stopped)
    assert await person.service.reminders.of(CID) == []
    assert "没有提醒" in _text(await person.say("/stop"))
    assert "没有设置提醒" in _text(await person.say("/reminders"))


async def test_snooze_a_week_and_done(dialog: GapDialog, redis: Redis, keyspace: KeySpace) -> None:
    person = _person(dialog, redis, keyspace)
    # The buttons under a sent reminder (flows.reminders_text.reminder_message).
    snoozed = await person.say(payload="rz:w|2026-12-20")
    assert "2026年12月7日（周一）上午9点" in _text(snoozed)
    [again] = await person.service.reminders.of(CID)
    assert (again.kind, again.arg, again.due) == (Kind.WINDOW, "2026-12-20", morning_of(date(2026, 12, 7)))
    assert "不会再发" in _text(await person.say(payload="rd:w|2026-12-20"))
    assert "下个月26日还会提醒您" in _text(await person.say(payload="rd:d|26"))


async def test_group_member_is_sent_to_the_private_chat_to_set_it(
    dialog: GapDialog, redis: Redis, keyspace: KeySpace
) -> None:
    in_group = _person(dialog, redis, keyspace, chat="-1009")
    await in_group.say("天津灵活就业断了4个月")
    for replies in (await in_group.say(payload="a:remind"), await in_group.say("下个月10号提醒我交医保"),
                    await in_group.say("/reminders")):
        [link] = [m for m in replies if m.private_payload]
        assert "私聊" in link.text
    assert await in_group.service.reminders.of(f"telegram:bot1:-1009:-:{USER}") == []
    assert await in_group.service.reminders.of(CID) == []
    # The link opens the private chat with what the group already told the bot.
    private = _person(dialog, redis, keyspace)
    card = await private.say("/start", start=link.private_payload)
    assert "a:remind" in _payloads(card)
    offer = await private.say(payload="a:remind")
    await private.press("rp:d", offer)
    assert [r.kind for r in await private.service.reminders.of(CID)] == [Kind.DECLARATION]
