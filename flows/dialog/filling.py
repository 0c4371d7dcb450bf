"""Filling slots from text and buttons, and moving on: ask what is missing, or answer."""

from __future__ import annotations

from typing import Any

from flows import texts
from flows.dialog import answering, asking, edges, years
from flows.dialog.context import Ctx
from flows.nlu.normalise import normalise
from flows.slots import (
    BY_LETTER,
    GAP_DETAILS,
    PERSONAL_SLOTS,
    SLOT_SPECS,
    describe,
    new_gap,
    parse_bare_reply,
)
from flows.turn import Turn
from policies.model import InsuranceType


def _years_not_gap(ctx: Ctx) -> None:
    """A stretch of time said with no word for what it is ("16年", "不对，是16年") answers "一共交了
    多少年" when that is asked, or when a near-retiree (whose gap is never asked) says it: it is then
    the years paid, not a gap of 192 months."""
    heard, slots = ctx.heard, ctx.state.slots
    if not heard.gap_unmarked or heard.gap_months is None or heard.years_paid is not None:
        return
    retiree = InsuranceType.RETIREE.value
    near_retiree = retiree in (slots.get("insurance_type"), ctx.updates.get("insurance_type"))
    if ctx.state.step.asking != "years_paid" and not (near_retiree and "gap_months" not in slots):
        return
    years = SLOT_SPECS["years_paid"].validate(round(heard.gap_months / 12, 2))
    if years is None:
        return
    for name in ("gap_months", *GAP_DETAILS):
        ctx.updates.pop(name, None)
    ctx.updates["years_paid"] = years
    if heard.years_range is not None:  # "快20年": 19–20 years
        ctx.updates["years_range"] = list(heard.years_range)


def read_direct_reply(ctx: Ctx) -> None:
    """Fill the slot being asked from a bare reply ("4", "18年", "5000", a region's name)."""
    _years_not_gap(ctx)
    asked = ctx.state.step.asking
    if asked == "gap_months" and (side := edges.read_edge_reply(ctx)) is not None:
        ctx.updates["gap_months"] = side  # "不止三个月" answering the edge question: its side wins
        ctx.updates.pop("gap_range", None)
        return
    if asked is None or asked in ctx.updates:
        return
    if asked == "region":
        if not ctx.heard.region_candidates:
            resolved = ctx.dialog.regions.resolve(normalise(ctx.text))  # typos, former names
            if resolved.region is not None:
                ctx.updates["region"] = resolved.region.code
        return
    value = parse_bare_reply(asked, ctx.text)
    if value is not None:
        ctx.updates[asked] = value


def on_text(ctx: Ctx) -> Turn | None:
    """Merge what the message said into the slots and move on; None when it said nothing new."""
    if not ctx.updates:
        return None
    state = ctx.state
    before = dict(state.slots)
    if state.answered and all(before.get(k) == v for k, v in ctx.updates.items()):
        return _nothing_changed(ctx)
    state.push_history()
    asking.merge(state.slots, ctx.updates)
    if "region" in ctx.updates:  # a pending choice of regions stays until a region is given
        state.pending.pop("region", None)
    if state.answered and set(ctx.updates) == {"monthly_base"}:
        # Only the base changed: the verdict, channels and dates stay; show the new estimate.
        prefix = texts.UPDATED_BASE.format(base=f"{ctx.updates['monthly_base']:g}")
        return answering.follow_up(ctx, {"cost"}, prefix=prefix)
    if state.answered:
        changed = tuple(k for k in ctx.updates if before.get(k) != ctx.updates[k])
        return advance(ctx, prefix=_changed_line(ctx, changed), changed=changed)
    fresh = {k: v for k, v in ctx.updates.items() if before.get(k) != v} or ctx.updates  # echo what is new
    # "不对，是灵活就业" while a question is open replaces what was said: "已改为", not "已记下"
    replaced = [k for k in fresh if k in SLOT_SPECS]
    template = texts.UPDATED_THEN_ASK if replaced and all(before.get(k) is not None for k in replaced) else texts.NOTED
    return advance(ctx, prefix=template.format(summary=_describe(ctx, fresh)))


def _nothing_changed(ctx: Ctx) -> Turn | None:
    """The message repeats what is known ("断缴3个月影响吗" after that answer): a question in it is
    answered by its route (None); otherwise the card again, saying nothing changed."""
    if any(i in answering.QUESTION_TOPICS for i in ctx.heard.intents):
        return None
    answer = ctx.dialog.advisor.answer(ctx.state.slots, ctx.today)
    if answer is None:
        return None
    return answering.show_answer(ctx, answer, prefix=texts.SAME_AS_BEFORE)


def _describe(ctx: Ctx, values: dict[str, Any]) -> str:
    region = ctx.dialog.regions.get(values["region"]) if values.get("region") else None
    return describe(values, (region.full_name or region.name) if region else None)


def _changed_line(ctx: Ctx, changed: tuple[str, ...], answering: bool = True) -> str:
    """"已改为：…，结果如下" before a new answer; "已改为：…。" when a question comes next."""
    shown = {k: ctx.state.slots.get(k) for k in changed if k not in GAP_DETAILS}
    if any(k in changed for k in GAP_DETAILS):  # a gap's detail is shown with its months
        shown.update({k: ctx.state.slots.get(k) for k in ("gap_months", *GAP_DETAILS)})
    summary = _describe(ctx, shown)
    earlier = ctx.state.history[-1] if ctx.state.history else {}
    if summary and all(earlier.get(k) is None for k in changed):  # only new facts: "已记下", not "已改为"
        return texts.ADDED_WITH.format(summary=summary) if answering else texts.NOTED.format(summary=summary)
    if not answering:
        return texts.UPDATED_THEN_ASK.format(summary=summary) if summary else texts.UPDATED_THEN_ASK_BARE
    return texts.UPDATED_WITH.format(summary=summary) if summary else texts.UPDATED


