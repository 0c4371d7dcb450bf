"""Years paid said loosely ("交了快20年", "差不多20年") near the local requirement.

The understander keeps the figure said (20) and the years it can mean (`years_range`, 19–20).
Where the verdict is the same across that range the figure is used as said. Where it is not (20
years required: 19 is short, 20 is enough) the figure is not used: years_paid is dropped, so every
answer and follow-up treats the years as unknown, and the exact years are asked. A user who cannot
tell gets the answer without them (the engine says what is still to be confirmed).
"""

from __future__ import annotations

import re

from flows import texts
from flows.dialog.context import Ctx
from flows.messages import Button
from flows.slots import Rows, loose_years
from flows.state import Step
from policies.model import Answer

# Replies to the exact-years question that say the user cannot tell.
_UNSURE = re.compile(r"不清楚|不知道|不确定|记不清|记不得|说不准|不好说|忘了|查不到|不记得")
# Payload of the "记不清" button under the exact-years question.
UNSURE_PAYLOAD = "a:years"


def _verdict(answer: Answer | None) -> tuple[object, ...] | None:
    """What the years decide: whether a shortfall can be paid, or nothing is due."""
    return None if answer is None else (answer.can_backpay, answer.no_gap)


def straddles(ctx: Ctx) -> bool:
    """Whether the verdict differs between the ends of the loosely said years."""
    slots = ctx.state.slots
    loose = loose_years(slots)
    if loose is None:
        return False
    low, high = (_verdict(ctx.dialog.advisor.answer({**slots, "years_paid": y}, ctx.today)) for y in loose)
    return low is not None and high is not None and low != high


def settle(ctx: Ctx) -> None:
    """Drop a loosely said figure of years that the verdict turns on (it is asked exactly instead)."""
    if "years_paid" in ctx.state.slots and straddles(ctx):
        ctx.state.slots.pop("years_paid")


def question(ctx: Ctx) -> str | None:
    """The exact-years question when loosely said years are waiting to be made exact, else None."""
    loose = loose_years(ctx.state.slots)
    if loose is None or "years_paid" in ctx.state.slots:
        return None
    return texts.YEARS_EXACT.format(low=f"{loose[0]:g}", high=f"{loose[1]:g}")


def rows() -> Rows:
    """The "记不清" button under the exact-years question."""
    return ((Button(texts.BTN_YEARS_UNSURE, UNSURE_PAYLOAD),),)


def pending(ctx: Ctx) -> bool:
    """Whether the exact-years question is the one open."""
    return ctx.state.step == Step.ask("years_paid") and question(ctx) is not None


def give_up(ctx: Ctx, said: bool = False) -> bool:
    """The user cannot tell the exact years ("记不清", or the button; `said`: already known to be so):
    answer without them. False when that question is not open or the text says something else."""
    if not pending(ctx) or not (said or _UNSURE.search(ctx.text)):
        return False
    ctx.state.push_history()
    slots = ctx.state.slots
    slots.pop("years_range", None)
    slots["skipped"] = [*slots.get("skipped", []), "years_paid"]
    return True
