"""The shortcuts `understand` takes must never change what it reads.

* Gates (`flows.nlu.prefilter`): a text whose characters miss a pattern's gate must not match it.
  Checked on hand-made patterns with known answers, on random patterns against random strings, and
  on every real keyword pattern against the test messages and random soups of their own keywords.
* First-character guards: the guarded duration and month patterns find exactly the same matches
  (spans and groups) as the patterns as written; checked the same three ways.
* `normalise` skips its clean-up substitutions on printable text without a space: every character
  those substitutions touch must be non-printable.

The full before/after comparison of `understand` over a large corpus is a script (it takes a while):
``.venv/bin/python -m benchmarks.understand_bench --baseline REV --check``.
"""

from __future__ import annotations

import ast
import re
import sys
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.nlu import lexicon as lx
from flows.nlu.lexicon import GENDER_GATE, read_gender
from flows.nlu.normalise import _INNER_SPACE, _SPACES, _UNSAFE
from flows.nlu.numbers import _DURATION, _DURATION_SCAN, DURATION_GATE, durations
from flows.nlu.prefilter import OPEN, first_char_guard, gate, required_chars
from flows.nlu.when import _MONTH, _MONTH_SCAN, MONTH_GATE, month_mentions

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("谢谢|感谢|多谢|谢了", "谢"),
        ("^/start\\b", "/"),
        ("[男女](?:性|士)", "男女"),  # the smaller option of the two
        ("a*b", "b"),
        ("(?<!x)(?:ab)+", "a"),
        ("[^a]b", "b"),
        ("[^ab]{1,2}c", "c"),
        ("(?:是|对)的?$", "是对"),
        ("x?y{1,3}", "y"),
        ("[-/.]\\d", "-/."),
    ],
)
def test_required_chars_of_known_patterns(pattern: str, expected: str) -> None:
    assert required_chars(re.compile(pattern)) == frozenset(expected)


@pytest.mark.parametrize(
    "pattern",
    [
        "\\d+",  # a category, not a character list
        "a?",  # may match nothing
        "x|\\d",  # one alternative has no required character
        "(?i)abc",  # case-insensitive: "A" matches too
        "[\u4e00-\u9fff]",  # too wide to be worth a gate
        "(?=abc)",  # a look-ahead consumes nothing
        ".",
    ],
)
def test_no_gate_when_it_cannot_be_known(pattern: str) -> None:
    assert required_chars(re.compile(pattern)) is None
    assert gate(re.compile(pattern)) is OPEN
    assert OPEN.isdisjoint("") is False  # OPEN lets every text through


def test_scoped_ignorecase_is_not_trusted() -> None:
    # "b" and "c" are required literally; the case-insensitive parts give nothing.
    assert required_chars(re.compile("(?i:a)b|c(?i:d)")) == frozenset("bc")


def test_the_duration_gate_is_small() -> None:
    # The cover keeps the gate to the two characters every duration has, not one per alternative.
    assert DURATION_GATE == frozenset("年月")


# --------------------------------------------------------------------------- random patterns
_ATOMS = st.sampled_from(
    ["a", "b", "c", "[ab]", "[^a]", "[^ab]", ".", "\\d", "\\D", "\\w", "\\s", "[\\d.]", "[b-d]", "-",
     "(?<=a)", "(?<!\\d)", "(?!b)", "^", "$", "\\b"]
)  # fmt: skip
_TEXTS = st.lists(st.text(alphabet="abcd1 .-", max_size=12), min_size=1, max_size=20)


def _regex() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.lists(inner, min_size=1, max_size=4).map("".join),
            st.lists(inner, min_size=2, max_size=3).map("|".join).map(lambda s: f"(?:{s})"),
            st.tuples(inner, st.sampled_from(["?", "*", "+", "{2}", "{0,2}", "+?", "{1,3}"])).map(
                lambda t: f"(?:{t[0]}){t[1]}"
            ),
            inner.map(lambda s: f"({s})"),
        )

    return st.recursive(_ATOMS, extend, max_leaves=8)


