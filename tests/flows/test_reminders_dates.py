"""Reminder dates: quiet hours, month ends and leap years, each kind planned from a real answer,
and days of one's own in everyday Chinese."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import pytest

from flows.dialog import GapDialog
from flows.reminder_plan import plan_reminders
from flows.reminders import Kind, Reminder
from flows.reminders_time import CHINA, add_months, days_late, is_quiet, morning_of, release_at
from flows.reminders_when import own_reminder
from flows.render import render_card
from policies.model import Answer, BackpayVerdict


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA)


D = date(2027, 1, 5)


@pytest.mark.parametrize(
    ("hour", "minute", "quiet", "released"),
    [
        (20, 59, False, at(D, 20, 59)),
        (21, 0, True, at(D + timedelta(days=1), 9)),
        (7, 59, True, at(D, 9)),
        (8, 0, False, at(D, 8)),
    ],
)
def test_quiet_hours_edges(hour: int, minute: int, quiet: bool, released: datetime) -> None:
    moment = at(D, hour, minute)
    assert is_quiet(moment) is quiet
    assert is_quiet(moment.astimezone(CHINA).astimezone(tz=None)) is quiet  # any zone, China time
    assert release_at(moment) == released


def test_lateness_counts_from_the_release_time() -> None:
    due = at(D, 22)  # released 09:00 the next day: not late then
    assert days_late(due, at(D + timedelta(days=1), 9)) == 0
    assert days_late(due, at(D + timedelta(days=2), 8, 59)) == 0
    assert days_late(due, at(D + timedelta(days=2), 9)) == 1


@pytest.mark.parametrize(
    ("start", "months", "day", "expected"),
    [
        (date(2027, 1, 31), 1, None, date(2027, 2, 28)),
        (date(2028, 1, 31), 1, None, date(2028, 2, 29)),  # leap year
        (date(2028, 2, 29), 12, None, date(2029, 2, 28)),
        (date(2027, 12, 15), 1, None, date(2028, 1, 15)),
        (date(2027, 2, 28), 1, 31, date(2027, 3, 31)),  # a monthly reminder keeps its 31st
        (date(2027, 3, 31), 1, 31, date(2027, 4, 30)),
    ],
)
def test_months_clip_to_their_end(start: date, months: int, day: int | None, expected: date) -> None:
    assert add_months(start, months, day) == expected


def test_monthly_reminder_follows_month_ends_and_leap_years() -> None:
    r = Reminder("telegram:1", "9", Kind.MONTHLY, morning_of(date(2028, 1, 31)), "31")
    dues = []
    for _ in range(4):
        nxt = r.following()
        assert nxt is not None
        dues.append(nxt.due.date())
        r = nxt
    assert dues == [date(2028, 2, 29), date(2028, 3, 31), date(2028, 4, 30), date(2028, 5, 31)]
    assert Reminder("telegram:1", "9", Kind.WINDOW, morning_of(D), "2027-01-12").following() is None


# ------------------------------------------------------------------------------ planning
@pytest.fixture(scope="module")
def dialog() -> GapDialog:
    return GapDialog.create()


def _answer(dialog: GapDialog, slots: dict[str, object], today: date) -> Answer:
    answer = dialog.advisor.answer(slots, today)
    assert answer is not None
    return answer


EMPLOYEE = {"region": "650100", "insurance_type": "employee", "gap_months": 1, "cause": "personal"}


def test_window_closing_a_week_before_the_deadline_from_the_engine(dialog: GapDialog) -> None:
    today = date(2026, 11, 22)
    answer = _answer(dialog, EMPLOYEE, today)
    deadline = answer.backpay_deadline
    assert deadline is not None and answer.can_backpay is not BackpayVerdict.NO
    [plan] = [p for p in plan_reminders(answer, EMPLOYEE, today) if p.kind is Kind.WINDOW]
    assert plan.due == morning_of(deadline - timedelta(days=7))
    assert plan.arg == deadline.isoformat() and "前补缴还按现在的规定办" in plan.reason


@pytest.mark.parametrize(
    ("deadline", "today", "expected"),
    [
        (date(2028, 3, 31), date(2028, 1, 31), date(2028, 3, 24)),
        (date(2028, 3, 1), date(2028, 2, 1), date(2028, 2, 23)),  # across a leap February
        (date(2027, 3, 1), date(2027, 2, 1), date(2027, 2, 22)),
        (date(2027, 3, 3), date(2027, 3, 1), date(2027, 3, 2)),  # under a week left: tomorrow
        (date(2027, 3, 1), date(2027, 3, 1), None),  # closes today: nothing to remind of
        (date(2027, 2, 1), date(2027, 3, 1), None),
    ],
)
def test_window_closing_dates(dialog: GapDialog, deadline: date, today: date, expected: date | None) -> None:
    answer = dataclasses.replace(_answer(dialog, EMPLOYEE, today), backpay_deadline=deadline,
                                 can_backpay=BackpayVerdict.YES)
    found = [p.due for p in plan_reminders(answer, EMPLOYEE, today) if p.kind is Kind.WINDOW]
    assert found == ([morning_of(expected)] if expected else [])
    refused = dataclasses.replace(answer, can_backpay=BackpayVerdict.NO)
    assert not [p for p in plan_reminders(refused, EMPLOYEE, today) if p.kind is Kind.WINDOW]


def test_waiting_period_ends_on_the_day_benefits_resume(dialog: GapDialog) -> None:
    # 乌鲁木齐 states its own wait (6 months past 3 months' gap); the national 1–6 months is no date.
    slots = {"region": "650100", "insurance_type": "employee", "gap_months": 4, "cause": "personal"}
    today = date(2026, 11, 30)
    answer = _answer(dialog, slots, today)
    assert answer.benefits_resume and answer.benefits_resume > today
    [plan] = [p for p in plan_reminders(answer, slots, today) if p.kind is Kind.WAITING]
    assert plan.due == morning_of(answer.benefits_resume)
    leap = dataclasses.replace(answer, benefits_resume=date(2028, 2, 29), waiting_months=3)
    [plan] = [p for p in plan_reminders(leap, slots, date(2027, 11, 29)) if p.kind is Kind.WAITING]
    assert plan.due.date() == date(2028, 2, 29)


def test_waiting_reminder_says_who_pays_and_when_as_the_card_does(dialog: GapDialog) -> None:
    # The card's "能用" line and the reminder's reason agree: an employer's gap is "如单位今天补缴", a
    # wait counted from paying again is not "补缴" (杭州), outside 天津's window it is not "今天".
    checked = 0
    for today in (date(2026, 11, 30), date(2027, 6, 20)):
        for region in ("110000", "120000", "330100", "371500", "420500", "650100", "441900", "510100"):
            for kind in ("employee", "flexible", "resident"):
                for cause in ("personal", "employer"):
                    for gap in (1, 2, 4, 7):
                        slots = {"region": region, "insurance_type": kind, "gap_months": gap, "cause": cause}
                        answer = dialog.advisor.answer(slots, today)
                        if answer is None:
                            continue
                        card_when = next((line for line in render_card(answer, today).text.splitlines()
                                          if line.startswith("能用：")), "")
                        for plan in plan_reminders(answer, slots, today):
                            if plan.kind is Kind.WAITING:
                                checked += 1
                                said = plan.reason.split("，", 1)[0]
                                assert said in card_when, (slots, today, plan.reason, card_when)
    assert checked > 20


@pytest.mark.parametrize(
    ("today", "expected"),
    [(date(2027, 2, 10), date(2027, 2, 26)), (date(2027, 2, 26), date(2027, 3, 26)),
     (date(2027, 12, 27), date(2028, 1, 26))],
)
def test_tianjin_self_payer_is_reminded_on_the_26th(dialog: GapDialog, today: date, expected: date) -> None:
    slots = {"region": "120000", "insurance_type": "flexible", "gap_months": 4}
    answer = _answer(dialog, slots, today)
    [plan] = [p for p in plan_reminders(answer, slots, today) if p.kind in (Kind.DECLARATION, Kind.MONTHLY)]
    assert (plan.kind, plan.arg, plan.due) == (Kind.DECLARATION, "26", morning_of(expected))
    assert "26日至次月15日" in plan.reason


def test_self_payer_without_a_window_gets_a_monthly_payment_reminder(dialog: GapDialog) -> None:
    slots = {"region": "650100", "insurance_type": "flexible", "gap_months": 4}
    today = date(2027, 1, 31)
    [plan] = [p for p in plan_reminders(_answer(dialog, slots, today), slots, today) if p.kind is Kind.MONTHLY]
    assert plan.due == morning_of(date(2027, 2, 1))


def test_resident_enrolment_deadline_from_a_rule_file(dialog: GapDialog) -> None:
    slots = {"region": "371500", "insurance_type": "resident", "gap_months": 14}
    today = date(2025, 2, 10)  # 聊城: enrolment extended to 2025-02-28
    [plan] = [p for p in plan_reminders(_answer(dialog, slots, today), slots, today) if p.kind is Kind.ENROLMENT]
    assert (plan.arg, plan.due) == ("2025-02-28", morning_of(date(2025, 2, 25)))


def test_nothing_planned_is_in_the_past(dialog: GapDialog) -> None:
    today = date(2026, 11, 30)
    for region in ("110000", "120000", "310000", "650100", "371500", "440300"):
        for kind in ("employee", "flexible", "resident"):
            for gap in (1, 3, 4, 7, 14, 30):
                slots = {"region": region, "insurance_type": kind, "gap_months": gap, "cause": "personal"}
                answer = dialog.advisor.answer(slots, today)
                if answer is None:
                    continue
                for plan in plan_reminders(answer, slots, today):
                    assert plan.due.date() > today and not is_quiet(plan.due), (slots, plan)


# ------------------------------------------------------------------------- own dates
TODAY = date(2026, 11, 30)  # a Monday


@pytest.mark.parametrize(
    ("text", "day", "topic"),
    [
        ("下个月10号提醒我交医保", date(2026, 12, 10), "交医保"),
        ("3月1号提醒我", date(2027, 3, 1), ""),
        ("提醒我下个月10号交医保", date(2026, 12, 10), "交医保"),
        ("明天提醒我去社保局", date(2026, 12, 1), "去社保局"),
        ("下周三提醒我一下", date(2026, 12, 9), ""),
        ("三个月后提醒我交钱", date(2027, 2, 28), "交钱"),
        ("十二月一号提醒我", date(2026, 12, 1), ""),
        ("2027年1月5日提醒我续费", date(2027, 1, 5), "续费"),
        ("下个月底提醒我缴费", date(2026, 12, 31), "缴费"),
        ("10天后提醒我", date(2026, 12, 10), ""),
        ("10号提醒我", date(2026, 12, 10), ""),
        ("31号提醒我", date(2026, 12, 31), ""),
    ],
)
def test_own_dates_in_words(text: str, day: date, topic: str) -> None:
    request = own_reminder(text, TODAY)
    assert request is not None and (request.day, request.topic, request.error) == (day, topic, None)


@pytest.mark.parametrize(
    ("text", "error"),
    [("2月30号提醒我", "impossible"), ("今天提醒我", "past"), ("2035年1月1日提醒我", "too_far"),
     ("提醒我一下", None)],
)
def test_own_dates_that_cannot_be_set(text: str, error: str | None) -> None:
    request = own_reminder(text, TODAY)
    assert request is not None and request.day is None and request.error == error


def test_no_request_without_asking_to_be_reminded() -> None:
    assert own_reminder("下个月10号交医保", TODAY) is None
