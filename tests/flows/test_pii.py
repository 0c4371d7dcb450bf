"""Personal numbers are recognised, hidden, and never reach Redis or the logs."""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import redis.exceptions
from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio import Redis

from flows.pii import (
    BANK_CARD_LABEL,
    ID_CARD_LABEL,
    LANDLINE_LABEL,
    PASSPORT_LABEL,
    PHONE_LABEL,
    contains_pii,
    redact,
)
from flows.service import CollectingSink, ConversationService
from flows.store import ConversationStore, KeySpace
from flows.store.record import unpack_state
from tests.conftest import ListDialog, RedisDump, make_event

ID_18 = "110101199003078818"
ID_18X = "44030419851231002X"
ID_15 = "110101900307881"
PHONE = "13812345678"
CARD_16 = "6222020200001234"
CARD_19 = "6217001234567890123"
LANDLINE = "010-62345678"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"身份证{ID_18}谢谢", f"身份证{ID_CARD_LABEL}谢谢"),
        (f"我的证件号 {ID_18X.lower()}", f"我的证件号 {ID_CARD_LABEL}"),
        ("身份证 110101 19900307 881X", f"身份证 {ID_CARD_LABEL}"),
        (f"老身份证{ID_15}", f"老身份证{ID_CARD_LABEL}"),
        (f"电话{PHONE}", f"电话{PHONE_LABEL}"),
        ("手机+86 138-1234-5678，急", f"手机{PHONE_LABEL}，急"),
        ("手机 (+86)138 1234 5678", f"手机 {PHONE_LABEL}"),
        ("0086 13812345678", PHONE_LABEL),
        ("手机１３８１２３４５６７８", f"手机{PHONE_LABEL}"),
        (f"卡号{CARD_16}", f"卡号{BANK_CARD_LABEL}"),
        (f"卡号：{CARD_19}。", f"卡号：{BANK_CARD_LABEL}。"),
        ("卡号 6217 0012 3456 7890 123", f"卡号 {BANK_CARD_LABEL}"),
        (f"座机{LANDLINE}", f"座机{LANDLINE_LABEL}"),
        ("(0755)82345678", LANDLINE_LABEL),
        (f"{PHONE}，{ID_18}", f"{PHONE_LABEL}，{ID_CARD_LABEL}"),
        ("手机138.1234.5678", f"手机{PHONE_LABEL}"),
        ("手机 138 - 1234 - 5678 谢谢", f"手机 {PHONE_LABEL} 谢谢"),
        ("1 3 8 1 2 3 4 5 6 7 8", PHONE_LABEL),
        ("身份证 1 1 0 1 0 1 1 9 9 0 0 3 0 7 8 8 1 X", f"身份证 {ID_CARD_LABEL}"),
        ("卡 6 2 2 2 0 2 0 2 0 0 0 0 1 2 3 4", f"卡 {BANK_CARD_LABEL}"),
        ("社保卡号62220202000012345678901", f"社保卡号{BANK_CARD_LABEL}"),
        ("卡号 6222 0202 0000 1234 5678 9", f"卡号 {BANK_CARD_LABEL}"),
        ("座机010-12345678", f"座机{LANDLINE_LABEL}"),
        ("电话 021.6234.5678", f"电话 {LANDLINE_LABEL}"),
        ("护照E12345678过期了", f"护照{PASSPORT_LABEL}过期了"),
        ("护照号 ea1234567", f"护照号 {PASSPORT_LABEL}"),
        ("护照Ｅ１２３４５６７８", f"护照{PASSPORT_LABEL}"),
        ("通行证G12345678", f"通行证{PASSPORT_LABEL}"),
    ],
)
def test_redact_hides_personal_numbers(text: str, expected: str) -> None:
    assert contains_pii(text)
    assert redact(text) == expected
    assert not contains_pii(redact(text))


@pytest.mark.parametrize(
    "text",
    [
        "北京灵活就业断缴了3个月，2019年3月开始断的",
        "每月缴费基数4500元，已经交了15年",
        "打12393问问，或者12345热线",
        "2024-05-01 到 2025-02-28",
        "单号20240501",
        "1381234567",  # ten digits: not a mobile number
        "/start ref_community7",
        "2019.03 到 2020.12 没交",
        "2024.05.01—2025.02.28",
        "基数4500.00元，比例9.5%，交了15.5年",
        "G1234次列车，E座",
        "r650100-sjiedao12-g4-Xk7ow5pbr7s0-Hq1VZ8sC",
    ],
)
def test_redact_leaves_ordinary_text_alone(text: str) -> None:
    assert not contains_pii(text)
    assert redact(text) == text


