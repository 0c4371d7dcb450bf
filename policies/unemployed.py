"""The unemployed part: while unemployment benefit is paid, the fund pays the medical insurance."""

from __future__ import annotations

from policies.model import BackpayVerdict, LateFee, LateFeePayer, Level
from policies.parts import Core
from policies.reader import Reader
from policies.schema import Entry
from policies.wording import pct


def unemployed(r: Reader, fund: Entry) -> Core:
    """The fund pays (社会保险法第四十八条); the person pays nothing. Waits and claims are not stated
    by the sources for this case, so they stay unknown."""
    # The national entry's note says what the condition below says: shown once (a local note adds
    # local facts and is kept).
    r.record("can_backpay", fund, "失业保险基金代缴", fund.line, quiet=fund.level is Level.NATIONAL)
    ratio: float | None = r.value("unemployed_base_ratio", "unemployed.base_ratio")
    base = f"按当地上年职工平均工资的{pct(ratio)}为基数" if ratio is not None else ""
    condition = (f"领取失业保险金期间的职工医保费由失业保险基金{base}缴纳，个人不缴费；"
                 "已不再领取失业金的，请按灵活就业人员参保缴费")
    return Core(BackpayVerdict.YES, condition, fund.level, fund.level is not Level.NATIONAL,
                late_fee=LateFee(None, LateFeePayer.FUND))
