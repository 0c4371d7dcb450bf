"""Deep-link start payloads: a compact, tamper-evident codec (platform-neutral).

Telegram's `https://t.me/<bot>?start=<payload>` (and WeChat's scene strings) carry at
most 64 characters of ``A-Z a-z 0-9 _ -``. A payload here pre-fills the region
(administrative code), names the referring community account, and can carry a few
slots for the group -> private hand-off.

Wire format (version 1)::

    <field>-<field>-...-<mac>

* each field is one key letter followed by its value; a lowercase key means a plain
  value of ``[A-Za-z0-9_]``, the same key in uppercase means the value is UTF-8 in
  lowercase base32 without padding (for values such as Chinese text);
* keys: ``r`` region code, ``s`` source, ``t`` insurance_type, ``g`` gap_months,
  ``m`` gap_since (YYYY-MM written YYYYMM), ``c`` cause, ``b`` monthly_base,
  ``y`` years_paid, ``x`` gender;
* ``mac`` is the first 6 bytes of HMAC-SHA256(key, "v1:" + body) in base64url
  (always 8 characters), so a hand-edited payload is rejected.

Example: ``r650100-sjiedao12-g4-Xk7ow5pbr7s0-Hq1VZ8sC``. The default key
`DEFAULT_KEY` is public and only guards against accidental or casual edits: only the
terminal chat uses it. Every public bot process refuses to start without its own key
(``DEEPLINK_KEY``, see bot.settings), and `python -m flows.deeplink` signs with that
same key (from the environment or `.env`), so its links are the ones the bot accepts.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from flows.slots import SLOT_SPECS

DEFAULT_KEY = "yibao-gap-bot/deeplink/v1"
MAX_PAYLOAD = 64
_MAC_LEN = 8  # base64url characters of a 6-byte truncated HMAC
_ALPHABET = re.compile(r"^[A-Za-z0-9_-]+\Z")
_PLAIN = re.compile(r"^[A-Za-z0-9_]+\Z")
_DIGITS = re.compile(r"^[0-9]{1,9}\Z")
_REGION = re.compile(r"^[0-9]{2,12}\Z")
_YEAR_MONTH = re.compile(r"^([0-9]{4})-?([0-9]{2})\Z")

# Slots a payload carries, most important first: when a payload would be too long, slots are
# dropped from the end. Each is keyed by its letter in the slot table (`flows.slots`); kinds here:
# "int", "str", "ym" (YYYY-MM). The gap's first month travels with it under "m" (not a slot).
_CARRIED = ("insurance_type", "gap_months", "gap_since", "cause", "monthly_base", "years_paid", "gender")
_GAP_SINCE = ("m", "ym")


def _letter(name: str) -> str:
    letter = SLOT_SPECS[name].letter
    if letter is None:
        raise ValueError(f"slot {name} has no letter to carry it by")
    return letter


def _carried(name: str) -> tuple[str, str]:
    if name == "gap_since":
        return _GAP_SINCE
    return _letter(name), "str" if SLOT_SPECS[name].kind == "choice" else "int"


_SLOTS: dict[str, tuple[str, str]] = {name: _carried(name) for name in _CARRIED}
_REGION_KEY = _letter("region")
_BY_KEY = {key: (name, kind) for name, (key, kind) in _SLOTS.items()}


@dataclass(frozen=True, slots=True)
class StartContext:
    """What a start payload tells a new conversation."""

    region_code: str | None = None
    source: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)


def _mac(body: str, key: str) -> str:
    digest = hmac.new(key.encode(), b"v1:" + body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:6]).decode()


def _b32(text: str) -> str:
    return base64.b32encode(text.encode()).decode().rstrip("=").lower()


def _unb32(text: str) -> str:
    padded = text.upper() + "=" * (-len(text) % 8)
    return base64.b32decode(padded).decode()


def _encode_value(letter: str, kind: str, value: Any) -> str:
    """One field; raises ValueError for a value that cannot be carried."""
    if kind == "int":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**9:
            raise ValueError(f"slot {letter!r} needs a whole number 0..999999999, got {value!r}")
        return f"{letter}{value}"
    if kind == "ym":
        match = _YEAR_MONTH.match(str(value))
        if not match:
            raise ValueError(f"gap_since must look like YYYY-MM, got {value!r}")
        return f"{letter}{match.group(1)}{match.group(2)}"
    text = str(value)
    if not text:
        raise ValueError("empty string slots are not carried")
    if _PLAIN.match(text):
        return f"{letter}{text}"
    return f"{letter.upper()}{_b32(text)}"


def _body(ctx: StartContext, slot_names: list[str]) -> str:
    fields: list[str] = []
    if ctx.region_code is not None:
        if not _REGION.match(ctx.region_code):
            raise ValueError(f"region_code must be 2-12 digits, got {ctx.region_code!r}")
        fields.append(_REGION_KEY + ctx.region_code)
    if ctx.source is not None:
        fields.append(_encode_value("s", "str", ctx.source))
    for name in slot_names:
        letter, kind = _SLOTS[name]
        fields.append(_encode_value(letter, kind, ctx.slots[name]))
    return "-".join(fields)


def encode_start(ctx: StartContext, key: str = DEFAULT_KEY) -> str:
    """Encode `ctx` as a start payload of at most 64 characters of [A-Za-z0-9_-].

    Slots whose value is None are left out. When everything does not fit, the least
    important slots are dropped (region and source are always kept). Raises ValueError
    for an unknown slot name, a value that cannot be carried, or a region + source that
    alone exceed the limit.
    """
    unknown = sorted(set(ctx.slots) - set(_SLOTS))
    if unknown:
        raise ValueError(f"unknown slot(s) for a start payload: {', '.join(unknown)}")
    names = [name for name in _SLOTS if ctx.slots.get(name) is not None]
    while True:
        body = _body(ctx, names)
        payload = f"{body}-{_mac(body, key)}"
        if len(payload) <= MAX_PAYLOAD:
            return payload
        if not names:
            raise ValueError("region code and source are too long for a start payload")
        names.pop()


def _decode_fields(body: str) -> StartContext | None:
    region: str | None = None
    source: str | None = None
    slots: dict[str, Any] = {}
    for item in body.split("-") if body else []:
        if len(item) < 2:
            return None
        letter, raw = item[0], item[1:]
        lower = letter.lower()
        if letter.isupper():
            try:
                value: Any = _unb32(raw)
            except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
                return None
        elif _PLAIN.match(raw):
            value = raw
        else:
            return None
        if letter == _REGION_KEY and _REGION.match(raw) and region is None:
            region = raw
        elif lower == "s" and source is None:
            source = value
        elif lower in _BY_KEY:
            name, kind = _BY_KEY[lower]
            if name in slots:
                return None
            if kind == "int":
                if letter.isupper() or not _DIGITS.match(raw):
                    return None
                value = int(raw)
            elif kind == "ym":
                if letter.isupper() or not re.fullmatch(r"[0-9]{6}", raw):
                    return None
                value = f"{raw[:4]}-{raw[4:]}"
            slots[name] = value
        else:
            return None
    return StartContext(region_code=region, source=source, slots=slots)


def decode_start(payload: str | None, key: str = DEFAULT_KEY) -> StartContext | None:
    """Decode a start payload; None when it is absent, malformed, unknown or tampered with."""
    if not payload or len(payload) > MAX_PAYLOAD or not _ALPHABET.match(payload):
        return None
    if len(payload) < _MAC_LEN + 1 or payload[-_MAC_LEN - 1] != "-":
        return None
    body, mac = payload[: -_MAC_LEN - 1], payload[-_MAC_LEN:]
    if not hmac.compare_digest(mac, _mac(body, key)):
        return None
    return _decode_fields(body)


def make_start_link(bot_username: str, ctx: StartContext, key: str = DEFAULT_KEY) -> str:
    """The `https://t.me/<bot>?start=<payload>` link a community account publishes."""
    return f"https://t.me/{bot_username.lstrip('@')}?start={encode_start(ctx, key)}"


KEY_ENV = "DEEPLINK_KEY"


def configured_key(env_file: str = ".env") -> str | None:
    """DEEPLINK_KEY from the environment, else from `.env` in the working directory (as the bot reads it)."""
    key = os.environ.get(KEY_ENV)
    if key:
        return key
    if os.path.exists(env_file):
        from dotenv import dotenv_values

        return dotenv_values(env_file).get(KEY_ENV) or None
    return None


def build_parser() -> argparse.ArgumentParser:
    """Arguments of `python -m flows.deeplink`."""
    parser = argparse.ArgumentParser(prog="python -m flows.deeplink",
                                     description="为社区服务号生成带地区与来源的 Telegram 深度链接")
    parser.add_argument("--bot", required=True, help="bot username, without @")
    parser.add_argument("--region", help="行政区划代码, e.g. 650100")
    parser.add_argument("--source", help="来源账号标识 [A-Za-z0-9_]")
    parser.add_argument("--key", help="签名密钥；默认读环境变量或 .env 中的 DEEPLINK_KEY（须与机器人相同）")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Print a start link: `python -m flows.deeplink --bot NAME --region 650100 --source jiedao12`."""
    args = build_parser().parse_args(argv)
    key = args.key or configured_key()
    if not key:
        print("DEEPLINK_KEY 未设置：请用与机器人相同的密钥（环境变量、.env 或 --key），"
              "否则机器人会拒绝这条链接", file=sys.stderr)
        return 2
    ctx = StartContext(region_code=args.region, source=args.source)
    try:
        print(make_start_link(args.bot, ctx, key))
    except ValueError as exc:
        print(f"无法生成链接：{exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
