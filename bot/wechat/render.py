"""Lay out one turn's messages as a single WeChat text (a passive reply is one message).

WeChat text has no buttons: they become choices typed back as a number or a label
(flows.choices decides how). A text reply must stay under about 2,000 bytes (WeChat
cuts at 2,048); when a turn is longer, its later parts are left out and a link to
the web chat page, carrying the conversation, takes their place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flows.choices import MAX_CHOICES, choice_lines
from flows.messages import Button, OutMessage

MAX_BYTES = 2000
MORE_WITH_LINK = "完整内容（费用明细、材料、政策依据）请点：{url}"
MORE_WITHOUT_LINK = "（内容较长，其余部分已省略。可以接着问“要交多少钱”“在哪办”“什么时候能报销”分别查看。）"
CUT = "…"


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    choices: tuple[Button, ...]  # what a typed number or label picks next
    cut: bool  # parts were left out (and the link, when given, stands for them)


def _size(text: str) -> int:
    return len(text.encode())


def _clip(text: str, budget: int) -> str:
    """`text` cut at a line end (or, failing that, a character) to fit `budget` bytes with "…"."""
    if _size(text) <= budget:
        return text
    lines, kept = text.splitlines(), ""
    for line in lines:
        candidate = f"{kept}\n{line}" if kept else line
        if _size(candidate + CUT) > budget:
            break
        kept = candidate
    if not kept:
        kept = text.encode()[: max(0, budget - _size(CUT))].decode(errors="ignore")
    return kept + CUT


def _body(message: OutMessage) -> str:
    text = message.text.strip()
    if message.suggestions:
        text += "\n\n你还可以问：" + "；".join(message.suggestions)
    return text


def choices_of(messages: Sequence[OutMessage]) -> tuple[Button, ...]:
    """Every button of the turn, in display order (the last message's are the live ones too)."""
    return tuple(b for m in messages for b in m.all_buttons())[:MAX_CHOICES]


def overflows(messages: Sequence[OutMessage], max_bytes: int = MAX_BYTES) -> bool:
    """Whether the whole turn does not fit one reply (then a details link is worth building)."""
    return _size(render(messages, None, max_bytes=10**9).text) > max_bytes


def render(messages: Sequence[OutMessage], link: str | None, *, max_bytes: int = MAX_BYTES) -> Rendered:
    """One text for the turn: message bodies in order, then the choices; cut to `max_bytes`."""
    choices = choices_of(messages)
    tail = "\n".join(choice_lines(choices))
    bodies = [b for b in (_body(m) for m in messages) if b]
    whole = "\n\n".join([*bodies, tail] if tail else bodies)
    if _size(whole) <= max_bytes:
        return Rendered(whole, choices, False)
    more = MORE_WITH_LINK.format(url=link) if link else MORE_WITHOUT_LINK
    ending = "\n\n".join(p for p in (more, tail) if p)
    budget = max_bytes - _size(ending) - 2
    kept: list[str] = []
    for body in bodies:
        joined = "\n\n".join([*kept, body])
        if _size(joined) <= budget:
            kept.append(body)
            continue
        if not kept:  # even the first part is too long: keep what fits of it
            kept.append(_clip(body, budget))
        break
    return Rendered("\n\n".join([*kept, ending]), choices, True)