def advance(ctx: Ctx, prefix: str | None = None, changed: tuple[str, ...] = ()) -> Turn:
    """Ask the next missing slot, or answer when nothing essential is missing."""
    state = ctx.state
    years.settle(ctx)  # loose years the verdict turns on are not used: they are asked exactly
    ask_prefix = _changed_line(ctx, changed, answering=False) if changed else prefix
    missing = asking.next_core_slot(state.slots)
    if missing == "cause" and not _cause_matters(ctx):
        missing = None
    if missing is not None and not (ctx.group and missing in PERSONAL_SLOTS):
        return asking.ask(ctx, missing, ask_prefix)
    edge = edges.gap_edge(ctx)
    if edge is not None and not ctx.group:
        return asking.ask_gap_edge(ctx, *edge, prefix=ask_prefix)
    if edge is not None:  # a group is not asked personal details: say the answer turns here
        months = state.slots.get("gap_months")
        note = texts.GAP_EDGE_GROUP.format(months=edge[1] - 1, used=months)
        prefix = f"{prefix}\n{note}" if prefix else note
    answer = ctx.dialog.advisor.answer(state.slots, ctx.today)
    if answer is None:  # region or type missing yet the group rule skipped asking: ask anyway
        return asking.ask(ctx, missing or "region", ask_prefix)
    extra = asking.next_extra_slot(state.slots, answer)
    if extra is not None and not ctx.group:
        return asking.ask(ctx, extra, ask_prefix)
    turn = answering.show_answer(ctx, answer, prefix, changed)
    if ctx.group and (missing is not None or extra is not None):
        turn.messages.append(ctx.dialog.continue_privately(state))
    return turn


def _cause_matters(ctx: Ctx) -> bool:
    """Ask for the cause only when the answer depends on it."""
    advisor, slots = ctx.dialog.advisor, ctx.state.slots
    outcomes = {
        edges.outcome(advisor.answer({**slots, "cause": cause}, ctx.today))
        for cause in ("employer", "personal", "job_change")
    }
    return len(outcomes) > 1


# ------------------------------------------------------------------------------ buttons
def fill_from_button(ctx: Ctx) -> Turn | None:
    """A slot's button ("t:flexible", "g:5", "r:650100"); None when its value is not valid."""
    spec = BY_LETTER.get(ctx.event.payload.partition(":")[0] if ctx.event.payload else "")
    if spec is None:
        return None
    value = spec.validate(int(ctx.arg) if spec.kind == "months" and ctx.arg.isdigit() else ctx.arg)
    if value is None or (spec.kind == "region" and ctx.dialog.regions.get(value) is None):
        return None
    state = ctx.state
    state.push_history()
    before = state.slots.get(spec.name)
    state.slots[spec.name] = value
    new_gap(state.slots, {spec.name: value})
    state.pending.pop("region", None)
    if state.answered and before != value:
        return advance(ctx, prefix=_changed_line(ctx, (spec.name,)), changed=(spec.name,))
    return advance(ctx)


def skip(ctx: Ctx) -> Turn | None:
    """"不清楚，跳过": the answer goes on without this slot."""
    if ctx.arg not in SLOT_SPECS or not SLOT_SPECS[ctx.arg].skippable:
        return None
    ctx.state.push_history()
    skipped = list(ctx.state.slots.get("skipped", []))
    if ctx.arg not in skipped:
        skipped.append(ctx.arg)
    ctx.state.slots["skipped"] = skipped
    return advance(ctx)


def years_unsure(ctx: Ctx) -> Turn | None:
    """The "记不清准确年数" button; None (stale) when the exact-years question is not open."""
    return advance(ctx, prefix=texts.YEARS_UNKNOWN) if years.give_up(ctx, said=True) else None


def other_region(ctx: Ctx) -> Turn:
    ctx.state.push_history()
    ctx.state.slots.pop("region", None)
    ctx.state.answered = False
    return advance(ctx, prefix=texts.ASK_OTHER_REGION)


def ask_base(ctx: Ctx) -> Turn:
    skipped = [s for s in ctx.state.slots.get("skipped", []) if s != "monthly_base"]
    ctx.state.slots.pop("skipped", None)
    if skipped:
        ctx.state.slots["skipped"] = skipped
    return asking.ask(ctx, "monthly_base")


def nothing_read(ctx: Ctx) -> Turn:
    """The message filled nothing and no route took it: greet, repeat the question, or say so."""
    if years.give_up(ctx):  # "记不清" answering the exact-years question
        return advance(ctx, prefix=texts.YEARS_UNKNOWN)
    if (turn := answering.outside_mainland(ctx)) is not None:  # 台北 was understood: not "没能识别"
        return turn
    if ctx.state.answered:
        return answering.cannot_answer(ctx)
    if ctx.state.step.kind.value == "start" or "greeting" in ctx.heard.intents:
        return advance(ctx, prefix=texts.WELCOME)
    return edges.unsure_or_reask(ctx) or asking.reask(ctx, None) or advance(ctx)
