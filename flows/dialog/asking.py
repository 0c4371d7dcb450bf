"""Asking for what the answer still needs: the next slot, a repeated question, a choice of regions."""

from __future__ import annotations

from typing import Any

from flows import texts
from flows.dialog import keyboards, years
from flows.dialog.context import Ctx
from flows.messages import OutMessage
from flows.slots import ASKABLE_EXTRAS, CORE_ORDER, SLOT_SPECS, new_gap
from flows.state import Step
from flows.turn import Turn
from policies.model import Answer, InsuranceType, Region

_NO_GAP_TYPES = frozenset({InsuranceType.RETIREE.value, InsuranceType.UNEMPLOYED.value})


def next_core_slot(slots: dict[str, Any]) -> str | None:
    """The first core slot still unknown (and not skipped) that this person's answer can need."""
    skipped = set(slots.get("skipped", []))
    kind = slots.get("insurance_type")
    for name in CORE_ORDER:
        if name in slots or name in skipped:
            continue
        if name == "gap_months" and ("gap_since" in slots or kind in _NO_GAP_TYPES):
            continue  # a near-retiree is short of years; while drawing unemployment benefit the fund pays
        if name == "cause" and kind != InsuranceType.EMPLOYEE.value:
            continue  # only an employee's gap can be the employer's doing
        return name
    return None


def next_extra_slot(slots: dict[str, Any], answer: Answer) -> str | None:
    """An extra input the engine asked for and the user has not given or skipped."""
    skipped = set(slots.get("skipped", []))
    for name in ASKABLE_EXTRAS:
        if name in answer.missing_inputs and name not in slots and name not in skipped:
            return name
    return None


# Kept in `ConversationState.pending` once the user was told the bot covers mainland China only.
TOLD_MAINLAND = "mainland"


def ask(ctx: Ctx, slot: str, prefix: str | None = None, question: str | None = None) -> Turn:
    """Ask for one slot, with its buttons (and "上一步" once there is something to undo); `question`
    words it for the moment (a mainland city after 台北)."""
    spec = SLOT_SPECS[slot]
    ctx.state.step = Step.ask(slot)
    question, buttons = question or spec.question, spec.buttons
    pending = _pending_regions(ctx) if slot == "region" else ()
    if pending:  # the user answered something else while choosing among same-named regions
        question, buttons = texts.WHICH_REGION, keyboards.region_rows(pending)
    exact = years.question(ctx) if slot == "years_paid" else None
    if exact is not None:  # "交了快20年" where the verdict turns at 20: the exact years
        question, buttons = exact, years.rows()
    text = question if not prefix else f"{prefix}\n\n{question}"
    return ctx.turn(OutMessage(text, buttons=buttons + keyboards.back_row(ctx.state)))


def _pending_regions(ctx: Ctx) -> list[Region]:
    codes = ctx.state.pending.get("region") or []
    return [r for c in codes if (r := ctx.dialog.regions.get(c)) is not None]


def ask_region_choice(ctx: Ctx) -> Turn:
    """Several regions share the name the user wrote: offer them as buttons (what else was said is kept)."""
    if ctx.updates:
        ctx.state.push_history()
        merge(ctx.state.slots, ctx.updates)
    candidates = ctx.heard.region_candidates[:8]
    ctx.state.pending["region"] = [r.code for r in candidates]
    ctx.state.step = Step.ask("region")
    return ctx.turn(OutMessage(texts.WHICH_REGION, buttons=keyboards.region_rows(candidates)))


def ask_gap_edge(ctx: Ctx, low: int, edge: int, prefix: str | None = None) -> Turn:
    """The gap was given loosely and the answer changes at `edge` months: one short question."""
    ctx.state.step = Step.ask("gap_months")
    text = texts.GAP_EDGE.format(months=edge - 1)
    text = f"{prefix}\n\n{text}" if prefix else text
    return ctx.turn(OutMessage(text, buttons=keyboards.gap_edge_rows(low, edge)))


def reask(ctx: Ctx, note: str | None) -> Turn | None:
    """Say what went wrong (politely) and repeat the pending question; None when nothing is pending."""
    state = ctx.state
    slot = state.step.asking
    if slot == "region" and (regions := _pending_regions(ctx)):
        return ctx.turn(OutMessage(note or texts.WHICH_REGION, buttons=keyboards.region_rows(regions)))
    spec = SLOT_SPECS.get(slot) if slot else None
    if spec is not None:
        text = f"{note}\n\n{spec.hint}" if note else spec.hint
        extra = years.rows() if years.pending(ctx) else ()
        return ctx.turn(OutMessage(text, buttons=spec.buttons + extra + keyboards.back_row(state)))
    return None


def merge(slots: dict[str, Any], updates: dict[str, Any]) -> None:
    """Merge newly read slots; a new gap in months replaces the old gap's details (`GAP_DETAILS`)."""
    new_gap(slots, updates)
    fresh_gap = "gap_months" in updates
    skipped = [s for s in slots.get("skipped", []) if s not in updates and not (fresh_gap and s == "gap_edge")]
    slots.update(updates)
    if skipped:
        slots["skipped"] = skipped
    else:
        slots.pop("skipped", None)
