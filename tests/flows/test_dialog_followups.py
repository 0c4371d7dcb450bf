"""Conversation tests for how people really write: follow-ups, loose durations, off-topic
questions, long messages and answers that do not fit the pending question."""

from __future__ import annotations

from datetime import date

import pytest

from flows import texts
from flows.dialog import PRESS_ACCEPTED, PRESS_META, PRESS_STALE, GapDialog
from flows.dialog.edges import outcome
from flows.messages import ChatKind
from flows.state import ANSWERED, Step
from tests.flows.test_dialog import Chat

TODAY = date(2026, 11, 22)


@pytest.fixture(scope="module")
def dialog() -> GapDialog:
    return GapDialog.create()


def _answered(dialog: GapDialog, text: str) -> Chat:
    chat = Chat(dialog)
    chat.send(text)
    if chat.state.step == Step.ask("cause"):
        chat.send(payload="c:personal")
    assert chat.state.answered, chat.text()
    return chat


@pytest.mark.parametrize(
    ("first", "question", "expect"),
    [
        ("乌鲁木齐灵活就业断了2个月", "需要带什么材料", "带什么"),
        ("乌鲁木齐灵活就业断了2个月", "要带啥", "带什么"),
        ("乌鲁木齐灵活就业断了2个月", "去哪办", "去哪办"),
        ("乌鲁木齐灵活就业断了2个月", "住院能报吗", "什么时候能用"),
        ("乌鲁木齐灵活就业断了2个月", "要交多少钱", "费用"),
        ("乌鲁木齐灵活就业断了2个月", "依据是什么", "来源"),
        ("北京灵活就业断了5个月", "那怎么办", "现在怎么办"),
        ("天津灵活就业断了2个月", "几号申报", "26日至次月15日"),
        ("聊城新农合断了一年", "补了能少等几个月吗", "什么时候能用"),
    ],
)
def test_follow_ups_are_answered_from_the_engine(dialog: GapDialog, first: str, question: str, expect: str) -> None:
    chat = _answered(dialog, first)
    replies = chat.send(question)
    assert len(replies) == 1
    assert expect in replies[0].text
    assert texts.CANNOT_ANSWER not in replies[0].text
    assert chat.state.step == ANSWERED


@pytest.mark.parametrize("payload", ["a:cost", "a:where", "a:when", "a:why"])
def test_card_buttons_open_their_parts(dialog: GapDialog, payload: str) -> None:
    chat = _answered(dialog, "天津灵活就业断了2个月")
    assert payload in chat.payloads()
    [reply] = chat.send(payload=payload)
    assert reply.text.startswith("📍 天津市") and texts.STALE_BUTTON not in reply.text


def test_after_a_no_the_card_offers_what_now_not_cost(dialog: GapDialog) -> None:
    chat = _answered(dialog, "北京灵活就业断了5个月")
    assert "a:now" in chat.payloads() and "a:cost" not in chat.payloads()
    assert "重新参保" in chat.send(payload="a:now")[0].text


@pytest.mark.parametrize(
    "text",
    ["医保卡丢了怎么办", "异地就医备案怎么弄", "北京医保报销比例是多少", "门诊慢特病怎么申请", "社保卡密码忘了"],
)
def test_off_topic_gets_one_honest_line_and_no_slot_question(dialog: GapDialog, text: str) -> None:
    chat = Chat(dialog)
    [reply] = chat.send(text)
    assert "12393" in reply.text and "国家医保服务平台" in reply.text
    assert not reply.buttons  # no region prompt, no slot question
    assert chat.state.step.asking is None


