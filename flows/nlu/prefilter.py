"""Characters a regex match must contain, so a reader can skip a pattern on text that lacks them all.

`understand` runs a few dozen patterns on every message, and on a short message most of them cannot
match: "谢谢" holds no 年 or 月, so no duration or month can be found in it. A gate answers "can
this pattern match here at all?" with one set operation instead of a regex search. Gates are derived
from the patterns themselves (not typed by hand), so they stay right when a keyword table changes.

The guarantee: if ``gate(p).isdisjoint(text)`` (or the set of the text's characters) is True, then
``p.search(text)`` is None, ``p.match(text)`` fails and ``p.finditer(text)`` yields nothing. A pattern
whose required characters cannot be worked out gets `OPEN`, which lets every text through.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

_sre_parse: Any
_sre: Any
try:  # the parser behind `re` (3.11+); private, so without it every gate just stays open
    _sre_parse = importlib.import_module("re._parser")
    _sre = importlib.import_module("re._constants")
except ImportError:  # pragma: no cover - other Python versions
    _sre_parse = _sre = None

# A character class wider than this is not worth a gate ("[\u4e00-\u9fff]" would admit any text).
_MAX_CLASS = 64
_UNSAFE_FLAGS = re.IGNORECASE | re.LOCALE  # a literal then matches characters other than itself
# Characters found in most chat messages: a gate on them rarely skips anything, so the cover below
# avoids them when another required character would do ("算了" is gated on 算, not on 了).
_COMMON = frozenset("的了是在不我你他她这那有个要能好人上下多几么也就都和吗呢啊吧")
_COMMON_COST = 4


class Gate(Protocol):
    """``isdisjoint(chars)`` is True only when text made of these characters cannot match."""

    def isdisjoint(self, other: Iterable[str], /) -> bool: ...


class _Open:
    """The gate of a pattern without known required characters: every text may match."""

    __slots__ = ()

    def isdisjoint(self, other: Iterable[str], /) -> bool:
        return False

    def __repr__(self) -> str:
        return "OPEN"


OPEN: Gate = _Open()


def gate(*patterns: re.Pattern[str]) -> Gate:
    """The characters of which every match of any of the patterns holds one; `OPEN` when unknown."""
    union: set[str] = set()
    for pattern in patterns:
        chars = required_chars(pattern)
        if chars is None:
            return OPEN
        union |= chars
    return frozenset(union)


def required_chars(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Characters of which every match of `pattern` holds at least one, or None when unknown."""
    if _sre_parse is None or not isinstance(pattern.pattern, str) or pattern.flags & _UNSAFE_FLAGS:
        return None
    try:
        parsed = _sre_parse.parse(pattern.pattern, pattern.flags)
        options = _sequence(list(parsed))
    except Exception:  # an unfamiliar parse tree: no gate, the pattern always runs
        return None
    return min(options, key=_cost) if options else None


def _sequence(items: Sequence[tuple[Any, Any]]) -> list[frozenset[str]]:
    """Every item a sequence cannot match without gives one option (any one of them is a valid gate)."""
    options: list[frozenset[str]] = []
    for op, av in items:
        options.extend(_item(op, av))
    return options


def _item(op: Any, av: Any) -> list[frozenset[str]]:
    """Options for one parse-tree node that always consumes a character; [] when it may not."""
    if op is _sre.LITERAL:
        return [frozenset(chr(av))]
    if op is _sre.IN:
        chars = _class(av)
        return [chars] if chars is not None else []
    if op is _sre.MAX_REPEAT or op is _sre.MIN_REPEAT or op is getattr(_sre, "POSSESSIVE_REPEAT", None):
        low, _high, body = av
        return _sequence(list(body)) if low >= 1 else []
    if op is _sre.SUBPATTERN:
        _group, add_flags, _del_flags, body = av
        return [] if add_flags & _UNSAFE_FLAGS else _sequence(list(body))
    if op is getattr(_sre, "ATOMIC_GROUP", None):
        return _sequence(list(av))
    if op is _sre.BRANCH:
        alternatives = [_sequence(list(alt)) for alt in av[1]]
        if not all(alternatives):
            return []  # an alternative with no required character: the branch needs none
        return [_cover(alternatives)]
    # Anchors, look-arounds (they consume nothing), ANY, NOT_LITERAL, back references: no option.
    return []


def _class(items: Sequence[tuple[Any, Any]]) -> frozenset[str] | None:
    """The characters of a small positive class like [男女] or [-/.]; None for others."""
    chars: set[str] = set()
    for op, av in items:
        if op is _sre.LITERAL:
            chars.add(chr(av))
        elif op is _sre.RANGE and av[1] - av[0] < _MAX_CLASS:
            chars.update(chr(c) for c in range(av[0], av[1] + 1))
        else:  # NEGATE, CATEGORY (\d, \s), wide ranges
            return None
        if len(chars) > _MAX_CLASS:
            return None
    return frozenset(chars)


