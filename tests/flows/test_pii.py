"""Personal numbers are recognised, hidden, and never reach Redis or the logs."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio import Redis

from flows.pii import BANK_CARD_LABEL, ID_CARD_LABEL, LANDLINE_LABEL, PHONE_LABEL, contains_pii, redact
from flows.service import CollectingSink, ConversationService
from flows.store import ConversationStore, KeySpace
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


@given(before=_filler, number=st.one_of(_phones, _cards, _ids), after=_filler)
def test_any_embedded_number_is_hidden(before: str, number: str, after: str) -> None:
    text = before + number + after
    hidden = redact(text)
    assert number not in hidden
    assert not re.search(r"\d{11,}", hidden)
    assert not contains_pii(hidden)


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