def test_a_gap_question_with_an_off_topic_word_is_still_answered(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("异地工作，乌鲁木齐灵活就业断了2个月还能补吗")
    assert chat.state.answered


def _edge(dialog: GapDialog, region: str, low: int, high: int) -> bool:
    def at(months: int) -> object:
        slots = {"region": region, "insurance_type": "flexible", "gap_months": months}
        return outcome(dialog.advisor.answer(slots, TODAY))

    return at(low) != at(high)


@pytest.mark.parametrize(("text", "low"), [("断了三个多月", 3), ("快4个月没交了", 3), ("断了两个多月", 2)])
def test_loose_duration_at_an_edge_asks_one_short_question(dialog: GapDialog, text: str, low: int) -> None:
    chat = Chat(dialog)
    chat.send("北京灵活就业，" + text)
    if _edge(dialog, "110000", low, low + 1):
        assert "还是已经超过" in chat.text()
        assert chat.payloads()[:2] == [f"g:{low}", f"g:{low + 1}"]
        chat.send(payload=f"g:{low + 1}")
        assert chat.state.slots["gap_months"] == low + 1
    assert chat.state.answered  # never picked silently: asked, or the same answer either way


def test_a_loose_duration_away_from_an_edge_is_answered_directly(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("北京灵活就业断了两年多")
    assert not _edge(dialog, "110000", 24, 35)
    assert chat.state.answered


def test_the_whole_of_a_long_message_is_read(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("我想问一下。" * 900 + "乌鲁木齐灵活就业断了2个月")  # ~5,400 characters, facts at the end
    assert chat.state.slots["region"] == "650100" and chat.state.slots["gap_months"] == 2
    assert chat.state.answered


def test_a_message_a_platform_may_have_cut_is_said_to_be_long(dialog: GapDialog) -> None:
    chat = Chat(dialog, platform="telegram")
    chat.send("断" * 4096)
    assert "消息很长" in chat.text()


def test_answering_something_else_keeps_the_region_choice(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("朝阳 医保断了")
    pending = chat.payloads()
    assert "r:110105" in pending
    chat.send("个人原因")
    assert chat.state.slots["cause"] == "personal"
    assert "r:110105" in chat.payloads()  # the same choice, not a new region question
    chat.send(payload="r:110105")
    assert chat.state.slots["region"] == "110105" and chat.state.slots["cause"] == "personal"


def test_a_correction_marks_what_changed(dialog: GapDialog) -> None:
    chat = _answered(dialog, "乌鲁木齐灵活就业断了2个月")
    [card] = chat.send("不对，是5个月")
    assert card.text.startswith("🔄 已改为：断缴5个月")
    assert card.view is not None and card.view.changed == ("gap_months",)
    assert len(card.text) <= 350


def test_group_answer_offers_private_reminders(dialog: GapDialog) -> None:
    chat = Chat(dialog, kind=ChatKind.GROUP)
    chat.send("乌鲁木齐灵活就业断了2个月")
    assert "a:remind" not in chat.payloads()


def test_a_question_while_a_slot_is_pending_is_answered_not_met_with_the_same_question(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("宜昌单位职工医保断了4个月")
    assert chat.state.step == Step.ask("cause")
    for question in ("要交多少钱", "能补吗"):
        [reply] = chat.send(question)
        assert reply.text.startswith("先按目前知道的情况回答") and "📍 湖北省宜昌市" in reply.text
        assert "c:employer" in chat.payloads()  # the pending question stays one tap away
        assert chat.state.step == Step.ask("cause")
    chat.send(payload="c:employer")
    assert chat.state.answered and "个人不用交" in chat.text()


def test_the_dialog_decides_whether_a_press_is_stale(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("乌鲁木齐")
    [reply] = chat.send(payload="t:flexible")
    assert reply.meta[PRESS_META] == PRESS_ACCEPTED
    [reply] = chat.send(payload="t:nonsense")
    assert reply.meta[PRESS_META] == PRESS_STALE and texts.STALE_BUTTON in reply.text


def test_in_a_group_a_loose_duration_at_an_edge_is_said_not_picked_silently(dialog: GapDialog) -> None:
    assert _edge(dialog, "110000", 3, 4)
    chat = Chat(dialog, kind=ChatKind.GROUP)
    chat.send("北京灵活就业断了三个多月")
    assert chat.state.answered and "刚好3个月和超过3个月的结果不同" in chat.text()
