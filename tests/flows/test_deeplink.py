"""Deep-link payload codec: round trips, the 64-character limit, tampering, garbage."""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio import Redis

from flows.deeplink import (
    DEFAULT_KEY,
    MAX_PAYLOAD,
    StartContext,
    decode_start,
    encode_start,
    make_start_link,
)
from flows.deeplink import main as deeplink_main
from flows.dialog import GapDialog
from flows.referrals import Referrals, person_of
from flows.service import CollectingSink, ConversationService
from flows.store import ConversationStore, KeySpace
from tests.conftest import make_event

TELEGRAM_ALPHABET = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
KEY = "test-deeplink-key-0123456789"


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


# --- the link printer signs with the bot's key ------------------------------------------------
def test_link_printer_reads_deeplink_key_from_env_or_dotenv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEEPLINK_KEY", KEY)
    assert deeplink_main(["--bot", "yibao_bot", "--region", "650100", "--source", "jiedao12"]) == 0
    payload = capsys.readouterr().out.strip().rsplit("start=", 1)[1]
    assert decode_start(payload, KEY) == StartContext(region_code="650100", source="jiedao12")
    assert decode_start(payload) is None  # not signed with the public default
    monkeypatch.delenv("DEEPLINK_KEY")
    (tmp_path / ".env").write_text(f"DEEPLINK_KEY={KEY}x\n")
    assert deeplink_main(["--bot", "b", "--source", "s1"]) == 0
    payload = capsys.readouterr().out.strip().rsplit("start=", 1)[1]
    assert decode_start(payload, KEY + "x") == StartContext(source="s1")


def test_link_printer_without_a_key_refuses(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DEEPLINK_KEY", raising=False)
    assert deeplink_main(["--bot", "b", "--region", "650100"]) == 2
    out = capsys.readouterr()
    assert out.out == "" and "DEEPLINK_KEY 未设置" in out.err


# --- referral counts: each person once per source ---------------------------------------------
@pytest.fixture(scope="module")
def keyed_dialog() -> GapDialog:
    return replace(GapDialog.create(), deeplink_key=KEY)


async def test_a_person_counts_once_per_source(redis: Redis, keyspace: KeySpace, keyed_dialog: GapDialog) -> None:
    service = ConversationService(ConversationStore(redis, keyspace), keyed_dialog, CollectingSink())
    link = encode_start(StartContext(region_code="650100", source="jiedao12"), KEY)
    other = encode_start(StartContext(region_code="650100", source="shequ7"), KEY)
    forged = encode_start(StartContext(region_code="650100", source="forged"))  # public default key
    updates = itertools.count(1)

    async def start(user: str, payload: str, chat: str | None = None) -> None:
        event = replace(make_event(next(updates), "/start", user=user, chat=chat or user), start_payload=payload)
        await service.submit(event)

    for _ in range(3):
        await start("1001", link)  # the same link opened three times
    await start("1001", link, chat="-100500")  # the same person from a group
    await start("1001", other)
    await start("1002", link)
    await start("1003", forged)
    assert await Referrals(redis, keyspace).counts() == {"jiedao12": 2, "shequ7": 1}
    await redis.hset(keyspace.referrals, "jiedao12", 1)  # as if a worker died between the two writes
    assert await Referrals(redis, keyspace).recount() == {"jiedao12": 2, "shequ7": 1}


def test_person_of_drops_chat_and_topic() -> None:
    assert person_of("telegram:42:-100500:7:1001") == person_of("telegram:42:1001:-:1001") == "telegram:42:1001"
