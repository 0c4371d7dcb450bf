"""Find and hide personal identifiers that users type into the chat.

People asking about a gap in their insurance often paste their ID-card number, phone
number or bank card "so the bot can look it up". The bot never needs them, so they
are replaced before anything is stored in Redis or written to a log.

Patterns run longest-first (ID card, bank card, 15-digit ID card, mobile, landline)
so a shorter pattern never matches inside a longer number that was already hidden.
Matching runs on a copy with full-width digits (which Chinese input methods often
produce) mapped to ASCII; the copy has the same length, so spans carry over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ID_CARD_LABEL = "［已隐去的身份证号］"
BANK_CARD_LABEL = "［已隐去的银行卡号］"
PHONE_LABEL = "［已隐去的手机号］"
LANDLINE_LABEL = "［已隐去的电话号码］"

# Full-width digits, X, plus and brackets -> ASCII, one character for one character.
_NORMALISE = str.maketrans("０１２３４５６７８９ＸｘＸ×＋（）", "0123456789XxXX+()")

_SEP = r"[ \-‐‑–—－\u00a0\u3000]"  # spaces and dashes people put inside long numbers
_D = "[0-9]"
_DATE8 = rf"(?:18|19|20){_D}{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]{_D}|3[01])"
_DATE6 = rf"{_D}{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]{_D}|3[01])"
_NOT_BEFORE = r"(?<![0-9])"
_NOT_AFTER = r"(?![0-9])"


@dataclass(frozen=True, slots=True)
class _Rule:
    label: str
    pattern: re.Pattern[str]


_RULES: tuple[_Rule, ...] = (
    # 18-digit resident ID: area(6) birth date(8) sequence(3) check digit (digit or X),
    # optionally grouped 6-8-4. Any 17 digits followed by X are an ID card too.
    _Rule(
        ID_CARD_LABEL,
        re.compile(
            rf"{_NOT_BEFORE}(?:{_D}{{6}}{_SEP}?{_DATE8}{_SEP}?{_D}{{3}}[0-9Xx]|{_D}{{17}}[Xx])(?![0-9Xx])"
        ),
    ),
    # Bank cards: 16-19 digits, contiguous or in groups of four.
    _Rule(
        BANK_CARD_LABEL,
        re.compile(
            rf"{_NOT_BEFORE}(?:{_D}{{16,19}}|{_D}{{4}}(?:{_SEP}{_D}{{4}}){{3}}(?:{_SEP}?{_D}{{1,3}})?){_NOT_AFTER}"
        ),
    ),
    # 15-digit first-generation ID card: area(6) birth date yymmdd(6) sequence(3).
    _Rule(ID_CARD_LABEL, re.compile(rf"{_NOT_BEFORE}{_D}{{6}}{_DATE6}{_D}{{3}}{_NOT_AFTER}")),
    # Mainland mobile: 1[3-9] + 9 digits, with or without +86/0086, spaces or dashes.
    _Rule(
        PHONE_LABEL,
        re.compile(rf"{_NOT_BEFORE}(?:\(?(?:\+|00)?86\)?{_SEP}?)?1[3-9]{_D}(?:{_SEP}?{_D}){{8}}{_NOT_AFTER}"),
    ),
    # Landline: area code 0xx(x) (optionally in brackets) + 7-8 digit local number.
    _Rule(
        LANDLINE_LABEL,
        re.compile(
            rf"(?:\(0[1-9]{_D}{{1,2}}\)|{_NOT_BEFORE}0[1-9]{_D}{{1,2}}){_SEP}?[2-9]{_D}{{6,7}}{_NOT_AFTER}"
        ),
    ),
)


# Every identifier above has at least 10 digits (a landline: 3-digit area code + 7); a message
# with fewer cannot hold one, and most messages have none, so the patterns are skipped for them.
_MIN_DIGITS = 7


def _too_few_digits(probe: str) -> bool:
    return sum(map(probe.count, "0123456789")) < _MIN_DIGITS


def redact(text: str) -> str:
    """Return `text` with ID-card, bank-card, mobile and landline numbers replaced by labels."""
    probe = text.translate(_NORMALISE)
    if _too_few_digits(probe):
        return text
    for rule in _RULES:
        spans = [m.span() for m in rule.pattern.finditer(probe)]
        if spans:
            text = _splice(text, spans, rule.label)
            probe = _splice(probe, spans, rule.label)
    return text


def contains_pii(text: str) -> bool:
    """True when `text` holds anything `redact` would hide."""
    probe = text.translate(_NORMALISE)
    if _too_few_digits(probe):
        return False
    return any(rule.pattern.search(probe) for rule in _RULES)


def _splice(text: str, spans: list[tuple[int, int]], label: str) -> str:
    parts: list[str] = []
    last = 0
    for start, end in spans:
        parts.append(text[last:start])
        parts.append(label)
        last = end
    parts.append(text[last:])
    return "".join(parts)
