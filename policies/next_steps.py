"""What to do instead: re-enrolment after a "no" (or when a condition is not met), and the
employer's duty for an employer-caused gap. Both come from rule data with their sources."""

from __future__ import annotations

from datetime import date

from policies.dates import first_of_month
from policies.model import Channel, EmployerDuty, ReEnrolment
from policies.reader import Reader
from policies.schema import EmployerDutyRule, ReEnrolRule


def re_enrolment(r: Reader, on: date) -> ReEnrolment | None:
    """Enrolling again as a new member: where, how, from when, what is lost."""
    e = r.entry("re_enrol")
    if e is None:
        return None
    rule: ReEnrolRule = e.value
    channels = tuple(Channel(i.kind, i.text) for i in rule.channels
                     if i.when.matches_person(r.itype, r.cause))
    resume = None if rule.waiting_months is None else first_of_month(on, max(rule.waiting_months, 1))
    return ReEnrolment(rule.how, channels, rule.materials, rule.benefits_from, rule.waiting_months, resume,
                       rule.loses, e.refs)


def employer_duty(r: Reader) -> EmployerDuty | None:
    """What the employer owes for an employer-caused gap and how to get it paid."""
    e = r.entry("employer_duty")
    if e is None:
        return None
    rule: EmployerDutyRule = e.value
    return EmployerDuty(rule.employer_pays, rule.insured_pays_late_fee, rule.claimable_after_payment, rule.steps,
                        e.refs)