_filler = st.text(alphabet="我的医保断缴了个月怎么补交，。？ abc年", max_size=12)
_phones = st.builds(
    lambda second, rest: f"1{second}{rest}",
    st.sampled_from("3456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
)
_cards = st.text(alphabet="0123456789", min_size=16, max_size=19).map(lambda s: "6" + s[1:])
_ids = st.builds(
    lambda area, year, month, day, seq, check: f"{area}{year}{month:02d}{day:02d}{seq}{check}",
    st.text(alphabet="0123456789", min_size=6, max_size=6).map(lambda s: "1" + s[1:]),
    st.integers(1930, 2025),
    st.integers(1, 12),
    st.integers(1, 28),
    st.text(alphabet="0123456789", min_size=3, max_size=3),
    st.sampled_from("0123456789X"),
)


_long_cards = st.text(alphabet="0123456789", min_size=20, max_size=30).map(lambda s: "6" + s[1:])
_landlines = st.builds(
    lambda area, local: f"0{area}-{local}",
    st.text(alphabet="123456789", min_size=2, max_size=3),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
)
_passports = st.builds(lambda head, digits: head + digits, st.sampled_from("EeGg"),
                       st.text(alphabet="0123456789", min_size=8, max_size=8))
_numbers = st.one_of(_phones, _cards, _ids, _long_cards, _landlines)
_separators = st.sampled_from([" ", ".", "-", " - ", "\u3000"])


@given(before=_filler, number=st.one_of(_numbers, _passports), after=_filler)
def test_any_embedded_number_is_hidden(before: str, number: str, after: str) -> None:
    text = before + number + after
    hidden = redact(text)
    assert number not in hidden
    assert not re.search(r"\d{7,}", hidden)
    assert not contains_pii(hidden)


def _grouped(number: str, sep: str, style: str) -> str:
    """`number` as people write it: digit by digit, in fours (cards, IDs), or 3-4-4 (phones)."""
    digits = number.replace("-", "")
    if style == "each":
        return (sep.strip() or sep).join(digits)
    if style == "fours" and len(digits) >= 15:
        return sep.join(digits[i : i + 4] for i in range(0, len(digits), 4))
    if len(digits) == 11 and digits.startswith("1"):
        return sep.join((digits[:3], digits[3:7], digits[7:]))
    if digits.startswith("0"):  # landline: area code, then the local number in halves
        area, local = number.split("-")
        return sep.join((area, local[:4], local[4:]))
    return number


@given(before=_filler, number=_numbers, sep=_separators, style=st.sampled_from(["each", "fours", "natural"]),
       after=_filler)
def test_numbers_written_in_groups_or_digit_by_digit_are_hidden(
    before: str, number: str, sep: str, style: str, after: str
) -> None:
    hidden = redact(f"{before} {_grouped(number, sep, style)} {after}")
    assert not re.search(r"\d(?:\D{0,3}\d){6,}", hidden), hidden


RAW_NUMBERS = (ID_18, ID_18X, PHONE, CARD_19, "62345678")


async def test_personal_numbers_never_reach_redis_or_logs(
    redis: Redis, keyspace: KeySpace, redis_dump: RedisDump, caplog: pytest.LogCaptureFixture
) -> None:
    service = ConversationService(
        ConversationStore(redis, keyspace), ListDialog(), CollectingSink(), date.today
    )
    texts = [
        f"我的身份证是{ID_18}，手机+86 138-1234-5678",
        f"证件号{ID_18X}",
        f"工资卡{CARD_19}，座机{LANDLINE}",
        "boom",  # the dialog fails; the log line must not leak the user name below
    ]
    with caplog.at_level(logging.DEBUG):
        for number, text in enumerate(texts, start=1):
            event = replace(make_event(number, text), user_name=f"李四{PHONE}", start_payload=f"p{CARD_16}")
            await service.submit(event)
        # A queued update waits in the inbox: check that too, before it is drained.
        other = make_event(99, f"稍后{PHONE}", user="7", chat="7")
        await service.store.submit(other.conversation_id, "99", b"x")  # holds the lease
        await service.submit(replace(other, update_id="100"))
        dump = _flatten(await redis_dump())  # state records appear inflated
        raw_records = [await redis.get(keyspace.state(make_event(1).conversation_id))]
    assert keyspace.inbox(other.conversation_id) in dump  # the queued update was dumped too
    assert PHONE_LABEL in dump and ID_CARD_LABEL in dump and BANK_CARD_LABEL in dump
    for raw in (*RAW_NUMBERS, CARD_16):
        assert raw not in dump
        assert raw not in _flatten(raw_records)
        assert raw not in caplog.text
    state = await service.store.read(make_event(1).conversation_id)
    assert state.state is not None and ID_CARD_LABEL in state.state.decode()


def _flatten(value: object) -> str:
    """Every key and value of a dump as one text (bytes decoded as UTF-8)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return " ".join(f"{_flatten(k)}={_flatten(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set):
        return " ".join(_flatten(v) for v in value)
    return str(value)


# --- what reaches the disk: the AOF of a real redis-server -----------------------------------
AOF_TEXTS = (
    "手机138.1234.5678，身份证 1 1 0 1 0 1 1 9 9 0 0 3 0 7 8 8 1 8",
    "社保卡号62220202000012345678901，座机010-12345678",
    "护照E12345678，卡 6217 0012 3456 7890 123",
)
AOF_RAW = ("13812345678", "138.1234.5678", "110101199003078818", "62220202000012345678901", "12345678",
           "E12345678", "6217001234567890123", "6217 0012 3456 7890 123")


@pytest.fixture
async def aof_redis(tmp_path: Path) -> AsyncIterator[tuple[Redis, Path]]:
    """A private redis-server with appendonly yes (every write fsynced) on an ephemeral port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = await asyncio.create_subprocess_exec(
        shutil.which("redis-server") or "redis-server", "--bind", "127.0.0.1", "--port", str(port),
        "--dir", str(tmp_path), "--appendonly", "yes", "--appendfsync", "always", "--save", "",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    client = Redis(port=port)
    try:
        async with asyncio.timeout(10):
            while True:
                try:
                    await client.ping()
                    break
                except redis.exceptions.ConnectionError:
                    await asyncio.sleep(0.05)
        yield client, tmp_path
    finally:
        await client.aclose()
        server.terminate()
        await server.wait()


def _aof_text(folder: Path) -> str:
    """Every bulk string of every AOF file, with stored (deflated) states inflated."""
    parts: list[str] = []
    for path in sorted(folder.rglob("*.aof")):
        data = path.read_bytes()
        for match in re.finditer(rb"\$(\d+)\r\n", data):
            bulk = data[match.end() : match.end() + int(match.group(1))]
            parts.append(bulk.decode("utf-8", "replace"))
            _, newline, body = bulk.partition(b"\n")
            if newline:
                parts.append((unpack_state(body) or b"").decode("utf-8", "replace"))
    return "\n".join(parts)


async def test_personal_numbers_never_reach_the_aof_file(aof_redis: tuple[Redis, Path]) -> None:
    client, folder = aof_redis
    keys = KeySpace("ybt:aof")
    service = ConversationService(ConversationStore(client, keys), ListDialog(), CollectingSink(), date.today)
    for number, text in enumerate(AOF_TEXTS, start=1):
        await service.submit(replace(make_event(number, text), user_name="王五 138 1234 5678"))
    # A queued update (another worker holds the lease) is written to the inbox first: check it too.
    queued = make_event(51, AOF_TEXTS[0], user="8", chat="8")
    await service.store.submit(queued.conversation_id, "50", b"x")
    await service.submit(queued)
    assert await client.exists(keys.payloads(queued.conversation_id))
    text = _aof_text(folder)
    assert "seen" in text and PHONE_LABEL in text and PASSPORT_LABEL in text  # the AOF was read
    assert LANDLINE_LABEL in text and ID_CARD_LABEL in text and BANK_CARD_LABEL in text
    for raw in AOF_RAW:
        assert raw not in text, raw