def _matches(pattern: re.Pattern[str], text: str) -> list[tuple[tuple[int, int], tuple[str | None, ...]]]:
    return [(m.span(), m.groups()) for m in pattern.finditer(text)]


@settings(max_examples=500, deadline=None)
@given(pattern=_regex(), texts=_TEXTS)
def test_random_patterns_keep_their_gate_and_their_matches_behind_a_guard(pattern: str, texts: list[str]) -> None:
    compiled = re.compile(pattern)
    needed = gate(compiled)
    guarded = first_char_guard(compiled)
    for text in texts:
        for m in compiled.finditer(text):
            assert not needed.isdisjoint(m.group()), (pattern, text, m)
        assert _matches(guarded, text) == _matches(compiled, text), (pattern, guarded.pattern, text)


def test_first_char_guard_leaves_what_it_cannot_read() -> None:
    for pattern in ["a?", "[^ab]c", ".b", "(?i)ab", "x*"]:
        compiled = re.compile(pattern)
        assert first_char_guard(compiled) is compiled
    assert first_char_guard(re.compile("(?<![0-9])[0-9]{2}年|半年")).pattern.startswith("(?=[0-9半])")


# --------------------------------------------------------------------------- the real patterns
def _test_messages() -> list[str]:
    found: list[str] = []
    folder = Path(__file__).parent
    for path in sorted([*folder.glob("test_understand*.py"), *folder.glob("test_dialog*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.append(node.value.lower())
    return found


_PATTERNS: list[re.Pattern[str]] = [
    lx.RETIREE, lx.EMPLOYEE_HINT, lx.UNKNOWN_CAUSE, lx.EMPLOYER_CAUSE, lx.PERSONAL_CAUSE, lx.YES, lx.NO,
    *(p for p, _ in lx.TYPE_WORDS), *lx.BASE, *(p for _, p in lx.INTENT_PATTERNS),
]  # fmt: skip
# Keywords of the patterns themselves (runs of CJK and Latin letters in their sources), so that
# random soups of them do match.
_GATED = [(pattern, gate(pattern)) for pattern in _PATTERNS]
_KEYWORDS = sorted({w for p in _PATTERNS for w in re.findall(r"[\u4e00-\u9fff]+|[a-z/]+", p.pattern)})
_FILLERS = [
    "4", "12", "2025", "个月", "年", "月", "2025-10", "3.5", "，", " ", "男", "女", "先生", "不是", "基数", "我",
    "半", "几", "两", "三四", "十二", "上个", "去年", "前", "多", "份", "初", "底",
]  # fmt: skip


def _assert_gates_hold(text: str) -> None:
    for pattern, needed in _GATED:
        for m in pattern.finditer(text):
            assert not needed.isdisjoint(m.group()), (pattern.pattern, text)
    if DURATION_GATE.isdisjoint(text):
        assert durations(text) == []
    if MONTH_GATE.isdisjoint(text):
        assert month_mentions(text, TODAY) == []
    if GENDER_GATE.isdisjoint(text):
        assert read_gender(text) is None
    assert _matches(_DURATION_SCAN, text) == _matches(_DURATION, text)
    assert _matches(_MONTH_SCAN, text) == _matches(_MONTH, text)


def test_gates_hold_on_the_test_messages() -> None:
    messages = _test_messages()
    assert len(messages) > 100
    for text in messages:
        _assert_gates_hold(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_KEYWORDS + _FILLERS), max_size=12).map("".join))
def test_gates_hold_on_keyword_soups(text: str) -> None:
    _assert_gates_hold(text)


# --------------------------------------------------------------------------- normalise
def test_normalise_skips_only_substitutions_that_change_nothing() -> None:
    # normalise() runs its control-character and white-space substitutions only on text that is not
    # printable or has a space; that is exact only while every character they touch is non-printable.
    touched = [
        ch
        for ch in map(chr, range(sys.maxunicode + 1))
        if ch != " " and ch.isprintable() and (_UNSAFE.match(ch) or _SPACES.match(ch) or ch.isspace())
    ]
    assert touched == []
    assert _INNER_SPACE.pattern.count(" ") == 2  # it removes plain spaces only
