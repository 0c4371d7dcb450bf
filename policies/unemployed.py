"""The unemployed part: while unemployment benefit is paid, the fund pays the medical insurance.

Nothing is the person's to pay back, so the answer is given like "no gap" (`Core.nothing_due`): the
reason and what to do instead, with no back-pay channels, materials, cost, wait or gap length.
"""

from __future__ import annotations

from policies.model import BackpayVerdict, Cause, LateFee, LateFeePayer, Level
from policies.parts import Core
from policies.reader import Reader
from policies.schema import EmployerDutyRule, Entry
from policies.wording import NOT_ON_BENEFIT, pct

CONFIRM_AT = "当地医保经办机构"  # when no local rule names a window for people on benefit


def unemployed(r: Reader, fund: Entry) -> Core:
    """The fund pays (社会保险法第四十八条); the person pays nothing and has nothing to pay back.
    What to do: confirm the fund's payment while on benefit (where, from the rules); an old
    employer's arrears are the employer's; after the benefit ends, enrol as a flexible worker."""
    # The national entry's note says what the text below says: shown once (a local note adds
    # local facts and is kept).
    r.record("can_backpay", fund, "失业保险基金代缴", fund.line, quiet=fund.level is Level.NATIONAL)
    ratio: float | None = r.value("unemployed_base_ratio", "unemployed.base_ratio")
    base = f"按当地上年职工平均工资的{pct(ratio)}为基数" if ratio is not None else ""
    parts = [f"无需个人补缴：领取失业保险金期间，职工医保费由失业保险基金{base}代缴，个人不缴费",
             f"记录显示断缴的，请在领取期间到{_where(r)}确认代缴"]
    if r.cause is Cause.EMPLOYER:
        # traced as what to do instead (re_enrol.*): a chat's "那怎么办" part cites these sources
        duty = r.entry("employer_duty", "re_enrol.old_employer")
        if duty is not None:
            rule: EmployerDutyRule = duty.value
            parts.append(f"失业前因原单位未缴造成的断缴，由原单位补缴{rule.employer_pays}"
                         + ("" if rule.insured_pays_late_fee else "，个人无需缴纳滞纳金"))
    after: str | None = r.value("unemployed_after_benefit", "re_enrol.after_benefit")
    if after:
        parts.append(after)
    parts.append(NOT_ON_BENEFIT)
    return Core(BackpayVerdict.NO, "；".join(parts), fund.level, fund.level is not Level.NATIONAL,
                late_fee=LateFee(None, LateFeePayer.FUND), nothing_due=True)


def _where(r: Reader) -> str:
    """Where to confirm the fund's payment: the offline windows a local rule names for people on
    benefit (乐平's), traced; else the local office in general (no national list is cited for it).
    A local list for everyone is where to back-pay (乌鲁木齐's 补缴申请 windows), not this."""
    names: dict[str, None] = {}
    for e in r.now.entries.get("channels", ()):
        if e.level is Level.NATIONAL:
            break
        for i in e.value.items:
            named = i.when.types is not None and r.itype in i.when.types
            if i.kind == "offline" and named and i.when.matches_person(r.itype, r.cause):
                r.record("channels", e, i.text, i.line)
                names[i.text] = None
    return "、".join(names) or CONFIRM_AT
