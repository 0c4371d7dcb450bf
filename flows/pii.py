"""Find and hide personal identifiers that users type into the chat.

People asking about a gap in their insurance often paste their ID-card number, phone
number, bank card or passport "so the bot can look it up". The bot never needs them,
so they are replaced before anything is stored in Redis or written to a log.

Rules run longest-first (digits spaced one by one, ID card, bank card, 15-digit ID
card, mobile, landline, passport) so a shorter pattern never matches inside a longer
number that was already hidden. Numbers may be written with spaces, dashes or dots
between groups or between every digit. Matching runs on a copy with full-width digits
and letters (which Chinese input methods often produce) mapped to ASCII; the copy has
the same length, so spans carry over.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

ID_CARD_LABEL = "［已隐去的身份证号］"
BANK_CARD_LABEL = "［已隐去的银行卡号］"
PHONE_LABEL = "［已隐去的手机号］"
LANDLINE_LABEL = "［已隐去的电话号码］"
PASSPORT_LABEL = "［已隐去的证件号］"
NUMBER_LABEL = "［已隐去的号码］"

# Full-width digits, letters, plus, brackets and dots -> ASCII, one character for one character.
_FULL = "０１２３４５６７８９" + "".join(map(chr, range(0xFF21, 0xFF3B))) + "".join(map(chr, range(0xFF41, 0xFF5B)))
_HALF = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_NORMALISE = str.maketrans(_FULL + "×＋（）．", _HALF + "X+().")

_SEP = r"[ \-‐‑–—－.·\u00a0\u3000]"  # spaces, dashes and dots people put inside long numbers
_GAP = rf"{_SEP}{{0,3}}"  # between two groups: nothing, or up to three separators ("138 - 1234")
_D = "[0-9]"
_DATE8 = rf"(?:18|19|20){_D}{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]{_D}|3[01])"
_DATE6 = rf"{_D}{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]{_D}|3[01])"
_NOT_BEFORE = r"(?<![0-9])"
_NOT_AFTER = r"(?![0-9])"


def _spaced_label(digits: str) -> str:
    """What a number typed digit by digit ("1 3 8 1 2 ...") is, from its digits alone."""
    if len(digits) == 11 and re.fullmatch(r"1[3-9][0-9]{9}", digits):
        return PHONE_LABEL
    if len(digits) == 18 or len(digits) == 15:
        return ID_CARD_LABEL
    if len(digits) >= 16:
        return BANK_CARD_LABEL
    if digits.startswith("0"):
        return LANDLINE_LABEL
    return NUMBER_LABEL


@dataclass(frozen=True, slots=True)
class _Rule:
    label: str | Callable[[str], str]  # a fixed label, or one chosen from the matched digits
    pattern: re.Pattern[str]

    def label_for(self, matched: str) -> str:
        if isinstance(self.label, str):
            return self.label
        return self.label(re.sub(r"[^0-9Xx]", "", matched))


_RULES: tuple[_Rule, ...] = (
    # Ten or more digits typed one by one with a separator between each ("1 3 8 1 2 3 ...").
    _Rule(_spaced_label, re.compile(rf"{_NOT_BEFORE}{_D}(?:{_SEP}{_D}){{9,}}(?:{_SEP}?[Xx])?(?![0-9Xx])")),
    # 18-digit resident ID: area(6) birth date(8) sequence(3) check digit (digit or X),
    # optionally grouped 6-8-4. Any 17 digits followed by X are an ID card too.
    _Rule(
        ID_CARD_LABEL,
        re.compile(
            rf"{_NOT_BEFORE}(?:{_D}{{6}}{_GAP}{_DATE8}{_GAP}{_D}{{3}}[0-9Xx]|{_D}{{17}}[Xx])(?![0-9Xx])"
        ),
    ),
    # Bank and social-security cards: 16 or more digits, contiguous or in groups of four.
    _Rule(
        BANK_CARD_LABEL,
        re.compile(
            rf"{_NOT_BEFORE}(?:{_D}{{16,}}|{_D}{{4}}(?:{_GAP}{_D}{{4}}){{3,}}(?:{_GAP}{_D}{{1,3}})?){_NOT_AFTER}"
        ),
    ),
    # 15-digit first-generation ID card: area(6) birth date yymmdd(6) sequence(3).
    _Rule(ID_CARD_LABEL, re.compile(rf"{_NOT_BEFORE}{_D}{{6}}{_DATE6}{_D}{{3}}{_NOT_AFTER}")),
    # Mainland mobile: 1[3-9] + 9 digits, with or without +86/0086, grouped with spaces, dashes or dots.
    _Rule(
        PHONE_LABEL,
        re.compile(
            rf"{_NOT_BEFORE}(?:\(?(?:\+|00)?86\)?{_GAP})?1[3-9]{_D}{_GAP}{_D}{{4}}{_GAP}{_D}{{4}}{_NOT_AFTER}"
            rf"|{_NOT_BEFORE}(?:\(?(?:\+|00)?86\)?{_GAP})?1[3-9](?:{_GAP}{_D}){{9}}{_NOT_AFTER}"
        ),
    ),
    # Landline: area code 0xx(x) (optionally in brackets) + 7-8 digit local number (maybe split 3/4-4).
    _Rule(
        LANDLINE_LABEL,
        re.compile(
            rf"(?:\(0[1-9]{_D}{{1,2}}\)|{_NOT_BEFORE}0[1-9]{_D}{{1,2}}){_GAP}{_D}{{3,4}}{_GAP}{_D}{{4}}{_NOT_AFTER}"
        ),
    ),
    # Passports and travel permits: E12345678, EA1234567, G12345678 (and lowercase), even
    # run together with words ("passportE12345678ok"): hiding an order code is the lesser harm.
    _Rule(
        PASSPORT_LABEL,
        re.compile(r"(?:[EeGgDdSsPp][0-9]{8}|[Ee][A-Za-z][0-9]{7})(?![0-9])"),
    ),
)


# Every identifier above has at least 7 digits (a passport: EA + 7); a message with fewer
# cannot hold one, and most messages have none, so the patterns are skipped for them.
_MIN_DIGITS = 7


def _too_few_digits(probe: str) -> bool:
    return sum(map(probe.count, "0123456789")) < _MIN_DIGITS


def redact(text: str) -> str:
    """Return `text` with ID-card, bank-card, phone, landline and passport numbers replaced by labels."""
    probe = text.translate(_NORMALISE)
    if _too_few_digits(probe):
        return text
    for rule in _RULES:
        matches = list(rule.pattern.finditer(probe))
        if matches:
            spans = [(m.span(), rule.label_for(m.group())) for m in matches]
            text = _splice(text, spans)
            probe = _splice(probe, spans)
    return text


def contains_pii(text: str) -> bool:
    """True when `text` holds anything `redact` would hide."""
    probe = text.translate(_NORMALISE)
    if _too_few_digits(probe):
        return False
    return any(rule.pattern.search(probe) for rule in _RULES)


def _splice(text: str, spans: list[tuple[tuple[int, int], str]]) -> str:
    parts: list[str] = []
    last = 0
    for (start, end), label in spans:
        parts.append(text[last:start])
        parts.append(label)
        last = end
    parts.append(text[last:])
    return "".join(parts)
