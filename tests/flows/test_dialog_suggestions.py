"""What a card offers fits its answer (found by a person reading the web page): the "你还可以问"
suggestions never restate what the person said nor ask about a cause that does not apply, and
every part button opens something the card did not already say. The property runs the real
dialog over regions × insurance types × causes × gaps × question dates."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows import texts
from flows.dialog import GapDialog
from flows.messages import ChatKind, InEvent, OutMessage
from flows.state import ConversationState
from policies.engine import NATIONAL_CODE

DAYS = [date(2025, 6, 10), date(2026, 11, 22)]  # 2025-06-10: 聊城's enrolment period has ended
_DIALOG = GapDialog.create()  # loaded once: hypothesis re-runs the test body many times
RULE_REGIONS = sorted(c for c in _DIALOG.advisor.rulebook.files if c != NATIONAL_CODE)
OTHER_REGIONS = ["武汉", "乌鲁木齐", "成都"]  # answered from a province's or the national rules
TYPES = {
    "employee": "单位职工医保", "flexible": "灵活就业", "resident": "居民医保",
    "unemployed": "领失业金", "retiree": "快退休了",
}
CAUSES = {None: "", "employer": "单位没给交", "personal": "个人原因", "job_change": "换工作"}
# What a part may hold that says nothing of this answer in particular.
_FILLER = (texts.COST_UNKNOWN, texts.DISCLAIMER, "📍", "📚", "☎️", "结论：")


@dataclass
class Talk:
    """One conversation through the real dialog, its state serialised between turns as the store does."""

    on: date
    raw: bytes | None = None
    last: list[OutMessage] = field(default_factory=list)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def send(self, text: str | None = None, payload: str | None = None) -> list[OutMessage]:
        event = InEvent(platform="test", bot_id="b", chat_id="c", user_id="u", chat_kind=ChatKind.PRIVATE,
                        update_id=str(next(self.ids)), text=text, payload=payload)
        turn = _DIALOG.step(ConversationState.loads(self.raw), event, self.on)
        self.raw = turn.state.dumps() if turn.state is not None else None
        self.last = turn.messages
        return turn.messages

    def copy(self) -> Talk:
        return Talk(self.on, self.raw)

    @property
    def state(self) -> ConversationState:
        return ConversationState.loads(self.raw)

    def payloads(self) -> list[str]:
        return [b.payload for m in self.last for b in m.all_buttons()]


def _region_name(code: str) -> str:
    region = _DIALOG.regions.get(code)
    assert region is not None
    return region.full_name or region.name


def _card(talk: Talk) -> OutMessage | None:
    """The answer card of the last turn, if the dialog answered (rather than asked something)."""
    return next((m for m in talk.last if "a:why" in [b.payload for b in m.all_buttons()]), None)


def _said_something(reply: str) -> bool:
    """A part's reply holds a paragraph beyond its heading, verdict, hotline, sources, disclaimer or
    an unknown cost."""
    return any(p.strip() and not p.startswith(_FILLER) for p in reply.split("\n\n"))


def _check_card(talk: Talk) -> None:
    card = _card(talk)
    if card is None:
        return
    slots = dict(talk.state.slots)
    for chip in card.suggestions:
        trial = talk.copy()
        reply = "\n".join(m.text for m in trial.send(chip))
        for wrong in (texts.CANNOT_ANSWER, texts.SAME_AS_BEFORE, texts.NO_EMPLOYER_FOR_RESIDENT, "没能"):
            assert wrong not in reply, (slots, chip, reply)
        if chip == texts.SUGGEST_CAUSE:
            assert slots.get("insurance_type") == "employee" and slots.get("cause") != "employer", (slots, chip)
            assert reply.startswith(texts.WHAT_IF_PREFIX.strip()) and trial.state.slots == slots
        elif chip == texts.SUGGEST_MATERIALS:
            assert "带" in reply, (slots, reply)
        elif chip == texts.SUGGEST_SHORTER_WAIT:
            assert slots.get("insurance_type") == "resident" and "减少" in reply, (slots, reply)
        else:  # a correction example: it changes what was said, to a value not said
            changed = {k: v for k, v in trial.state.slots.items() if slots.get(k) != v}
            assert {"gap_months", "years_paid"} & set(changed), (slots, chip, trial.state.slots)
            loose = slots.get("gap_range") or slots.get("years_range") or [None, None]
            for value in (changed.get("gap_months"), changed.get("years_paid")):
                assert value is None or not (loose[0] is not None and loose[0] <= value <= loose[1]), (slots, chip)
    for payload in (p for p in talk.payloads() if p in ("a:cost", "a:where", "a:when", "a:why", "a:now")):
        [reply] = talk.copy().send(payload=payload)
        assert _said_something(reply.text), (slots, payload, reply.text)


@settings(max_examples=120, deadline=None)
@given(
    region=st.sampled_from(RULE_REGIONS + OTHER_REGIONS),
    kind=st.sampled_from(sorted(TYPES)),
    cause=st.sampled_from(sorted(CAUSES, key=str)),
    gap=st.sampled_from([0, 1, 2, 3, 4, 5, 7, 12, 14, 30, 60]),
    on=st.sampled_from(DAYS),
)
def test_suggestions_and_buttons_fit_the_answer(region: str, kind: str, cause: str | None, gap: int, on: date) -> None:
    talk = Talk(on)
    name = _region_name(region) if region.isdigit() else region
    if kind == "retiree":
        talk.send(f"{name} {TYPES[kind]}")
        talk.send(f"一共交了{gap}年")
    else:
        talk.send(f"{name} {TYPES[kind]} {CAUSES[cause] if kind == 'employee' else ''} 断了{gap}个月")
    for _ in range(3):  # questions still open (cause, the edge, gender…): the first choice
        if _card(talk) is not None or not talk.payloads():
            break
        talk.send(payload=talk.payloads()[0])
    _check_card(talk)


@pytest.mark.parametrize(
    ("said", "not_offered"),
    [
        ("北京 灵活就业 断了5个月", ["不对，是5个月", texts.SUGGEST_CAUSE]),  # a flexible worker has no employer
        ("北京 单位没给交 单位职工医保 断了3个月", [texts.SUGGEST_CAUSE, "不对，是3个月"]),  # already the employer's
        ("聊城 居民医保 断了一年", [texts.SUGGEST_CAUSE, "不对，是1年", texts.SUGGEST_SHORTER_WAIT]),
        ("深圳 新农合 断了2年", [texts.SUGGEST_CAUSE, "不对，是2年"]),
    ],
)
def test_no_suggestion_restates_what_was_said(said: str, not_offered: list[str]) -> None:
    talk = Talk(DAYS[0])
    talk.send(said)
    card = _card(talk)
    assert card is not None and card.suggestions
    assert not set(not_offered) & set(card.suggestions), card.suggestions
    _check_card(talk)


def test_a_near_retiree_is_offered_no_cause_and_no_gap() -> None:
    talk = Talk(DAYS[0])
    talk.send("珠海 快退休了")
    talk.send("交了12年")
    card = _card(talk)
    assert card is not None
    assert texts.SUGGEST_CAUSE not in card.suggestions
    assert not [s for s in card.suggestions if "个月" in s or "断了" in s]
    assert "不对，是交了12年" not in card.suggestions
    _check_card(talk)


def test_a_personal_gap_of_an_employee_is_offered_the_employer_case() -> None:
    talk = Talk(DAYS[0])
    talk.send("深圳 单位职工医保 个人原因 断了2个月")
    card = _card(talk)
    assert card is not None and texts.SUGGEST_CAUSE in card.suggestions
    reply = talk.copy().send(texts.SUGGEST_CAUSE)[0]
    assert texts.SUGGEST_CAUSE not in reply.suggestions  # the hypothetical card is the employer's already


def test_closed_enrolment_offers_no_cost_button_yet_the_question_is_still_answered() -> None:
    """聊城 after its enrolment period: the card has no cost; 费用明细 would only say it is unknown."""
    talk = Talk(DAYS[0])
    talk.send("聊城 居民医保 断了一年")
    card = _card(talk)
    assert card is not None and "费用" not in card.text
    assert "a:cost" not in talk.payloads() and "a:where" in talk.payloads()
    reply = talk.copy().send("要交多少钱")[0].text  # typed, it is still answered honestly
    assert texts.COST_UNKNOWN in reply
    assert texts.STALE_BUTTON not in talk.copy().send(payload="a:cost")[0].text  # an old keyboard's button


def test_nothing_due_offers_only_parts_that_say_something() -> None:
    talk = Talk(DAYS[1])
    talk.send("北京 领失业金")
    assert _card(talk) is not None
    assert "a:now" not in talk.payloads() and "a:when" not in talk.payloads()
    _check_card(talk)


@pytest.mark.parametrize("place", ["台北", "香港", "澳门"])
def test_outside_mainland_is_not_called_unrecognised(place: str) -> None:
    talk = Talk(DAYS[1])
    talk.send("灵活就业 断了3个月")
    first = "\n".join(m.text for m in talk.send(place))
    assert first.startswith(texts.OUTSIDE_MAINLAND) and texts.MAINLAND_REGION in first
    assert "没能识别" not in first and talk.state.step.asking == "region"
    again = "\n".join(m.text for m in talk.send(place))  # the long note once; a short reminder then
    assert texts.OUTSIDE_MAINLAND not in again and texts.MAINLAND_ONLY_AGAIN in again and "没能识别" not in again
    assert talk.state.slots["gap_months"] == 3
    talk.send("北京")
    assert _card(talk) is not None


def test_outside_mainland_after_an_answer_offers_another_region() -> None:
    talk = Talk(DAYS[1])
    talk.send("北京 灵活就业 断了5个月")
    reply = "\n".join(m.text for m in talk.send("台北"))
    assert texts.MAINLAND_OTHER_REGION in reply and texts.CANNOT_ANSWER not in reply
    assert "a:region" in talk.payloads() and talk.state.slots["region"] == "110000"
