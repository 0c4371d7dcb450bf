"""Buttons for text-only chats: lay them out as choices and read a typed reply back.

Platforms without buttons (WeChat's message push, a terminal) show a message's
buttons as a list the user answers by typing a number or the label. Whether "4"
picks choice 4 or answers the question depends on the question: after "断缴多久了？"
a bare "4" means 4 months, so when a bare number is itself a valid answer to the
slot the buttons fill, the choices are shown without numbers and numbers stay text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from flows.messages import Button
from flows.slots import BY_LETTER, parse_bare_reply

MAX_CHOICES = 20  # more than this is not a list anyone answers by number


def _norm(text: str) -> str:
    """Letters and digits only: "⏰ 设个提醒" and "设个提醒" match, as do full-width digits."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN")


def _slot_of(button: Button) -> str | None:
    kind, _, value = button.payload.partition(":")
    spec = BY_LETTER.get(kind)
    return spec.name if spec else (value if kind == "skip" else None)


def numbers_are_answers(buttons: Sequence[Button]) -> bool:
    """True when a bare number already answers the question these buttons belong to."""
    slots = {slot for b in buttons if (slot := _slot_of(b)) is not None}
    return any(parse_bare_reply(slot, "1") is not None for slot in slots)


def choice_lines(buttons: Sequence[Button]) -> list[str]:
    """The buttons as lines to show: numbered, or plain when numbers are answers."""
    shown = list(buttons)[:MAX_CHOICES]
    if not shown:
        return []
    if numbers_are_answers(shown):
        return ["可以直接回复：" + " / ".join(b.label for b in shown)]
    lines = [f"{i}. {b.label}" for i, b in enumerate(shown, 1)]
    return [*lines, "（回复编号或文字即可）"]


def resolve_choice(text: str, buttons: Sequence[Button]) -> str | None:
    """The payload of the button a typed reply picks (its number or its label), else None."""
    shown = list(buttons)[:MAX_CHOICES]
    typed = _norm(text)
    if not typed or not shown:
        return None
    if typed.isdigit() and not numbers_are_answers(shown):
        index = int(typed)
        return shown[index - 1].payload if 1 <= index <= len(shown) else None
    for button in shown:
        if _norm(button.label) == typed:
            return button.payload
    return None
