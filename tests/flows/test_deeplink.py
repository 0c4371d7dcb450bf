"""Deep-link payload codec: round trips, the 64-character limit, tampering, garbage."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.deeplink import (
    DEFAULT_KEY,
    MAX_PAYLOAD,
    StartContext,
    decode_start,
    encode_start,
    make_start_link,
)

TELEGRAM_ALPHABET = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def test_round_trip_region_and_source() -> None:
    ctx = StartContext(region_code="650100", source="jiedao12")
    payload = encode_start(ctx)
    assert TELEGRAM_ALPHABET.match(payload)
    assert payload.startswith("r650100-sjiedao12-")
    assert decode_start(payload) == ctx


def test_round_trip_handoff_slots_including_chinese_text() -> None:
    ctx = StartContext(
        region_code="110105",
        slots={"insurance_type": "flexible", "gap_months": 4, "gap_since": "2024-03", "cause": "失业"},
    )
    payload = encode_start(ctx)
    assert len(payload) <= MAX_PAYLOAD and TELEGRAM_ALPHABET.match(payload)
    assert decode_start(payload) == ctx


def test_empty_context_round_trips() -> None:
    assert decode_start(encode_start(StartContext())) == StartContext()


def test_too_many_slots_drop_least_important_but_keep_region_and_source() -> None:
    ctx = StartContext(
        region_code="650100",
        source="community_account_1",
        slots={
            "insurance_type": "flexible",
            "gap_months": 12,
            "cause": "换工作之后单位没有接着缴",
            "monthly_base": 123456,
            "years_paid": 15,
        },
    )
    payload = encode_start(ctx)
    assert len(payload) <= MAX_PAYLOAD
    decoded = decode_start(payload)
    assert decoded is not None
    assert decoded.region_code == "650100" and decoded.source == "community_account_1"
    assert decoded.slots["insurance_type"] == "flexible" and decoded.slots["gap_months"] == 12
    assert set(decoded.slots) < set(ctx.slots)


def test_region_and_source_alone_too_long_is_an_error() -> None:
    with pytest.raises(ValueError):
        encode_start(StartContext(region_code="650100", source="x" * 60))


@pytest.mark.parametrize(
    "ctx",
    [
        StartContext(slots={"favourite_colour": "blue"}),
        StartContext(region_code="Urumqi"),
        StartContext(slots={"gap_months": -1}),
        StartContext(slots={"gap_since": "March"}),
    ],
)
def test_values_that_cannot_be_carried_are_rejected(ctx: StartContext) -> None:
    with pytest.raises(ValueError):
        encode_start(ctx)


def test_tampered_payload_is_rejected() -> None:
    payload = encode_start(StartContext(region_code="650100", source="jiedao12"))
    edited = payload.replace("650100", "650102")
    assert decode_start(edited) is None
    assert decode_start(payload, key="another-key") is None


@pytest.mark.parametrize(
    "payload",
    [None, "", "hello", "r650100", "r650100-sabc-AAAAAAAA", "x" * 65, "r650100.sjiedao", "中文", "-" * 9],
)
def test_unknown_or_garbage_payloads_give_none(payload: str | None) -> None:
    assert decode_start(payload) is None


def test_start_link_for_community_accounts() -> None:
    link = make_start_link("@yibao_bot", StartContext(region_code="650100", source="jiedao12"))
    assert link.startswith("https://t.me/yibao_bot?start=r650100-sjiedao12-")
    assert decode_start(link.split("start=", 1)[1]) is not None


_slot_values = st.fixed_dictionaries(
    {},
    optional={
        "insurance_type": st.text(min_size=1, max_size=8),
        "gap_months": st.integers(min_value=0, max_value=999),
        "gap_since": st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(1990, 2099), st.integers(1, 12)),
        "cause": st.text(min_size=1, max_size=6),
        "years_paid": st.integers(min_value=0, max_value=60),
    },
)


@given(
    region=st.none() | st.from_regex(r"[0-9]{6}", fullmatch=True),
    source=st.none() | st.from_regex(r"[A-Za-z0-9_]{1,16}", fullmatch=True),
    slots=_slot_values,
)
def test_fuzz_round_trip_always_fits(region: str | None, source: str | None, slots: dict) -> None:
    ctx = StartContext(region_code=region, source=source, slots=slots)
    payload = encode_start(ctx)
    assert TELEGRAM_ALPHABET.match(payload)
    decoded = decode_start(payload)
    assert decoded is not None
    assert decoded.region_code == region and decoded.source == source
    assert all(slots[name] == value for name, value in decoded.slots.items())


@given(st.text(max_size=80))
def test_fuzz_arbitrary_text_never_raises(text: str) -> None:
    decoded = decode_start(text)
    assert decoded is None or isinstance(decoded, StartContext)


@given(st.from_regex(r"[A-Za-z0-9_-]{1,55}", fullmatch=True))
def test_fuzz_forged_body_with_any_mac_is_rejected(body: str) -> None:
    assert decode_start(f"{body}-AAAAAAAA", key=DEFAULT_KEY) is None
