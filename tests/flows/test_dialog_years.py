"""Conversations with years paid said loosely ("交了快20年") near the local requirement, and with a
place outside mainland China (Taiwan's 健保, Hong Kong, Macao)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows import texts
from flows.dialog import GapDialog
from flows.dialog.years import UNSURE_PAYLOAD
from flows.messages import ChatKind
from flows.state import Step
from policies.model import BackpayVerdict
from tests.flows.test_dialog import TODAY, Chat

_DIALOG = GapDialog.create()  # loaded once: hypothesis re-runs the test body many times
ZHUHAI = "珠海"  # 20 years required of men and women alike (policies/rules: 440400-zhuhai.yaml)


def _required(place: str, gender: str = "") -> float:
    """The years the rules require, as the engine's answer states them (not written here)."""
    chat = Chat(_DIALOG)
    chat.send(f"{place} 快退休了，交了10年{gender}")
    answer = _DIALOG.advisor.answer(chat.state.slots, TODAY)
    assert answer is not None and answer.retiree is not None and answer.retiree.required_years is not None
    return answer.retiree.required_years


def test_hedged_years_at_the_requirement_are_asked_exactly() -> None:
    chat = Chat(_DIALOG)
    chat.send(f"{ZHUHAI} 快退休了，医保交了快20年")  # answered as 20 years: "已达到，无需补缴"
    assert chat.state.step == Step.ask("years_paid")
    assert "years_paid" not in chat.state.slots  # the loose figure is not used anywhere meanwhile
    assert "约19–20年" in chat.text() and UNSURE_PAYLOAD in chat.payloads()
    chat.send("要多少钱")  # answered from what is known (years unknown); the question stays open
    assert chat.state.step == Step.ask("years_paid") and UNSURE_PAYLOAD in chat.payloads()
    assert "years_paid" not in chat.state.slots
    chat.send("19年8个月")
    assert chat.state.slots["years_paid"] == pytest.approx(19.67)
    assert "years_range" not in chat.state.slots
    assert chat.state.answered


def test_a_user_who_cannot_tell_gets_the_answer_without_the_years() -> None:
    for reply in ({"text": "记不清了"}, {"payload": UNSURE_PAYLOAD}):
        chat = Chat(_DIALOG)
        chat.send(f"{ZHUHAI} 快退休了，交了差不多20年")
        chat.send(**reply)
        assert chat.state.answered and "years_paid" not in chat.state.slots
        answer = _DIALOG.advisor.answer(chat.state.slots, TODAY)
        assert answer is not None and answer.can_backpay is BackpayVerdict.CONDITIONAL  # to be confirmed
        assert texts.YEARS_UNKNOWN in chat.text()


def test_the_exact_years_question_is_asked_once_the_gender_makes_it_turn() -> None:
    """徐州 asks men 25 years, women 20: "快20年" turns only once she says she is a woman."""
    chat = Chat(_DIALOG)
    chat.send("徐州 快退休了，交了快20年")
    assert chat.state.step == Step.ask("gender") and chat.state.slots["years_paid"] == 20
    chat.send("女")
    assert chat.state.step == Step.ask("years_paid") and "years_paid" not in chat.state.slots


def test_a_group_is_not_asked_and_gets_no_verdict_on_loose_years() -> None:
    chat = Chat(_DIALOG, kind=ChatKind.GROUP)
    chat.send(f"{ZHUHAI} 快退休了，交了快20年")
    assert chat.state.answered and "years_paid" not in chat.state.slots
    assert "已达到" not in chat.text()


_HEDGES = {"快": (-1, 0), "将近": (-1, 0), "差不多": (-1, 1), "大概": (-1, 1)}


@settings(max_examples=25, deadline=None)
@given(n=st.integers(15, 24), hedge=st.sampled_from(sorted(_HEDGES)))
def test_loose_years_are_asked_exactly_when_the_requirement_lies_in_them(n: int, hedge: str) -> None:
    required = _required(ZHUHAI)
    low, high = n + _HEDGES[hedge][0], n + _HEDGES[hedge][1]
    chat = Chat(_DIALOG)
    chat.send(f"{ZHUHAI} 快退休了，医保交了{hedge}{n}年")
    if low < required <= high:  # short at one end, enough at the other
        assert chat.state.step == Step.ask("years_paid") and "years_paid" not in chat.state.slots
    else:  # the same verdict whatever they mean: answered with the figure said
        assert chat.state.answered and chat.state.slots["years_paid"] == n


# --------------------------------------------------------------------------- outside the mainland
@pytest.mark.parametrize("text", ["台北的健保断了三个月", "臺北健保斷了", "我在香港，医保断了", "澳门的医保停了两个月"])
def test_outside_the_mainland_is_said_once_then_the_city_is_asked(text: str) -> None:
    chat = Chat(_DIALOG)
    chat.send(text)  # the city was asked again as if nothing was said
    assert texts.OUTSIDE_MAINLAND in chat.text() and chat.state.step == Step.ask("region")
    chat.send("香港")
    assert texts.OUTSIDE_MAINLAND not in chat.text() and chat.state.step == Step.ask("region")
    chat.send("北京")
    assert chat.state.slots["region"] == "110000"


def test_a_mainland_place_named_with_hong_kong_gets_no_note() -> None:
    chat = Chat(_DIALOG)
    chat.send("我是香港人，在深圳上班，公司断了3个月医保")
    assert texts.OUTSIDE_MAINLAND not in chat.text() and chat.state.slots["region"] == "440300"


# --------------------------------------------------------------------------- gaps said by events
def test_a_job_left_and_a_month_paid_back_through_the_dialog() -> None:
    chat = Chat(_DIALOG)
    chat.send("北京 3月份离职的，之后一直没交")  # no gap was read
    since = chat.state.slots["gap_since"]
    assert since == f"{TODAY.year if TODAY.month > 3 else TODAY.year - 1}-04"
    chat = Chat(_DIALOG)
    chat.send("北京 灵活就业 3月份没交，4月又补上了")  # read as a gap since March, going on
    assert chat.state.slots["gap_months"] == 1 and "gap_since" not in chat.state.slots
