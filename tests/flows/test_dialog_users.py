"""Conversation tests from trying the bot as new users would (issue 9, second pass): each case is
one thing a person read that was wrong, repeated or strange."""

from __future__ import annotations

import re
from datetime import date

import pytest

from flows.dialog import GapDialog
from flows.messages import ChatKind
from flows.render import render_topic
from flows.state import Step
from flows.understand import understand
from policies.model import Gender, InsuranceType
from tests.flows.test_dialog import Chat

TODAY = date(2026, 11, 22)


@pytest.fixture(scope="module")
def dialog() -> GapDialog:
    return GapDialog.create()


def _buttons(chat: Chat) -> list[str]:
    return chat.payloads()


def test_question_at_an_edge_is_answered_for_both_outcomes(dialog: GapDialog) -> None:
    """"那怎么办" instead of answering "刚好3个月还是超过3个月": no generic re-ask of the gap, no
    "。？", no answer labelled with a value the user did not give."""
    chat = Chat(dialog)
    chat.send("我在乌鲁木齐，灵活就业，断了三个多月")
    assert chat.state.step == Step.ask("gap_months")
    reply = chat.send("那怎么办")[0].text
    assert "断缴多久了" not in reply
    assert "。？" not in reply
    assert "断缴3个月" not in reply and "约3–4个月" in reply
    assert reply.rstrip().endswith("是刚好3个月，还是已经超过3个月？")
    assert _buttons(chat) == ["g:3", "g:4", "a:both"]
    assert chat.state.step == Step.ask("gap_months")  # the short question is still open


