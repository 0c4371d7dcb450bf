"""The first answer card: short for every rule region × type × cause, local facts kept, a view attached."""

from __future__ import annotations

from datetime import date

import pytest

from flows.answer_facts import facts_of
from flows.dialog import GapDialog
from flows.render import CARD_MAX_CHARS, render_card, render_topic
from policies import BackpayVerdict, Cause, InsuranceType, Query
from policies.loader import RULES_DIR, load_rule_files

TODAY = date(2025, 6, 10)
RULE_REGIONS = sorted(rf.region_code for rf in load_rule_files(RULES_DIR) if rf.region_code != "000000")
GAPS = (1, 3, 4, 7, 13, 40)
# The longest echo a correction can put before a card.
LONG_ECHO = "🔄 已改为：新疆维吾尔自治区乌鲁木齐市，灵活就业人员职工医保，断缴约3–4个月，换工作/离职，结果如下（有变化的地方以此为准）："  # either side of the usual 3- and 6-month edges, and long gaps


@pytest.fixture(scope="module")
def dialog() -> GapDialog:
    return GapDialog.create()


@pytest.mark.parametrize("code", RULE_REGIONS)
def test_first_card_fits_350_characters_for_every_type_cause_and_gap(dialog: GapDialog, code: str) -> None:
    book = dialog.advisor.rulebook
    for kind in InsuranceType:
        for cause in (Cause.EMPLOYER, Cause.PERSONAL, Cause.UNKNOWN):
            for gap in GAPS:
                answer = book.answer(Query(code, kind, TODAY, gap_months=gap, cause=cause, years_paid=10.0))
                card = render_card(answer, TODAY, prefix=LONG_ECHO, changed=("region",))
                where = f"{code} {kind} {cause} {gap}"
                assert len(card.text) <= CARD_MAX_CHARS, where
                assert card.text.splitlines()[-1].startswith("依据："), where  # never cut away
                assert card.text.count("结论：") == 1, where
                expected = "nothing_due" if answer.no_gap else answer.can_backpay.value
                assert card.view is not None and card.view.verdict == expected, where
                if answer.no_gap:  # nothing to pay back: never drawn as a refusal
                    assert "❌" not in card.text and not card.view.cost_rows, where
                if answer.can_backpay is BackpayVerdict.NO:  # the verdict governs: no cost, no back-pay
                    assert "费用：" not in card.text and not card.view.cost_rows, where
                    assert card.view.timeline.paid_on is None, where


@pytest.mark.parametrize("code", RULE_REGIONS)
def test_local_facts_are_never_dropped_behind_the_basis_button(dialog: GapDialog, code: str) -> None:
    for kind in (InsuranceType.FLEXIBLE, InsuranceType.EMPLOYEE, InsuranceType.RESIDENT):
        answer = dialog.advisor.rulebook.answer(Query(code, kind, TODAY, gap_months=2))
        why = render_topic(answer, TODAY, {"why"}).text
        for fact in facts_of(answer, TODAY).local_notes:
            assert fact in why, (code, kind, fact)


def test_tianjin_keeps_its_declaration_window_and_pension_requirement(dialog: GapDialog) -> None:
    answer = dialog.advisor.rulebook.answer(Query("120000", InsuranceType.FLEXIBLE, TODAY, gap_months=2))
    card = render_card(answer, TODAY).text
    assert "26日至次月15日" in card  # the card has room for it
    why = render_topic(answer, TODAY, {"why"}).text
    where = render_topic(answer, TODAY, {"where"}).text
    assert "26日至次月15日" in why and "26日至次月15日" in where
    assert "养老保险" in why
    # Local facts come before national generic notes.
    assert why.index("26日至次月15日") < why.index("个人账户不再划入")


def test_a_long_reason_is_cut_on_the_card_and_whole_behind_the_basis_button(dialog: GapDialog) -> None:
    answer = dialog.advisor.rulebook.answer(Query("330200", InsuranceType.FLEXIBLE, TODAY, gap_months=1))
    assert answer.condition is not None and len(answer.condition) > 120
    card = render_card(answer, TODAY, prefix=LONG_ECHO).text
    assert "全文见“依据和说明”" in card
    assert answer.condition in render_topic(answer, TODAY, {"why"}).text


def test_national_practice_says_so_first_and_local_rule_is_labelled(dialog: GapDialog) -> None:
    national = dialog.advisor.rulebook.answer(Query("510100", InsuranceType.FLEXIBLE, TODAY, gap_months=2))
    text = render_card(national, TODAY).text
    assert text.splitlines()[0].startswith("未找到本地规定") and "全国一般做法" in text
    local = dialog.advisor.rulebook.answer(Query("110000", InsuranceType.FLEXIBLE, TODAY, gap_months=5))
    assert local.local_rule and "本地规定" in render_card(local, TODAY).text


def test_a_no_offers_what_to_do_now_instead_of_cost(dialog: GapDialog) -> None:
    answer = dialog.advisor.rulebook.answer(Query("110000", InsuranceType.FLEXIBLE, TODAY, gap_months=5))
    assert answer.can_backpay is BackpayVerdict.NO
    now = render_topic(answer, TODAY, {"now"}).text
    assert "重新参保" in now and "断缴期间发生的医疗费用不能报销" in now
    cost = render_topic(answer, TODAY, {"cost"}).text
    assert "没有补缴费用" in cost and "合计" not in cost


def test_employer_gap_puts_nothing_on_the_insured(dialog: GapDialog) -> None:
    answer = dialog.advisor.rulebook.answer(
        Query("110000", InsuranceType.EMPLOYEE, TODAY, gap_months=5, cause=Cause.EMPLOYER, monthly_base=6000)
    )
    card = render_card(answer, TODAY).text
    assert "个人不用交" in card
    assert "由个人承担" not in render_topic(answer, TODAY, {"cost"}).text


@pytest.mark.parametrize("code", RULE_REGIONS)
def test_cost_rows_add_up_and_keep_an_uncertain_late_fee_apart(dialog: GapDialog, code: str) -> None:
    for kind in (InsuranceType.FLEXIBLE, InsuranceType.EMPLOYEE):
        answer = dialog.advisor.rulebook.answer(Query(code, kind, TODAY, gap_months=2, monthly_base=5000))
        rows = render_card(answer, TODAY).view.cost_rows  # type: ignore[union-attr]
        if not rows:
            continue
        labels = [label for label, _ in rows]
        amounts = [float(amount.removesuffix("元")) for _, amount in rows]
        total_at = labels.index("合计")
        assert abs(sum(amounts[:total_at]) - amounts[total_at]) < 0.02, (code, kind, rows)
        assert all("未计入" in label for label in labels[total_at + 1 :] if label != "个人需交"), rows
