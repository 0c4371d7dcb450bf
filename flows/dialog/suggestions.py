"""The "你还可以问" suggestions under an answer card: each only where it would change or add something
for this answer. Never what the person already said ("不对，是5个月" after 断了5个月), never a cause
where none applies (already the employer's, a near-retiree's years, resident insurance), never a
question whose part has nothing to say. Each is checked by reading it as the dialog would."""

from __future__ import annotations

from datetime import date
from typing import Any

from flows import texts
from flows.advisor import Advisor
from flows.dialog.asking import merge
from flows.dialog.edges import outcome
from flows.dialog.updates import slot_updates
from flows.understand import understand
from policies.model import Answer, BackpayVerdict, InsuranceType

_TYPES = frozenset(t.value for t in InsuranceType)


def suggest(advisor: Advisor, slots: dict[str, Any], answer: Answer, on: date) -> tuple[str, ...]:
    """The suggestions for the card of `answer`, given from `slots` (what the person said)."""
    found = (
        _cause(advisor, slots, answer, on),
        _shorter_wait(advisor, slots, answer, on),
        _materials(answer),
        _correction(advisor, slots, answer, on),
    )
    return tuple(s for s in found if s)


def read_as_said(advisor: Advisor, slots: dict[str, Any], text: str, on: date) -> tuple[dict[str, Any], Answer | None]:
    """What `text` would fill, and the answer for the slots it would give."""
    kind = slots.get("insurance_type")
    scheme = InsuranceType(kind) if kind in _TYPES else None
    updates = slot_updates(understand(text, on, advisor.regions, scheme))
    after = dict(slots)
    merge(after, updates)
    return updates, advisor.answer(after, on)


def _cause(advisor: Advisor, slots: dict[str, Any], answer: Answer, on: date) -> str | None:
    """"如果是单位原因呢" for an employee's gap not (yet) the employer's, whose answer that cause would
    change (only an employee's gap can be the employer's doing, as `asking.next_core_slot` asks)."""
    if slots.get("insurance_type") != InsuranceType.EMPLOYEE.value or slots.get("cause") == "employer":
        return None
    if answer.no_gap or answer.retiree is not None or answer.employer_duty is not None:
        return None
    _, then = read_as_said(advisor, slots, texts.SUGGEST_CAUSE, on)
    return texts.SUGGEST_CAUSE if then is not None and outcome(then) != outcome(answer) else None


def _shorter_wait(advisor: Advisor, slots: dict[str, Any], answer: Answer, on: date) -> str | None:
    """"补了能少等几个月吗" for resident insurance only when the wait is longer than the shortest break's
    (the variable part paying back can shorten)."""
    if slots.get("insurance_type") != InsuranceType.RESIDENT.value or answer.can_backpay is BackpayVerdict.NO:
        return None
    shortest = dict(slots)
    merge(shortest, {"gap_months": 1})
    least = advisor.answer(shortest, on)
    if answer.waiting_months is None or least is None or least.waiting_months is None:
        return None
    return texts.SUGGEST_SHORTER_WAIT if answer.waiting_months > least.waiting_months else None


def _materials(answer: Answer) -> str | None:
    """"需要带什么材料" when the part it opens lists some (after a "no": for joining again)."""
    if answer.no_gap:
        return None
    if answer.can_backpay is BackpayVerdict.NO:
        listed = answer.re_enrol.materials if answer.re_enrol is not None else ()
    else:
        listed = answer.materials
    return texts.SUGGEST_MATERIALS if listed else None


def _correction(advisor: Advisor, slots: dict[str, Any], answer: Answer, on: date) -> str | None:
    """An example of correcting the gap (a near-retiree: the years paid) with a value the person did
    not say, one that changes the answer's outcome when there is one."""
    kind = slots.get("insurance_type")
    if kind == InsuranceType.UNEMPLOYED.value:
        return None  # the fund pays while benefit is drawn: no gap of the person's to correct
    if kind == InsuranceType.RETIREE.value:
        name, values = "years_paid", texts.SUGGEST_YEARS_VALUES
        template = texts.SUGGEST_YEARS_FIX if slots.get(name) is not None else texts.SUGGEST_YEARS_NEW
    else:
        name = "gap_months"
        values = texts.SUGGEST_RESIDENT_GAP_VALUES if kind == InsuranceType.RESIDENT.value else texts.SUGGEST_GAP_VALUES
        given = slots.get(name) is not None or slots.get("gap_since") is not None
        template = texts.SUGGEST_GAP_FIX if given else texts.SUGGEST_GAP_NEW
    fallback = None
    for value in values:
        text = template.format(value=value)
        updates, then = read_as_said(advisor, slots, text, on)
        if then is None or updates.get(name) is None or _restates(updates[name], name, slots, answer):
            continue
        if outcome(then) != outcome(answer):
            return text
        fallback = fallback or text
    return fallback


def _restates(value: float, name: str, slots: dict[str, Any], answer: Answer) -> bool:
    """The value is what the person said: the slot itself, inside the range they gave ("三个多月"), or
    the gap the answer counted (from "去年10月开始", or days)."""
    said = {slots.get(name)} | ({answer.gap_months} if name == "gap_months" else set())
    loose = slots.get("gap_range" if name == "gap_months" else "years_range")
    within = isinstance(loose, list) and len(loose) == 2 and loose[0] <= value <= loose[1]
    return within or value in said
