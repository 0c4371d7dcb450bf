"""Readers of a message's monthly base and intents (what it asks or does), on normalised text.

Split from `flows.understand`, which reads the gap, years, type, cause and region.
"""

from __future__ import annotations

import re

from flows.nlu import lexicon as lx
from flows.nlu.numbers import to_number
from policies.limits import MAX_BASE, MIN_BASE

_FIRST_CLAUSE_PUNCT = re.compile(r"[,。!?;、~…]")


def read_base(text: str) -> float | None:
    """The monthly contribution base said ("基数5000", "按4千5的基数"), within the limits; else None."""
    for pattern in lx.BASE:
        m = pattern.search(text)
        if m is None:
            continue
        value = to_number(m.group("n"))
        if value is None:
            continue
        factor = lx.BASE_UNIT_FACTOR.get(m.group("u") or "", 1.0)
        value = value * factor + int(m.group("tail") or 0) * factor / 10
        if MIN_BASE <= value <= MAX_BASE:
            return value
    return None


def read_intents(text: str) -> frozenset[str]:
    """What the message asks or does (questions, commands, yes/no, off-topic), by keyword."""
    intents = {name for name, pattern in lx.INTENT_PATTERNS if pattern.search(text)}
    off_topic = {f"off_topic_{name}" for name, pattern in lx.OFF_TOPIC if pattern.search(text)}
    if off_topic:
        intents |= off_topic | {"off_topic"}
    if lx.GAP_TALK.search(text):
        intents.add("gap_talk")
    head = _FIRST_CLAUSE_PUNCT.split(text, maxsplit=1)[0].strip()
    if lx.YES.match(head):
        intents.add("yes")
    elif lx.NO.match(head):
        intents.add("no")
        if head.startswith("不是") and len(text) <= len(head) + 1:
            intents.discard("correction")  # a bare "不是" answers a question; it corrects nothing
    return frozenset(intents)