def _cost(chars: Iterable[str]) -> int:
    return sum(_COMMON_COST if ch in _COMMON else 1 for ch in chars)


def _cover(alternatives: list[list[frozenset[str]]]) -> frozenset[str]:
    """A cheap union holding one option of every alternative (greedy weighted set cover).

    For the eleven alternatives of the duration pattern it finds {年, 月}, not a first character of
    each alternative.
    """
    chosen: frozenset[str] = frozenset()
    open_ = alternatives
    while open_:
        # Every open alternative still needs a character outside `chosen`, so each cost is >= 1.
        best_score, best = 0.0, chosen
        for options in open_:
            for option in options:
                union = chosen | option
                covered = sum(1 for other in open_ if any(o <= union for o in other))
                score = covered / _cost(option - chosen)
                if score > best_score:
                    best_score, best = score, union
        chosen = best
        open_ = [options for options in open_ if not any(o <= chosen for o in options)]
    return chosen


# --------------------------------------------------------------------------- first characters
_CATEGORY_ESCAPES = {
    "CATEGORY_DIGIT": r"\d",
    "CATEGORY_NOT_DIGIT": r"\D",
    "CATEGORY_SPACE": r"\s",
    "CATEGORY_NOT_SPACE": r"\S",
    "CATEGORY_WORD": r"\w",
    "CATEGORY_NOT_WORD": r"\W",
}


def first_char_guard(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The same pattern behind a look-ahead for the characters a match can start with.

    `re` has no quick test for where a pattern of many alternatives can start (it has one only
    when every alternative begins with a plain character), so `finditer` tries every alternative
    at every position. A leading ``(?=[...])`` of the possible first characters turns most positions
    into one class test. Matches, groups and spans stay the same: the look-ahead consumes nothing
    and admits every character a match can begin with. Returns the pattern itself when its first
    characters cannot be worked out (or it can match the empty string).
    """
    if _sre_parse is None or not isinstance(pattern.pattern, str) or pattern.flags & _UNSAFE_FLAGS:
        return pattern
    try:
        first, nullable = _starts(list(_sre_parse.parse(pattern.pattern, pattern.flags)))
        if first is None or nullable or not first:
            return pattern
        return re.compile(f"(?=[{''.join(sorted(first))}])(?:{pattern.pattern})", pattern.flags)
    except Exception:  # an unfamiliar parse tree, or inline flags that must stay in front
        return pattern


def _starts(items: Sequence[tuple[Any, Any]]) -> tuple[set[str] | None, bool]:
    """Class fragments a match of the sequence can begin with (None: any character), and whether
    the sequence can match the empty string."""
    first: set[str] = set()
    for op, av in items:
        item_first, nullable = _starts_item(op, av)
        if item_first is None:
            return None, False
        first |= item_first
        if not nullable:
            return first, False
    return first, True


def _starts_item(op: Any, av: Any) -> tuple[set[str] | None, bool]:
    if op is _sre.AT or op is _sre.ASSERT or op is _sre.ASSERT_NOT:
        return set(), True  # anchors and look-arounds consume nothing
    if op is _sre.LITERAL:
        return {re.escape(chr(av))}, False
    if op is _sre.IN:
        return _class_fragments(av), False
    if op is _sre.MAX_REPEAT or op is _sre.MIN_REPEAT or op is getattr(_sre, "POSSESSIVE_REPEAT", None):
        low, high, body = av
        if high == 0:
            return set(), True
        first, nullable = _starts(list(body))
        return first, nullable or low == 0
    if op is _sre.SUBPATTERN:
        _group, add_flags, _del_flags, body = av
        return (None, False) if add_flags & _UNSAFE_FLAGS else _starts(list(body))
    if op is getattr(_sre, "ATOMIC_GROUP", None):
        return _starts(list(av))
    if op is _sre.BRANCH:
        union: set[str] = set()
        any_nullable = False
        for alt in av[1]:
            first, nullable = _starts(list(alt))
            if first is None:
                return None, False
            union |= first
            any_nullable = any_nullable or nullable
        return union, any_nullable
    return None, False  # ANY, NOT_LITERAL, back references: any character may come first


def _class_fragments(items: Sequence[tuple[Any, Any]]) -> set[str] | None:
    """A positive class's items as regex class source ("a", "0-9", "\\d"); None for [^...]."""
    out: set[str] = set()
    for op, av in items:
        if op is _sre.LITERAL:
            out.add(re.escape(chr(av)))
        elif op is _sre.RANGE:
            out.add(f"{re.escape(chr(av[0]))}-{re.escape(chr(av[1]))}")
        elif op is _sre.CATEGORY and str(av) in _CATEGORY_ESCAPES:
            out.add(_CATEGORY_ESCAPES[str(av)])
        else:
            return None
    return out
