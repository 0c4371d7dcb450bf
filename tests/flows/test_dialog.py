"""Conversation tests for GapDialog: every path, corrections, ambiguity, cancel, groups.

The dialog runs with the real rule book and region index; state goes through its
wire format (dumps/loads) between turns, as it does through Redis.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date

import pytest

from flows.dialog import GapDialog
from flows.messages import ChatKind, InEvent, OutMessage
from flows.reminders_ops import SetReminders
from flows.render import VERDICT_LABELS
from flows.state import ANSWERED, START, ConversationState, Step
from flows.turn import CancelReminders, CountReferral, Turn

TODAY = date(2026, 11, 22)


@pytest.fixture(scope="module")
def dialog() -> GapDialog:
    return GapDialog.create()


@dataclass
class Chat:
    """Drives one conversation through the dialog, serialising state like the store does."""

    dialog: GapDialog
    kind: ChatKind = ChatKind.PRIVATE
    user: str = "u1"
    platform: str = "test"
    raw: bytes | None = None
    turns: list[Turn] = field(default_factory=list)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def send(self, text: str | None = None, *, payload: str | None = None, addressed: bool = True,
             start: str | None = None) -> list[OutMessage]:
        event = InEvent(
            platform=self.platform, bot_id="b", chat_id="c1", user_id=self.user, chat_kind=self.kind,
            update_id=str(next(self.ids)), text=text, payload=payload, addressed=addressed,
            start_payload=start,
        )
        turn = self.dialog.step(ConversationState.loads(self.raw), event, TODAY)
        self.raw = turn.state.dumps() if turn.state is not None else None
        self.turns.append(turn)
        return turn.messages

    @property
    def state(self) -> ConversationState:
        return ConversationState.loads(self.raw)

    def text(self) -> str:
        return "\n".join(m.text for m in self.turns[-1].messages)

    def payloads(self) -> list[str]:
        return [b.payload for m in self.turns[-1].messages for b in m.all_buttons()]


def expected_verdict(chat: Chat) -> str:
    answer = chat.dialog.advisor.answer(chat.state.slots, TODAY)
    assert answer is not None
    return VERDICT_LABELS[answer.can_backpay]


def test_start_greets_and_asks_region(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("/start")
    assert "您好" in chat.text()
    assert chat.state.step == Step.ask("region")


def test_one_message_fills_several_slots_and_answers(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("乌鲁木齐灵活就业断了4个月还能补吗")
    slots = chat.state.slots
    assert slots["region"] == "650100"
    assert slots["insurance_type"] == "flexible"
    assert slots["gap_months"] == 4
    assert chat.state.answered
    assert expected_verdict(chat) in chat.text()
    assert "乌鲁木齐" in chat.text()
    assert "线下" in chat.text()  # 3 months or more: offline at the district office (seed 004)
    assert "a:remind" in chat.payloads()


def test_cause_said_in_everyday_words_is_not_asked_again(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("我在宁波上班，公司忘了给我交医保，2个月了")
    assert chat.state.answered and chat.state.slots["cause"] == "employer"
    assert "断缴是什么原因" not in chat.text()


def test_employee_path_asks_cause_and_answers(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("我在宁波上班，单位交的医保断了4个月")
    assert chat.state.step == Step.ask("cause")
    assert "c:employer" in chat.payloads()
    chat.send(payload="c:employer")
    assert chat.state.answered
    assert chat.state.slots["cause"] == "employer"
    assert "单位" in chat.text()  # late fee borne by the employer


def test_employer_cause_from_text(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("公司上个月没给我交医保")
    assert chat.state.slots.get("cause") == "employer"
    assert chat.state.step == Step.ask("region")
    chat.send("乌鲁木齐")
    assert chat.state.answered
    assert expected_verdict(chat) in chat.text()


def test_resident_path_by_buttons(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("/start")
    chat.send("聊城")
    assert chat.state.step == Step.ask("insurance_type")
    chat.send(payload="t:resident")
    assert chat.state.step == Step.ask("gap_months")
    chat.send(payload="g:18")
    assert chat.state.answered
    assert "等待期" in chat.text()


def test_unemployed_path(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("景德镇，领失业金期间医保断了2个月")
    assert chat.state.slots["insurance_type"] == "unemployed"
    assert chat.state.answered
    # The fund pays while benefit is drawn: nothing is the person's to back-pay (not "❌ 不能补缴",
    # not "✅ 可以补缴" with channels), and what to do instead is said.
    text = chat.text()
    assert "无需个人补缴" in text and "失业保险基金" in text and "确认代缴" in text
    assert not any(w in text for w in ("不能补缴", "可以补缴", "办理：", "等待期")), text


def test_unemployed_is_not_asked_how_long_the_gap_is(dialog: GapDialog) -> None:
    """While unemployment benefit is drawn the fund pays: no gap to ask about."""
    chat = Chat(dialog)
    chat.send("我失业了在领失业金，医保还要自己交吗")
    chat.send("景德镇")
    assert chat.state.answered and "gap_months" not in chat.state.slots
    # nothing is the person's to back-pay: said as such, never as "❌ 不能补缴"
    text = chat.text()
    assert "无需个人补缴" in text and "失业保险基金" in text and "不能补缴" not in text, text


def test_retiree_path_asks_years_and_gender(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("我在徐州，快退休了，医保年限不够")
    asked = chat.state.step
    assert asked in (Step.ask("years_paid"), Step.ask("gender"))
    for _ in range(3):
        step = chat.state.step
        if step == Step.ask("years_paid"):
            chat.send("18")
        elif step == Step.ask("gender"):
            chat.send(payload="x:female")
        elif step == Step.ask("monthly_base"):
            chat.send(payload="skip:monthly_base")
    assert chat.state.slots["years_paid"] == 18
    assert chat.state.answered
    assert "年" in chat.text()


def test_region_without_local_rules_says_national(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("拉萨灵活就业断了2个月")
    assert chat.state.answered
    answer = dialog.advisor.answer(chat.state.slots, TODAY)
    assert answer is not None and str(answer.rule_level) == "national"
    assert "12393" in chat.text()


def test_long_gap_vs_short_gap_differ(dialog: GapDialog) -> None:
    short, long_ = Chat(dialog), Chat(dialog)
    short.send("乌鲁木齐单位职工医保断了1个月，我自己的原因")
    long_.send("乌鲁木齐单位职工医保断了8个月，我自己的原因")
    a = dialog.advisor.answer(short.state.slots, TODAY)
    b = dialog.advisor.answer(long_.state.slots, TODAY)
    assert a is not None and b is not None
    assert (a.waiting_months, a.channel_kinds) != (b.waiting_months, b.channel_kinds)


def test_correction_reanswers_without_starting_over(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("乌鲁木齐灵活就业断了4个月还能补吗")
    chat.send("不对，是2个月")
    assert chat.state.slots["gap_months"] == 2
    assert chat.state.slots["region"] == "650100"
    assert chat.state.answered
    assert "已改为：断缴2个月" in chat.text()
    assert chat.turns[-1].messages[0].view is not None
    assert chat.turns[-1].messages[0].view.changed == ("gap_months",)
    chat.send("换成北京")
    assert chat.state.slots["region"] == "110000"
    assert chat.state.slots["gap_months"] == 2


def test_what_if_keeps_the_real_slots(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("乌鲁木齐单位职工医保断了5个月，是我自己换工作断的")
    if chat.state.step == Step.ask("cause"):
        chat.send(payload="c:personal")
    assert chat.state.answered
    chat.send("如果是单位原因呢")
    assert "假设" in chat.text()
    assert chat.state.slots["cause"] == "personal"


def test_ambiguous_region_is_asked_back(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("朝阳灵活就业断了3个月")
    assert chat.state.step == Step.ask("region")
    assert "region" not in chat.state.slots
    choices = [p for p in chat.payloads() if p.startswith("r:")]
    assert "r:110105" in choices and len(choices) >= 2
    assert chat.state.slots["gap_months"] == 3  # the rest of the message is kept
    chat.send(payload="r:110105")
    assert chat.state.slots["region"] == "110105"
    assert chat.state.answered


def test_unreadable_reply_reasks_politely_and_keeps_slots(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("北京")
    before = dict(chat.state.slots)
    chat.send("啊啊啊？？")
    assert chat.state.slots == before
    assert chat.state.step == Step.ask("insurance_type")
    assert "t:flexible" in chat.payloads()


def test_stale_or_forged_button_is_refused(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("北京")
    chat.send(payload="t:astronaut")
    assert "失效" in chat.text()
    chat.send(payload="garbage")
    assert chat.state.slots == {"region": "110000"}


def test_back_restores_previous_slots(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("北京")
    chat.send(payload="t:flexible")
    assert "a:back" in chat.payloads()
    chat.send("返回上一步")
    assert "insurance_type" not in chat.state.slots
    assert chat.state.step == Step.ask("insurance_type")
    chat.send(payload="t:resident")
    chat.send(payload="a:back")
    assert "insurance_type" not in chat.state.slots


def test_cancel_forgets_everything(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("乌鲁木齐灵活就业断了4个月")
    chat.send("/cancel")
    assert chat.raw is None
    assert any(isinstance(e, CancelReminders) for e in chat.turns[-1].effects)


def test_restart_and_help(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("乌鲁木齐灵活就业断了4个月")
    chat.send("/help")
    assert "/cancel" in chat.text()
    assert chat.state.slots["region"] == "650100"
    chat.send("/restart")
    assert chat.state.slots == {}


def test_unanswerable_question_is_honest(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("乌鲁木齐灵活就业断了4个月")
    chat.send("医保卡丢了怎么补办")
    assert "12393" in chat.text()
    assert chat.state.slots["gap_months"] == 4


def test_reminders_in_private(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("乌鲁木齐灵活就业断了4个月")
    chat.send(payload="a:remind")
    assert not chat.turns[-1].effects  # offered, not set: nothing is set before the user presses
    assert "rp:*" in chat.payloads()
    chat.send(payload="rp:*")
    [op] = chat.turns[-1].effects
    assert isinstance(op, SetReminders) and op.specs
    assert all(s.due.date() > TODAY for s in op.specs)


def test_group_ignores_unaddressed_talk(dialog: GapDialog) -> None:
    chat = Chat(dialog, kind=ChatKind.GROUP)
    assert chat.send("乌鲁木齐灵活就业断了4个月", addressed=False) == []
    assert chat.state.slots == {} and chat.state.step == START


def test_group_general_answer_then_private_handoff(dialog: GapDialog) -> None:
    chat = Chat(dialog, kind=ChatKind.GROUP)
    chat.send("乌鲁木齐灵活就业医保断了能补吗")
    assert chat.state.answered
    handoff = [m for m in chat.turns[-1].messages if m.private_payload]
    assert handoff, "a personal detail is missing: the bot offers a private chat"
    private = Chat(dialog)
    private.send("/start", start=handoff[0].private_payload)
    assert private.state.slots["region"] == "650100"
    assert private.state.slots["insurance_type"] == "flexible"
    assert private.state.step == Step.ask("gap_months")


def test_deep_link_prefills_region_and_counts_referral(dialog: GapDialog) -> None:
    from flows.deeplink import StartContext, encode_start

    payload = encode_start(StartContext(region_code="650102", source="tianshan01", slots={}))
    chat = Chat(dialog)
    chat.send("/start", start=payload)
    assert chat.state.slots["region"] == "650102"
    assert CountReferral("tianshan01") in chat.turns[-1].effects
    assert chat.state.step == Step.ask("insurance_type")


def test_tampered_deep_link_starts_normally(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("/start", start="r999999-x-tampered")
    assert chat.state.slots == {}
    assert not chat.turns[-1].effects
    assert chat.state.step == Step.ask("region")


def test_non_text_message_is_handled(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("北京")
    chat.send(None)
    assert "文字" in chat.text()
    assert chat.state.slots == {"region": "110000"}


def test_reminder_before_the_backpay_window_closes(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("乌鲁木齐单位职工医保，上个月开始没交，是我自己换工作断的")
    assert chat.state.answered
    chat.send(payload="a:remind")
    assert "rp:w" in chat.payloads()
    chat.send(payload="rp:w")
    [op] = chat.turns[-1].effects
    assert isinstance(op, SetReminders)
    [spec] = op.specs
    answer = dialog.advisor.answer(chat.state.slots, TODAY)
    assert answer is not None
    deadline = answer.backpay_deadline
    assert deadline is not None
    assert spec.kind == "w" and spec.due.date() < deadline
    assert spec.arg == deadline.isoformat()


# ----------------------------------------------------------------------- follow-up questions
def _answered_urumqi(dialog: GapDialog, extra: str = "") -> Chat:
    chat = Chat(dialog)
    chat.send("乌鲁木齐灵活就业断了4个月" + extra)
    assert chat.state.answered
    return chat


def test_cost_question_after_the_answer_gets_the_cost_part_only(dialog: GapDialog) -> None:
    chat = _answered_urumqi(dialog, "，基数4000")
    full = chat.text()
    replies = chat.send("要交多少钱")
    assert len(replies) == 1
    text = replies[0].text
    assert "💰 费用估算" in text and "滞纳金" in text  # the asked part, with its formula
    assert "什么时候能用" not in text and "📄 带什么" not in text  # not the whole answer again
    assert "📚 依据" in text and "以当地医保经办机构的答复为准" in text  # still sourced and hedged
    assert "结论" not in text and "结论" in full  # the verdict is not repeated with the cost
    assert "a:remind" in chat.payloads()  # the next steps stay on offer


def test_when_and_where_questions_get_their_parts(dialog: GapDialog) -> None:
    chat = _answered_urumqi(dialog)
    when = chat.send("什么时候能报销")[0].text
    assert "什么时候能用" in when and "恢复报销" in when
    assert "💰" not in when
    where = chat.send("在哪里办，要带什么")[0].text
    assert "去哪办" in where and "📄 带什么" in where and "☎️ 咨询" in where
    assert "什么时候能用" not in where


def test_follow_up_sources_are_those_behind_the_asked_part(dialog: GapDialog) -> None:
    chat = _answered_urumqi(dialog)
    answer = dialog.advisor.answer(chat.state.slots, TODAY)
    assert answer is not None
    when = chat.send("什么时候能报销")[0].text
    line = next(line for line in when.splitlines() if line.startswith("📚 依据："))
    named = [s for s in answer.sources if s.title in line]
    assert named and len(named) <= len(answer.sources)


def test_cost_question_without_a_base_asks_for_it(dialog: GapDialog) -> None:
    # 乌鲁木齐's rules name no reference base: the cost cannot be estimated until the user gives one.
    chat = _answered_urumqi(dialog)
    text = chat.send("要交多少钱")[0].text
    assert "还缺您的月缴费基数" in text and "💰 费用估算" not in text
    assert "滞纳金" in text and "万分之五" in text  # what is known is still said
    assert "a:base" in chat.payloads()


def test_giving_the_base_after_the_answer_re_estimates_the_cost(dialog: GapDialog) -> None:
    chat = _answered_urumqi(dialog)
    chat.send(payload="a:base")
    assert chat.state.step == Step.ask("monthly_base")
    text = chat.send("4000")[0].text
    assert text.startswith("好的，已按缴费基数4000元重新估算")
    assert "4000 × " in text and "按您提供的缴费基数" in text
    assert chat.state.slots["monthly_base"] == 4000
    assert chat.state.step == ANSWERED
    assert "a:base" not in chat.payloads()  # asked and answered: no second offer


def test_a_changed_fact_gets_a_new_card_marked_changed(dialog: GapDialog) -> None:
    chat = _answered_urumqi(dialog)
    chat.send("不对，是5个月")
    assert "已改为：断缴5个月" in chat.text() and "断缴5个月" in chat.text()
    assert "a:when" in chat.payloads() and "a:where" in chat.payloads()  # the parts stay one tap away
