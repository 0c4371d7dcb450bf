"""The conversation state machine: fill the slots the answer needs, then answer.

`GapDialog.step` is pure and synchronous: (state, event, today) -> Turn. It never
does I/O, so the service can run it between two Redis round trips, and tests can
drive it directly. Everything the bot decides lives here; adapters only translate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from flows import reminders_dialog, texts
from flows.advisor import Advisor
from flows.deeplink import DEFAULT_KEY, StartContext, decode_start, encode_start
from flows.messages import Button, ChatKind, InEvent, OutMessage
from flows.render import render_answer, render_follow_up
from flows.slots import (
    BUTTON_SLOTS,
    CORE_ORDER,
    PERSONAL_SLOTS,
    SLOT_SPECS,
    parse_bare_reply,
    parse_button,
)
from flows.state import ConversationState
from flows.turn import CancelReminders, CountReferral, Turn
from flows.understand import Understanding, understand
from policies import RuleBook, load_rulebook
from policies.model import Answer, InsuranceType
from policies.regions import RegionIndex

log = logging.getLogger(__name__)

# Extra inputs the engine may ask for that are worth a question before answering.
# A monthly base is not: the answer comes first, with a button to refine the cost.
ASKABLE_EXTRAS = ("years_paid", "gender")
_VALID_TYPES = {t.value for t in InsuranceType}
_VALID_CAUSES = {"employer", "personal"}
_VALID_GENDERS = {"male", "female"}
# Questions about an answer already given, and the part of the answer each one asks for.
QUESTION_TOPICS = {
    "question_backpay": "backpay",
    "question_cost": "cost",
    "question_when": "when",
    "question_where": "where",
}


@dataclass(frozen=True, slots=True)
class GapDialog:
    """The 医保断缴 conversation. Immutable: holds only loaded, read-only data."""

    advisor: Advisor
    deeplink_key: str = DEFAULT_KEY

    @classmethod
    def create(cls, rulebook: RuleBook | None = None, regions: RegionIndex | None = None) -> GapDialog:
        """Load the packaged rules and region dataset (blocking; call once at start-up)."""
        regions = regions or RegionIndex.load()
        rulebook = rulebook or load_rulebook(regions=regions)
        return cls(Advisor(rulebook, regions))

    @property
    def regions(self) -> RegionIndex:
        return self.advisor.regions

    # ------------------------------------------------------------------ entry
    def step(self, state: ConversationState, event: InEvent, today: date) -> Turn:
        """Take one conversation one step further."""
        if event.chat_kind is ChatKind.GROUP and not event.addressed:
            return Turn(state=state)  # the group's own talk is none of our business
        if event.payload is not None:
            return self._on_button(state, event, today)
        text = (event.text or "").strip()
        if text.startswith("/"):
            return self._on_command(state, event, text, today)
        if not text:
            return self._reask(state, event, today, texts.ONLY_TEXT)
        return self._on_text(state, event, text, today)

    # --------------------------------------------------------------- commands
    def _on_command(self, state: ConversationState, event: InEvent, text: str, today: date) -> Turn:
        head, _, rest = text.partition(" ")
        command = head[1:].split("@", 1)[0].lower()
        if command == "start":
            return self._start(event, event.start_payload or rest.strip() or None, today)
        if command == "help":
            return Turn(state=state, messages=[OutMessage(texts.HELP)])
        if command == "cancel":
            return self._cancel()
        if command == "restart":
            return self._restart(event, today)
        if command == "back":
            return self._back(state, event, today)
        if command in reminders_dialog.COMMANDS:
            return self._reminders(state, reminders_dialog.on_command(self._reminder_ctx(state, event, today), command))
        return self._reask(state, event, today, texts.UNKNOWN_COMMAND)

    def _start(self, event: InEvent, payload: str | None, today: date) -> Turn:
        state = ConversationState()
        effects: list[Any] = []
        intro = texts.WELCOME
        ctx = decode_start(payload, self.deeplink_key) if payload else None
        if ctx is not None:
            self._apply_start_context(state, ctx)
            if ctx.source:
                effects.append(CountReferral(ctx.source))
            region = self.regions.get(ctx.region_code) if ctx.region_code else None
            if region is not None:
                intro = texts.WELCOME_WITH_REGION.format(region=region.full_name or region.name)
        turn = self._advance(state, event, today, prefix=intro)
        turn.effects[:0] = effects
        return turn

    def _apply_start_context(self, state: ConversationState, ctx: StartContext) -> None:
        if ctx.region_code and self.regions.get(ctx.region_code) is not None:
            state.slots["region"] = ctx.region_code
        if ctx.source:
            state.slots["source"] = ctx.source
        for key, value in ctx.slots.items():
            if _valid_slot(key, value):
                state.slots[key] = value

    def _cancel(self) -> Turn:
        return Turn(state=None, messages=[OutMessage(texts.CANCELLED)], effects=[CancelReminders()])

    def _restart(self, event: InEvent, today: date) -> Turn:
        return self._advance(ConversationState(), event, today, prefix=texts.RESTARTED)

    def _back(self, state: ConversationState, event: InEvent, today: date) -> Turn:
        if not state.history:
            return self._reask(state, event, today, texts.NOTHING_TO_UNDO)
        state.slots = state.history.pop()
        state.answered = False
        state.pending = {}
        return self._advance(state, event, today, prefix=texts.WENT_BACK)

    # ---------------------------------------------------------------- buttons
    def _on_button(self, state: ConversationState, event: InEvent, today: date) -> Turn:
        if reminders_dialog.is_reminder_payload(event.payload or ""):
            ctx = self._reminder_ctx(state, event, today)
            return self._reminders(state, reminders_dialog.on_button(ctx, event.payload or ""))
        parsed = parse_button(event.payload or "")
        if parsed is None:
            return self._reask(state, event, today, texts.STALE_BUTTON)
        kind, value = parsed
        if kind == "a":
            return self._on_action(state, event, value, today)
        if kind == "skip" and value in SLOT_SPECS:
            state.push_history()
            skipped = list(state.slots.get("skipped", []))
            if value not in skipped:
                skipped.append(value)
            state.slots["skipped"] = skipped
            return self._advance(state, event, today)
        slot = BUTTON_SLOTS.get(kind)
        if slot is None:
            return self._reask(state, event, today, texts.STALE_BUTTON)
        converted: Any = int(value) if slot == "gap_months" and value.isdigit() else value
        if slot == "region" and self.regions.get(value) is None:
            return self._reask(state, event, today, texts.STALE_BUTTON)
        if not _valid_slot(slot, converted):
            return self._reask(state, event, today, texts.STALE_BUTTON)
        state.push_history()
        state.slots[slot] = converted
        if slot == "gap_months":
            state.slots.pop("gap_since", None)
        state.pending.pop("region", None)
        return self._advance(state, event, today)

    def _on_action(self, state: ConversationState, event: InEvent, action: str, today: date) -> Turn:
        if action == "restart":
            return self._restart(event, today)
        if action == "back":
            return self._back(state, event, today)
        if action == "region":
            state.push_history()
            state.slots.pop("region", None)
            state.answered = False
            return self._advance(state, event, today, prefix=texts.ASK_OTHER_REGION)
        if action == "remind":
            return self._remind(state, event, today)
        if action == "help":
            return Turn(state=state, messages=[OutMessage(texts.HELP)])
        if action == "base":
            skipped = [s for s in state.slots.get("skipped", []) if s != "monthly_base"]
            state.slots.pop("skipped", None)
            if skipped:
                state.slots["skipped"] = skipped
            return self._ask(state, "monthly_base", None)
        return self._reask(state, event, today, texts.STALE_BUTTON)

    def _remind(self, state: ConversationState, event: InEvent, today: date) -> Turn:
        return self._reminders(state, reminders_dialog.offer(self._reminder_ctx(state, event, today)))

    def _reminder_ctx(
        self, state: ConversationState, event: InEvent, today: date
    ) -> reminders_dialog.ReminderContext:
        answer = self.advisor.answer(state.slots, today)
        handoff = self._handoff_payload(state) if _is_group(event) else None
        return reminders_dialog.ReminderContext(event, today, answer, state.slots, handoff)

    def _reminders(self, state: ConversationState, reply: reminders_dialog.ReminderReply) -> Turn:
        return Turn(state=state, messages=reply.messages, effects=list(reply.effects))

    # ------------------------------------------------------------------- text
    def _on_text(self, state: ConversationState, event: InEvent, text: str, today: date) -> Turn:
        own = reminders_dialog.own_day(text, today)
        if own is not None:  # "下个月10号提醒我交医保": a day of their own
            return self._reminders(state, reminders_dialog.set_own(self._reminder_ctx(state, event, today), own))
        heard = understand(text, today, self.regions)
        intents = heard.intents
        if "cancel" in intents:
            return self._cancel()
        if "restart" in intents:
            return self._restart(event, today)
        if "back" in intents:
            return self._back(state, event, today)
        if "help" in intents and not heard.filled():
            return Turn(state=state, messages=[OutMessage(texts.HELP)])

        updates = _slot_updates(heard)
        self._read_direct_reply(state, text, heard, updates)

        if heard.region_candidates and "region" not in updates:
            return self._ask_region_choice(state, heard, updates)

        if "what_if" in intents and state.answered and updates:
            return self._what_if(state, event, today, updates)

        if not updates:
            return self._nothing_read(state, event, heard, today)

        state.push_history()
        _merge(state.slots, updates)
        state.pending.pop("region", None)
        if state.answered and set(updates) == {"monthly_base"}:
            # Only the base changed: the verdict, channels and dates stay; show the new estimate.
            prefix = texts.UPDATED_BASE.format(base=f"{updates['monthly_base']:g}")
            return self._follow_up(state, event, today, {"cost"}, prefix=prefix)
        if "correction" in intents or state.answered:
            prefix = texts.UPDATED
        else:
            prefix = texts.NOTED.format(summary=self._describe(updates))
        return self._advance(state, event, today, prefix=prefix)

    def _describe(self, updates: dict[str, Any]) -> str:
        """A short Chinese echo of what was understood, so a misreading is easy to spot."""
        parts: list[str] = []
        if "region" in updates and (region := self.regions.get(updates["region"])) is not None:
            parts.append(region.full_name or region.name)
        if "insurance_type" in updates:
            parts.append(texts.TYPE_LABELS.get(updates["insurance_type"], updates["insurance_type"]))
        if updates.get("gap_since"):
            year, month = updates["gap_since"].split("-")
            parts.append(f"{year}年{int(month)}月起断缴")
        elif updates.get("gap_months") is not None:
            parts.append(f"断缴{updates['gap_months']}个月")
        if "cause" in updates:
            parts.append(texts.CAUSE_LABELS.get(updates["cause"], updates["cause"]))
        if updates.get("years_paid") is not None:
            parts.append(f"已缴{updates['years_paid']:g}年")
        if "gender" in updates:
            parts.append(texts.GENDER_LABELS.get(updates["gender"], updates["gender"]))
        if updates.get("monthly_base"):
            parts.append(f"缴费基数{updates['monthly_base']:g}元")
        return "，".join(parts)

    def _read_direct_reply(
        self, state: ConversationState, text: str, heard: Understanding, updates: dict[str, Any]
    ) -> None:
        """Fill the slot being asked from a bare reply ("4", "18年", "5000")."""
        asked = state.step.removeprefix("ask:") if state.step.startswith("ask:") else None
        if asked is None or asked in updates:
            return
        if asked == "region" and not heard.region_candidates:
            resolved = self.regions.resolve(text)
            if resolved.region is not None:
                updates["region"] = resolved.region.code
            return
        value = parse_bare_reply(asked, text)
        if value is not None:
            updates[asked] = value

    def _ask_region_choice(
        self, state: ConversationState, heard: Understanding, updates: dict[str, Any]
    ) -> Turn:
        if updates:
            state.push_history()
            _merge(state.slots, updates)
        candidates = heard.region_candidates[:8]
        state.pending["region"] = [r.code for r in candidates]
        state.step = "ask:region"
        buttons = tuple((Button(r.full_name or r.name, f"r:{r.code}"),) for r in candidates)
        return Turn(state=state, messages=[OutMessage(texts.WHICH_REGION, buttons=buttons)])

    def _what_if(
        self, state: ConversationState, event: InEvent, today: date, updates: dict[str, Any]
    ) -> Turn:
        hypothetical = dict(state.slots)
        _merge(hypothetical, updates)
        answer = self.advisor.answer(hypothetical, today)
        if answer is None:
            return self._advance(state, event, today)
        messages = render_answer(answer)
        messages[0] = OutMessage(texts.WHAT_IF_PREFIX + messages[0].text, buttons=messages[0].buttons)
        return Turn(state=state, messages=[*messages[:-1], self._with_next_steps(messages[-1], event)])

    def _nothing_read(
        self, state: ConversationState, event: InEvent, heard: Understanding, today: date
    ) -> Turn:
        intents = heard.intents
        if "thanks" in intents:
            return Turn(state=state, messages=[OutMessage(texts.YOU_ARE_WELCOME)])
        if "human" in intents:
            return Turn(state=state, messages=[OutMessage(texts.HOTLINES)])
        if "reminder" in intents:
            return self._reminders(state, reminders_dialog.on_intent(self._reminder_ctx(state, event, today)))
        topics = {QUESTION_TOPICS[i] for i in intents if i in QUESTION_TOPICS}
        if state.answered and topics:
            return self._follow_up(state, event, today, topics)
        if state.answered:
            return Turn(
                state=state,
                messages=[self._with_next_steps(OutMessage(texts.CANNOT_ANSWER), event)],
            )
        if state.step == "start" or "greeting" in intents:
            return self._advance(state, event, today, prefix=texts.WELCOME)
        return self._reask(state, event, today, None)

    # ------------------------------------------------------------ next move
    def _advance(
        self, state: ConversationState, event: InEvent, today: date, prefix: str | None = None
    ) -> Turn:
        """Ask the next missing slot, or answer when nothing essential is missing."""
        missing = self._next_core_slot(state.slots)
        if missing is not None and not (_is_group(event) and missing in PERSONAL_SLOTS):
            return self._ask(state, missing, prefix)
        answer = self.advisor.answer(state.slots, today)
        if answer is None:  # region or type missing yet the group rule skipped asking: ask anyway
            return self._ask(state, missing or "region", prefix)
        extra = self._next_extra_slot(state.slots, answer)
        group = _is_group(event)
        if extra is not None and not group:
            return self._ask(state, extra, prefix)
        state.step = "answered"
        state.answered = True
        messages = render_answer(answer)
        if prefix:
            messages[0] = OutMessage(prefix + "\n\n" + messages[0].text, buttons=messages[0].buttons)
        if group and (missing is not None or extra is not None):
            messages.append(
                OutMessage(
                    texts.CONTINUE_PRIVATELY,
                    private_payload=self._handoff_payload(state),
                    link_label=texts.PRIVATE_LINK_LABEL,
                )
            )
        else:
            messages[-1] = self._with_next_steps(messages[-1], event, offer_base=_wants_base(answer, state))
        return Turn(state=state, messages=messages)

    def _follow_up(
        self, state: ConversationState, event: InEvent, today: date, topics: set[str], prefix: str | None = None
    ) -> Turn:
        """Answer a question about the answer already given with just the part asked for."""
        answer = self.advisor.answer(state.slots, today)
        if answer is None:
            return self._advance(state, event, today, prefix=prefix)
        state.step = "answered"
        message = render_follow_up(answer, topics)
        if prefix:
            message = OutMessage(prefix + "\n\n" + message.text)
        return Turn(state=state, messages=[self._with_next_steps(message, event, offer_base=_wants_base(answer, state))])

    def _next_core_slot(self, slots: dict[str, Any]) -> str | None:
        skipped = set(slots.get("skipped", []))
        kind = slots.get("insurance_type")
        for name in CORE_ORDER:
            if name in slots or name in skipped:
                continue
            if name == "gap_months" and ("gap_since" in slots or kind == InsuranceType.RETIREE.value):
                continue
            if name == "cause" and kind != InsuranceType.EMPLOYEE.value:
                continue  # only an employee's gap can be the employer's doing
            return name
        return None

    def _next_extra_slot(self, slots: dict[str, Any], answer: Answer) -> str | None:
        skipped = set(slots.get("skipped", []))
        for name in ASKABLE_EXTRAS:
            if name in answer.missing_inputs and name not in slots and name not in skipped:
                return name
        return None

    def _ask(self, state: ConversationState, slot: str, prefix: str | None) -> Turn:
        spec = SLOT_SPECS[slot]
        state.step = f"ask:{slot}"
        text = spec.question if not prefix else f"{prefix}\n\n{spec.question}"
        buttons = spec.buttons + (((Button(texts.BTN_BACK, "a:back"),),) if state.history else ())
        return Turn(state=state, messages=[OutMessage(text, buttons=buttons)])

    def _reask(self, state: ConversationState, event: InEvent, today: date, note: str | None) -> Turn:
        """Say what went wrong (politely) and repeat the pending question; nothing is lost."""
        if state.step.startswith("ask:"):
            slot = state.step.removeprefix("ask:")
            if slot == "region" and state.pending.get("region"):
                codes = [c for c in state.pending["region"] if self.regions.get(c)]
                buttons = tuple(
                    (Button(self.regions.get(c).full_name or c, f"r:{c}"),)  # type: ignore[union-attr]
                    for c in codes
                )
                return Turn(state=state, messages=[OutMessage(note or texts.WHICH_REGION, buttons=buttons)])
            spec = SLOT_SPECS.get(slot)
            if spec is not None:
                text = f"{note}\n\n{spec.hint}" if note else spec.hint
                return Turn(state=state, messages=[OutMessage(text, buttons=spec.buttons)])
        if state.answered:
            return Turn(state=state, messages=[self._with_next_steps(OutMessage(note or texts.CANNOT_ANSWER), event)])
        return self._advance(state, event, today, prefix=note)

    def _with_next_steps(self, message: OutMessage, event: InEvent, offer_base: bool = False) -> OutMessage:
        rows: list[tuple[Button, ...]] = []
        if offer_base and not _is_group(event):
            rows.append((Button(texts.BTN_BASE, "a:base"),))
        if not _is_group(event):
            rows.append((Button(texts.BTN_REMIND, "a:remind"),))
        rows.append((Button(texts.BTN_OTHER_REGION, "a:region"), Button(texts.BTN_RESTART, "a:restart")))
        return OutMessage(
            message.text,
            buttons=message.buttons + tuple(rows),
            suggestions=texts.SUGGESTIONS,
            private_payload=message.private_payload,
            link_label=message.link_label,
        )

    def _handoff_payload(self, state: ConversationState) -> str | None:
        slots = {k: v for k, v in state.slots.items() if k in ("insurance_type", "gap_months", "cause")}
        ctx = StartContext(
            region_code=state.slots.get("region"), source=None, slots=slots
        )
        try:
            return encode_start(ctx, self.deeplink_key)
        except ValueError:
            log.warning("hand-off context did not fit a start payload")
            return None


def _slot_updates(heard: Understanding) -> dict[str, Any]:
    """The slots one message filled, as JSON-safe values for the stored state."""
    updates: dict[str, Any] = {}
    if heard.region is not None:
        updates["region"] = heard.region.code
    if heard.insurance_type is not None:
        updates["insurance_type"] = heard.insurance_type.value
    if heard.gap_since is not None:
        updates["gap_since"] = heard.gap_since.strftime("%Y-%m")
    if heard.gap_months is not None:
        updates["gap_months"] = heard.gap_months
    if heard.cause is not None and heard.cause.value in _VALID_CAUSES:
        updates["cause"] = heard.cause.value
    if heard.years_paid is not None:
        updates["years_paid"] = heard.years_paid
    if heard.gender is not None:
        updates["gender"] = heard.gender.value
    if heard.monthly_base is not None:
        updates["monthly_base"] = heard.monthly_base
    return updates


def _is_group(event: InEvent) -> bool:
    return event.chat_kind is ChatKind.GROUP


def _valid_slot(name: str, value: Any) -> bool:
    """Guard values coming from buttons and deep links (they can be forged)."""
    if name == "insurance_type":
        return value in _VALID_TYPES
    if name == "cause":
        return value in _VALID_CAUSES
    if name == "gender":
        return value in _VALID_GENDERS
    if name == "gap_months":
        return isinstance(value, int) and 0 < value <= 600
    if name == "region":
        return isinstance(value, str) and value.isdigit() and len(value) == 6
    return False


def _merge(slots: dict[str, Any], updates: dict[str, Any]) -> None:
    """Merge newly read slots; a new gap in months replaces an older start month and vice versa."""
    if "gap_months" in updates and "gap_since" not in updates:
        slots.pop("gap_since", None)
    skipped = [s for s in slots.get("skipped", []) if s not in updates]
    slots.update(updates)
    if skipped:
        slots["skipped"] = skipped
    else:
        slots.pop("skipped", None)


def _wants_base(answer: Answer, state: ConversationState) -> bool:
    """The estimate would improve with the user's monthly base, and it has not been given."""
    return "monthly_base" in answer.missing_inputs and "monthly_base" not in state.slots
