"""What to do instead: re-enrolment after a "no" (or when a condition is not met), the employer's
duty for an employer-caused gap, and how to keep paying after leaving a job with no gap yet. All
come from rule data with their sources."""

from __future__ import annotations

from datetime import date

from policies.dates import first_of_month
from policies.model import Cause, Channel, EmployerDuty, InsuranceType, KeepPaying, ReEnrolment
from policies.reader import Reader
from policies.schema import EmployerDutyRule, KeepPayingRule, ReEnrolRule


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


def keep_paying(r: Reader) -> KeepPaying | None:
    """Left a job, no gap yet: the ways to keep paying, and where to pay as a flexible worker (the
    places the region's re-enrolment rule names for it, else the national ones)."""
    e = r.entry("keep_paying")
    if e is None:
        return None
    rule: KeepPayingRule = e.value
    refs = dict.fromkeys(e.refs)
    channels: list[Channel] = []
    enrol = r.now.first("re_enrol")
    if enrol is not None:
        value: ReEnrolRule = enrol.value
        for item in value.channels:
            # paid as a flexible worker, for the person's own contributions
            if item.when.matches_person(InsuranceType.FLEXIBLE, Cause.PERSONAL):
                r.record("keep_paying.channels", enrol, item.text, item.line)
                channels.append(Channel(item.kind, item.text))
        refs.update(dict.fromkeys(enrol.refs) if channels else {})
    return KeepPaying(rule.short, rule.ways, tuple(channels), tuple(refs))
