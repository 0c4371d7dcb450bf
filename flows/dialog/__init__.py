"""The conversation: fill the slots the answer needs, then answer short, then follow-ups.

`GapDialog.step` is pure and synchronous: (state, event, today) -> Turn. It never does I/O, so the
service can run it between two Redis round trips and tests can drive it directly. It reads the
event, builds a `Ctx` and hands it to the one handler the route table (`flows.dialog.routes`)
names; the handlers live in `commands`, `filling`, `asking` and `answering`. Whether a button is
stale is decided here; adapters only carry out the turn.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date

from flows import texts
from flows.advisor import Advisor
from flows.deeplink import DEFAULT_KEY, StartContext, encode_start
from flows.dialog import asking, commands, filling, routes, updates
from flows.dialog.context import Ctx, Handler
from flows.messages import ChatKind, InEvent, OutMessage
from flows.slots import parse_button
from flows.state import ConversationState
from flows.turn import Turn
from flows.understand import understand
from policies import RuleBook, load_rulebook
from policies.model import InsuranceType
from policies.regions import RegionIndex

log = logging.getLogger(__name__)

# How a button press went, on the first reply's `meta`: the dialog decides, adapters carry it out.
PRESS_META = "press"
PRESS_ACCEPTED = "accepted"
PRESS_STALE = "stale"
# Slots carried into a private chat from a group.
_HANDOFF_SLOTS = ("insurance_type", "gap_months", "cause")
# Platforms that cut long messages, and the length at which a message was probably cut.
_CUT_AT = {"telegram": 4096}
_SCHEMES = frozenset(t.value for t in InsuranceType)


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

    def step(self, state: ConversationState, event: InEvent, today: date) -> Turn:
        """Take one conversation one step further."""
        if event.chat_kind is ChatKind.GROUP and not event.addressed:
            return Turn(state=state)  # the group's own talk is none of our business
        ctx = Ctx(self, state, event, today)
        if event.payload is not None:
            return self._on_button(ctx, event.payload)
        text = (event.text or "").strip()
        if text.startswith("/"):
            head, _, rest = text.partition(" ")
            ctx.arg = rest.strip()
            handler = routes.COMMANDS.get(head[1:].split("@", 1)[0].lower(), commands.unknown_command)
            return handler(ctx) or commands.unknown_command(ctx)
        if not text:
            return commands.reask_or_card(ctx, texts.ONLY_TEXT)
        return self._on_text(ctx, text)

    def _on_button(self, ctx: Ctx, payload: str) -> Turn:
        """A pressed button: its handler, or a polite "stale" when the payload no longer applies."""
        handler: Handler | None = routes.BUTTONS.get(payload)
        if handler is None and (parsed := parse_button(payload)) is not None:
            kind, ctx.arg = parsed
            handler = routes.BUTTON_KINDS.get(kind)
        turn = handler(ctx) if handler is not None else None
        outcome = PRESS_ACCEPTED if turn is not None else PRESS_STALE
        turn = turn or commands.stale_button(ctx)
        if turn.messages:  # adapters read this to close (accepted) or keep (stale) the pressed keyboard
            first = turn.messages[0]
            turn.messages[0] = replace(first, meta={**first.meta, PRESS_META: outcome})
        return turn

    def _on_text(self, ctx: Ctx, text: str) -> Turn:
        ctx.text = text
        known = ctx.state.slots.get("insurance_type")
        scheme = InsuranceType(known) if known in _SCHEMES else None
        ctx.heard = understand(text, ctx.today, self.regions, scheme)
        ctx.updates = updates.slot_updates(ctx.heard)
        filling.read_direct_reply(ctx)
        turn = self._route_text(ctx)
        if "outside_mainland" in ctx.heard.intents and "region" not in ctx.updates:
            _outside_mainland(ctx, turn)
        cut = _CUT_AT.get(ctx.event.platform)
        if cut is not None and len(text) >= cut:
            _note_first(turn, texts.LONG_MESSAGE_CUT.format(platform=ctx.event.platform.title()))
        if "off_topic" in ctx.heard.intents and ctx.state.step.kind.value != "start":
            # "医保卡丢了，顺便问下断缴…": the gap is answered; the other question gets one line.
            kind = next((k for k in texts.OFF_TOPIC_WHAT if f"off_topic_{k}" in ctx.heard.intents), None)
            if kind is not None and turn.messages and texts.OFF_TOPIC_WHAT[kind] not in turn.messages[0].text:
                _note_first(turn, texts.OFF_TOPIC_ASIDE.format(what=texts.OFF_TOPIC_WHAT[kind].rstrip("，")))
        return turn

    def _route_text(self, ctx: Ctx) -> Turn:
        intents = ctx.heard.intents
        for intent, handler in routes.TEXT_FIRST:
            if intent in intents and (turn := handler(ctx)) is not None:
                return turn
        if ctx.heard.region_candidates and "region" not in ctx.updates:
            return asking.ask_region_choice(ctx)
        if (turn := filling.on_text(ctx)) is not None:
            return turn
        for intent, handler in routes.TEXT_ALONE:
            if intent in intents and (turn := handler(ctx)) is not None:
                return turn
        return filling.nothing_read(ctx)

    # ------------------------------------------------------------------ group -> private hand-off
    def handoff_payload(self, state: ConversationState) -> str | None:
        """A start payload carrying what is known into a private chat; None if it does not fit."""
        slots = {k: v for k, v in state.slots.items() if k in _HANDOFF_SLOTS}
        try:
            return encode_start(StartContext(region_code=state.slots.get("region"), source=None, slots=slots),
                                self.deeplink_key)
        except ValueError:
            log.warning("hand-off context did not fit a start payload")
            return None

    def continue_privately(self, state: ConversationState) -> OutMessage:
        return OutMessage(
            texts.CONTINUE_PRIVATELY, private_payload=self.handoff_payload(state), link_label=texts.PRIVATE_LINK_LABEL
        )


def _outside_mainland(ctx: Ctx, turn: Turn) -> None:
    """Taiwan's 健保, Hong Kong or Macao named and no mainland region read: say once, politely, that
    only the mainland's schemes are answered; the turn goes on (it asks for the city as usual)."""
    if turn.state is None or turn.state.pending.get(asking.TOLD_MAINLAND):
        return
    turn.state.pending[asking.TOLD_MAINLAND] = 1
    _note_first(turn, texts.OUTSIDE_MAINLAND)


def _note_first(turn: Turn, note: str) -> None:
    """Put a note above the first message of a turn, keeping its buttons and view."""
    if turn.messages:
        first = turn.messages[0]
        turn.messages[0] = replace(first, text=note + "\n\n" + first.text)
