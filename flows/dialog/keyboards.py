"""The buttons of the conversation: the answer card's, the region choice, undo and restart."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flows import texts
from flows.messages import Button, OutMessage
from flows.render_parts import says_more
from flows.slots import Rows
from flows.state import ConversationState
from policies.model import Answer, BackpayVerdict, Region

# The answer card's buttons: (label, payload); each payload is routed to one follow-up topic.
CARD_BUTTONS: tuple[tuple[str, str], ...] = (
    (texts.BTN_COST, "a:cost"),
    (texts.BTN_WHERE, "a:where"),
    (texts.BTN_WHEN, "a:when"),
    (texts.BTN_WHY, "a:why"),
)
# After a "no" there is nothing to pay or hand in for a back-payment: what to do now instead.
NO_CARD_BUTTONS: tuple[tuple[str, str], ...] = (
    (texts.BTN_NOW, "a:now"),
    (texts.BTN_WHEN, "a:when"),
    (texts.BTN_WHY, "a:why"),
)


def back_row(state: ConversationState) -> Rows:
    """"上一步" once there is something to undo."""
    return ((Button(texts.BTN_BACK, "a:back"),),) if state.history else ()


def region_rows(regions: Iterable[Region]) -> Rows:
    return tuple((Button(r.full_name or r.name, f"r:{r.code}"),) for r in regions)


def gap_edge_rows(low: int, edge: int) -> Rows:
    """Two choices either side of the month where the answer changes."""
    return (
        (Button(f"刚好{edge - 1}个月或更短", f"g:{low}"), Button(f"超过{edge - 1}个月", f"g:{edge}")),
        (Button(texts.BTN_UNSURE, "a:both"),),
    )


def card_rows(answer: Answer | None, on: date, group: bool, offer_base: bool, remind: bool) -> Rows:
    """Buttons under an answer card: its parts (each only when it says more than the card: never an
    empty or "unknown" part), a reminder (private chats that can be sent one), a base, other region,
    restart. Without an answer every part is offered (pressing one asks what is missing)."""
    refused = answer is not None and answer.can_backpay is BackpayVerdict.NO
    parts = tuple((label, payload) for label, payload in (NO_CARD_BUTTONS if refused else CARD_BUTTONS)
                  if answer is None or says_more(answer, on, payload.removeprefix("a:")))
    rows: list[tuple[Button, ...]] = [
        tuple(Button(label, payload) for label, payload in parts[i : i + 2]) for i in range(0, len(parts), 2)
    ]
    if offer_base and not group:
        rows.append((Button(texts.BTN_BASE, "a:base"),))
    if not group and remind:
        rows.append((Button(texts.BTN_REMIND, "a:remind"),))
    rows.append((Button(texts.BTN_OTHER_REGION, "a:region"), Button(texts.BTN_RESTART, "a:restart")))
    return tuple(rows)


def with_rows(message: OutMessage, rows: Rows, suggestions: tuple[str, ...] = ()) -> OutMessage:
    """The message with extra button rows (and typed suggestions) added below its own."""
    return OutMessage(
        message.text,
        buttons=message.buttons + rows,
        suggestions=suggestions or message.suggestions,
        private_payload=message.private_payload,
        link_label=message.link_label,
        meta=message.meta,
        view=message.view,
    )