def test_question_at_an_edge_shows_what_differs_under_each_side(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("北京 灵活就业 断了小半年")
    assert chat.state.step == Step.ask("gap_months")
    reply = chat.send("住院能报吗")[0].text
    assert "【刚好4个月或更短】" in reply and "【超过4个月】" in reply
    assert reply.index("【刚好4个月或更短】") < reply.index("【超过4个月】")


def test_pending_question_is_repeated_short_without_odd_punctuation(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("武汉 快退休了")
    assert chat.state.step == Step.ask("years_paid")
    reply = chat.send("要交多少钱")[0].text
    assert "。？" not in reply and "？？" not in reply
    assert "一共交了多少年？" in reply and "（例如" not in reply.split("\n\n")[0]


def test_loose_gap_without_an_edge_is_not_labelled_as_exact(dialog: GapDialog) -> None:
    """宜昌 counts days and 3–4 months fall in one band: no question, but the card says "约3–4个月"."""
    chat = Chat(dialog)
    reply = chat.send("宜昌 个人交社保 断了三个多月")[0].text
    assert "约3–4个月（按3个月计算）" in reply
    assert "断缴3个月" not in reply


@pytest.mark.parametrize("text", ["北京 老板忘记交医保5个月了", "杭州 公司3个月没给我交医保"])
def test_employer_gap_offers_no_base_and_says_whose_payment(dialog: GapDialog, text: str) -> None:
    chat = Chat(dialog)
    card = chat.send(text)[0].text
    assert "a:base" not in _buttons(chat)  # the person pays nothing: no estimate to refine
    assert "如今天补缴" not in card
    when = chat.send(payload="a:when")[0].text
    assert "等待期无等待期" not in when
    assert "如今天补缴" not in when


def test_employer_cost_part_cites_the_sources_of_the_employer_duty(dialog: GapDialog) -> None:
    """费用明细 for an employer's gap cites what states the employer's duty, not the estimate's base
    (上海's base figures) nor only the local page on late fees (乌鲁木齐)."""
    for code in ("310000", "650100"):
        answer = dialog.advisor.answer(
            {"region": code, "insurance_type": "employee", "gap_months": 4, "cause": "employer"}, TODAY
        )
        assert answer is not None and answer.employer_duty is not None
        cited = next(p for p in render_topic(answer, TODAY, {"cost"}).text.split("\n\n") if p.startswith("📚"))
        assert "缴费基数" not in cited
        for source in answer.employer_duty.sources:
            assert source.title in cited


@pytest.mark.parametrize("text", ["比如说我在成都，公司没给交三个月", "比如 成都 灵活就业 断了2个月"])
def test_biru_is_a_word_not_a_county(dialog: GapDialog, text: str) -> None:
    chat = Chat(dialog)
    reply = chat.send(text)[0].text
    assert "比如县" not in reply
    assert "成都市" in reply
    assert not re.search(r"r:540622", " ".join(_buttons(chat)))


@pytest.mark.parametrize(("text", "full"), [("河南周口", "河南省周口市"), ("河北石家庄", "河北省石家庄市")])
def test_province_then_city_is_the_city(dialog: GapDialog, text: str, full: str) -> None:
    """"河南" is also a county in 青海 and "河北" a district of 天津: with a city after it, the
    province is only its parent, not a second place to choose from."""
    chat = Chat(dialog)
    chat.send("新农合 老家 断了 两年")
    reply = chat.send(text)[0].text
    assert full in reply
    assert "同名" not in reply
    assert chat.state.answered


def test_materials_after_a_no_cite_sources_once(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("北京灵活就业断了5个月")
    reply = chat.send("需要带什么材料")[0].text
    assert "现在怎么办" in reply
    assert reply.count("📚") == 1


@pytest.mark.parametrize("question", ["能补吗", "要交多少钱"])
def test_a_question_before_the_region_is_not_read_as_a_bad_region(dialog: GapDialog, question: str) -> None:
    chat = Chat(dialog)
    chat.send("你好")
    reply = chat.send(question)[0].text
    assert "没能识别" not in reply
    assert "哪个城市" in reply
    assert chat.state.step == Step.ask("region")


@pytest.mark.parametrize("text", ["深圳 自己交 断了7个月", "自己交断了3个月", "自己交钱的，断了两个月"])
def test_self_payer_said_without_a_noun_is_flexible(dialog: GapDialog, text: str) -> None:
    heard = understand(text, TODAY, dialog.regions)
    assert heard.insurance_type is InsuranceType.FLEXIBLE
    assert heard.cause is None  # who pays, not whose fault the gap is


def test_what_now_after_a_conditional_also_says_what_to_do_if_not_allowed(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("深圳 自己交 断了7个月")
    reply = chat.send("那怎么办")[0].text
    assert "有条件补缴" in reply
    assert "如果当地不允许补缴这段：" in reply and "重新参保" in reply
    assert reply.count("📚") == 1


def test_card_keeps_a_channel_name_with_brackets_inside(dialog: GapDialog) -> None:
    """乌鲁木齐's window is "参保所在地的区（县）医保分中心窗口（…）": not cut to "参保所在地的区"."""
    chat = Chat(dialog)
    card = chat.send("乌鲁木齐灵活就业断了2个月")[0].text
    assert "线下（参保所在地的区）" not in card
    assert "区（县）医保分中心" in card


def test_group_follow_up_at_an_edge_asks_nothing_personal(dialog: GapDialog) -> None:
    chat = Chat(dialog, kind=ChatKind.GROUP)
    chat.send("乌鲁木齐灵活就业断了三个多月还能补吗")
    reply = chat.send("要带啥")[0].text
    assert "还想确认" not in reply
    assert "g:3" not in _buttons(chat) and "a:where" in _buttons(chat)


@pytest.mark.parametrize(
    ("reply", "months"), [("超过了", 4), ("不止三个月", 4), ("刚好", 3), ("没超过", 3), ("正好三个月", 3)]
)
def test_edge_question_is_answered_in_words(dialog: GapDialog, reply: str, months: int) -> None:
    chat = Chat(dialog)
    chat.send("我在乌鲁木齐，灵活就业，断了三个多月")
    text = chat.send(reply)[0].text
    assert chat.state.answered and chat.state.slots["gap_months"] == months
    assert f"断缴{months}个月" in text and "没能读出" not in text


@pytest.mark.parametrize("how", ["不清楚", "payload"])
def test_unsure_at_the_edge_gets_both_outcomes_verdict_first(dialog: GapDialog, how: str) -> None:
    chat = Chat(dialog)
    chat.send("我在乌鲁木齐，灵活就业，断了三个多月")
    text = chat.send(payload="a:both")[0].text if how == "payload" else chat.send(how)[0].text
    assert chat.state.answered
    assert text.index("结论") < text.index("【刚好3个月或更短】") < text.index("【超过3个月】")
    assert "a:where" in _buttons(chat)
    follow = chat.send("住院能报吗")[0].text  # follow-ups keep answering both sides
    assert "【超过3个月】" in follow


def test_unread_reply_at_the_edge_repeats_the_short_question(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("我在乌鲁木齐，灵活就业，断了三个多月")
    text = chat.send("嗯嗯")[0].text
    assert "是刚好3个月（或更短），还是已经超过3个月？" in text
    assert "没能读出" not in text and "g:9" not in _buttons(chat)


def test_both_button_is_stale_once_the_edge_is_answered(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("我在乌鲁木齐，灵活就业，断了三个多月")
    chat.send(payload="g:4")
    chat.send(payload="a:both")
    assert chat.turns[-1].messages[0].meta.get("press") == "stale"


def test_a_new_number_at_the_edge_question_wins_over_its_words(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("我在乌鲁木齐，灵活就业，断了三个多月")
    chat.send("超过5个月了")
    assert chat.state.slots["gap_months"] == 5


def test_a_lone_gender_between_spaces_is_read(dialog: GapDialog) -> None:
    heard = understand("退休了 还差3年 成都 女 已经交了12年", TODAY, dialog.regions)
    assert heard.gender is Gender.FEMALE and heard.years_paid == 12


def test_a_correction_that_leads_to_a_question_does_not_promise_a_result(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("医宝断交3个月了 杭州 灵活就业")
    reply = chat.send("不是灵活就业，是单位的")[0].text
    assert chat.state.step == Step.ask("cause")
    assert "结果如下" not in reply and "已改为：单位职工医保。" in reply


def test_a_loose_gap_across_a_band_with_another_condition_is_asked(dialog: GapDialog) -> None:
    """"半年多" in a region without rules: 6 months and 7 months read differently (3–6 months
    "部分地区允许补缴" vs over 6 "多数地区不能再补缴"), though both are "conditional"."""
    chat = Chat(dialog)
    chat.send("我老公的医保断了半年多 厦门 单位的")
    chat.send("原因是他离职了")
    assert chat.state.step == Step.ask("gap_months")
    assert "a:both" in _buttons(chat)


def test_after_saying_unsure_the_edge_question_is_not_asked_again(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("我在乌鲁木齐，灵活就业，断了三个多月")
    chat.send(payload="a:both")
    reply = chat.send("需要带什么材料")[0].text
    assert "还想确认" not in reply and "g:3" not in _buttons(chat)
    assert "a:where" in _buttons(chat)
    chat.send("不对，是两个多月")  # a new gap: a later edge may be asked again
    assert "gap_edge" not in chat.state.slots.get("skipped", [])


def test_declaration_date_unknown_is_said_plainly(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("苏州 灵活就业 断了2个月")
    reply = chat.send("几号申报")[0].text
    assert "资料里没有江苏省苏州市申报、缴费的具体日期" in reply
    assert "📄 带什么" not in reply  # the date was asked, not the whole where-part


def test_facts_given_after_a_group_answer_are_noted_not_changed(dialog: GapDialog) -> None:
    chat = Chat(dialog, kind=ChatKind.GROUP)
    chat.send("宁波")
    chat.send("职工医保")
    reply = chat.send("公司没交 两个月")[0].text
    assert reply.startswith("好的，已记下：断缴2个月，单位原因，结果如下：")
    assert "已改为" not in reply


def test_repeating_the_facts_with_an_off_topic_question(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("北京 灵活就业 断了3个月")
    reply = chat.send("医保卡丢了，顺便问下断缴3个月影响吗")[0].text
    assert reply.startswith("另外：医保卡（社保卡）挂失、补办不在我能算的范围")
    assert "结果不变" in reply and "重新计算" not in reply


@pytest.mark.parametrize("ack", ["好的", "嗯嗯", "知道了", "ok"])
def test_an_acknowledgement_is_not_an_unanswerable_question(dialog: GapDialog, ack: str) -> None:
    chat = Chat(dialog)
    chat.send("北京 灵活就业 断了3个月")
    reply = chat.send(ack)[0].text
    assert "答不上来" not in reply and "a:where" in _buttons(chat)
    pending = Chat(dialog)
    pending.send("你好")
    again = pending.send(ack)[0].text
    assert "没能识别" not in again and "哪个城市" in again


@pytest.mark.parametrize(
    ("text", "months", "loose", "days"),
    [
        ("断了90天", 3, None, 90),
        ("宜昌 断了61天", 2, None, 61),
        ("断了100天", 3, None, 100),  # exact days: the engine counts the months from them
        ("100多天没交", 3, (3, 4), 101),  # the least "100多天" means
        ("三个月零几天", 3, (3, 4), None),
        ("断了仨月", 3, None, None),
        ("断了十来个月", 10, (10, 11), None),
        ("三个来月", 3, (3, 4), None),
        ("快90天没交", 3, (2, 3), None),  # just under 90 days: loose months, no day count
        ("补缴需30日内完成", None, None, None),  # a deadline, not a gap
    ],
)
def test_days_and_spoken_durations(dialog: GapDialog, text: str, months: int | None,
                                   loose: tuple[int, int] | None, days: int | None) -> None:
    heard = understand(text, TODAY, dialog.regions)
    assert heard.gap_months == months
    assert heard.gap_range == loose
    assert heard.gap_days == days


def test_both_outcomes_cite_sources_once_and_offer_the_base_they_ask_for(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("宁波 换工作 断了三个多月")
    chat.send(payload="a:both")
    text = chat.send(payload="a:cost")[0].text
    assert text.count("📚") == 1
    assert "不管是刚好3个月还是超过3个月" in text
    assert "a:base" in _buttons(chat)  # the cost part asks for the base: its button is there


def test_employer_what_if_after_a_resident_answer_is_explained_not_switched(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    card = chat.send("深圳 新农合 断了一年")[0]
    assert "如果是单位原因呢" not in card.suggestions
    reply = chat.send("如果是单位原因呢")[0].text
    assert "没有单位代缴" in reply and "单位职工医保 ·" not in reply
    assert chat.state.slots["insurance_type"] == "resident"
    chat.send("是单位交的职工医保")
    assert chat.state.slots["insurance_type"] == "employee"


@pytest.mark.parametrize(
    ("said", "verdict", "wait"),
    [("60天", "可以补缴", "不设等待期"), ("61天", "可以补缴", "等待期3个月"),
     ("180天", "可以补缴", "等待期3个月"), ("181天", "不能补缴", None), ("180多天", "不能补缴", None)],
)
def test_a_gap_in_days_reaches_the_engine_as_days(dialog: GapDialog, said: str, verdict: str,
                                                  wait: str | None) -> None:
    # 宜昌 counts days (60/61, 180/181): the dialog must not round the days to months on the way.
    chat = Chat(dialog)
    card = chat.send(f"宜昌 灵活就业 断了{said}")[0].text
    assert f"断缴{said}" in card and verdict in card
    assert wait is None or wait in card
    assert chat.state.slots["gap_days"] == int(said.rstrip("多天")) + ("多" in said)


def test_a_gap_in_months_after_days_drops_the_days(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("宜昌 灵活就业 断了181天")
    card = chat.send("说错了，断了2个月")[0].text
    assert "gap_days" not in chat.state.slots and "可以补缴" in card and "181天" not in card


def test_no_gap_this_month_says_nothing_to_pay_back(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    card = chat.send("北京 灵活就业 这个月没交")[0].text
    assert "无需补缴" in card
    assert not any(w in card for w in ("可以补缴", "不能补缴", "重新参保", "0元", "断缴0个月"))


@pytest.mark.parametrize("first", ["珠海 退休 交了26年", "北京 灵活就业 这个月没交"])
def test_nothing_to_pay_back_reads_so_in_every_follow_up(dialog: GapDialog, first: str) -> None:
    # review: a retiree with the years read "不能补缴（…无需补缴）"; 什么时候能用 after no gap read
    # "这段断缴一般补不上，重新参保后…"
    chat = Chat(dialog)
    card = chat.send(first)[0].text
    assert "无需补缴" in card and "不能补缴" not in card
    for ask in ("现在怎么办", "什么时候能用", "要交多少钱", "去哪办"):
        text = "\n".join(m.text for m in chat.send(ask))
        assert "无需补缴" in text, (ask, text)
        assert not any(w in text for w in ("不能补缴", "补不上", "重新参保", "补缴费用", "等待期")), (ask, text)


def test_a_lost_job_is_not_unemployment_benefit(dialog: GapDialog) -> None:
    lost = Chat(dialog).send("北京 失业了 医保断了3个月")[0].text
    assert "领取失业金" not in lost and "单位职工医保" in lost and "离职" in lost
    benefit = Chat(dialog).send("北京 领取失业保险金 医保断了3个月")[0].text
    assert "领取失业金期间" in benefit and "失业保险基金" in benefit


def test_where_after_a_conditional_lists_each_channel_once(dialog: GapDialog) -> None:
    # review: 乌鲁木齐 灵活就业 断了4个月 → 去哪办 listed a channel twice beside the local one
    chat = Chat(dialog)
    chat.send("乌鲁木齐 灵活就业 断了4个月")
    where = chat.send("去哪办")[0].text
    lines = [line for line in where.splitlines() if line.startswith(("线上：", "线下："))]
    assert lines and len(lines) == len(set(lines))
    assert "区（县）医保分中心窗口" in where and "仅适用于" in where


# ------------------------------------------------------------------ third pass (conv5): numbers and causes
@pytest.mark.parametrize(
    ("first", "reply"),
    [("武汉 快退休了", "16年"), ("武汉 快退休了", "不对，是16年")],
)
def test_years_answering_the_years_question_are_not_a_gap(dialog: GapDialog, first: str, reply: str) -> None:
    """"一共交了多少年？（例如“18年”）" answered "16年" read "已记下：断缴192个月，已缴16年"."""
    chat = Chat(dialog)
    chat.send(first)
    assert chat.state.step == Step.ask("years_paid")
    text = chat.send(reply)[0].text
    assert "已缴16年" in text and "断缴" not in text
    assert chat.state.slots["years_paid"] == 16.0 and "gap_months" not in chat.state.slots


def test_near_retiree_correcting_years_after_the_answer(dialog: GapDialog) -> None:
    """After the answer, a near-retiree's "不对，是16年" corrects the years (no gap is ever asked of
    them): it read "已记下：断缴192个月" and put that gap on the card."""
    chat = Chat(dialog)
    chat.send("武汉 快退休了 交了15年")
    chat.send("男")
    assert chat.state.answered
    card = chat.send("不对，是16年")[0].text
    assert "已缴16年" in card and "断缴192个月" not in card
    assert chat.state.slots["years_paid"] == 16.0 and "gap_months" not in chat.state.slots


def test_a_stretch_of_years_still_answers_the_gap_question(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("北京 灵活就业")
    assert chat.state.step == Step.ask("gap_months")
    chat.send("一年半")
    assert chat.state.slots["gap_months"] == 18 and "years_paid" not in chat.state.slots


def test_employer_named_before_a_time_phrase_is_not_asked_again(dialog: GapDialog) -> None:
    """"老板从去年10月开始就没给我交社保了" was asked "断缴是什么原因？"."""
    chat = Chat(dialog)
    reply = chat.send("老板从去年10月开始就没给我交社保了，深圳")[0].text
    assert chat.state.slots.get("cause") == "employer"
    assert "什么原因" not in reply


def test_resident_year_said_after_the_type_is_read(dialog: GapDialog) -> None:
    """"从前年就没交了" after 居民医保 was answered "没能读出断缴时长"."""
    chat = Chat(dialog)  # today 2026-11-22
    chat.send("居民医保")
    chat.send("周口")
    assert chat.state.step == Step.ask("gap_months")
    reply = chat.send("从前年就没交了")[0].text
    assert "没能读出" not in reply and "2024年1月起断缴" in reply
    assert chat.state.slots["gap_months"] == 34


@pytest.mark.parametrize("question", ["要去哪里投诉", "公司不给交能举报吗"])
def test_complaint_about_the_employer_gets_the_employers_duty(dialog: GapDialog, question: str) -> None:
    """"要去哪里投诉" was answered with where to pay only, not where to report an employer."""
    chat = Chat(dialog)
    chat.send("东莞 公司 3个月没给交")
    assert chat.state.answered
    text = "\n".join(m.text for m in chat.send(question))
    assert "社会保险费征收机构反映" in text


@pytest.mark.parametrize("question", ["会不会清零", "之前交的会不会作废", "咋整"])
def test_everyday_follow_ups_are_answered_not_declined(dialog: GapDialog, question: str) -> None:
    """These got "抱歉，这个问题我答不上来" though the answer's parts say it (连续缴费年限, 现在怎么办)."""
    chat = Chat(dialog)
    chat.send("郑州 灵活就业 断了5个月")
    assert chat.state.answered
    text = "\n".join(m.text for m in chat.send(question))
    assert "答不上来" not in text and ("连续缴费年限" in text or "现在怎么办" in text)


def test_a_correction_while_asking_says_it_replaced_the_value(dialog: GapDialog) -> None:
    """"不对，是灵活就业" while the gap was asked read "好的，已记下：灵活就业…" as if it were new."""
    chat = Chat(dialog)
    chat.send("长沙 医保断了")
    chat.send("职工医保")
    reply = chat.send("不对，是灵活就业")[0].text
    assert reply.startswith("🔄 已改为：灵活就业人员职工医保。")
    assert chat.state.step == Step.ask("gap_months")
