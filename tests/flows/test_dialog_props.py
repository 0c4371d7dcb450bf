"""Property tests: whatever a user sends, the dialog replies politely and loses nothing."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from flows.dialog import GapDialog
from flows.messages import ChatKind, InEvent
from flows.reminders_ops import ReminderOp
from flows.state import ConversationState
from flows.turn import Turn

TODAY = date(2026, 11, 22)

_DIALOG = GapDialog.create()  # loaded once: hypothesis re-runs the test body many times

SEEDED_STATES = [
    ConversationState(),
    ConversationState(step="ask:insurance_type", slots={"region": "650100"}),
    ConversationState(step="ask:gap_months", slots={"region": "110000", "insurance_type": "flexible"}),
    ConversationState(
        step="answered",
        slots={"region": "650100", "insurance_type": "flexible", "gap_months": 4},
        answered=True,
    ),
]

chinese = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=40)
noise = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200
)  # emoji, control characters, anything
long_text = st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=5), st.integers(1000, 20000))
messages = st.one_of(chinese, noise, long_text, st.sampled_from(["", " ", "\x00", "\u202e", "🙂" * 3000]))


def _answers(turn: Turn) -> bool:
    """A reply is sent: the turn's messages, or a reminder effect (the service always answers one:
    flows.reminders_actions.ReminderActions.run)."""
    return bool(turn.messages) or any(isinstance(effect, ReminderOp) for effect in turn.effects)


def _event(text: str | None, payload: str | None, kind: ChatKind) -> InEvent:
    return InEvent(
        platform="test", bot_id="b", chat_id="c", user_id="u", chat_kind=kind,
        update_id="1", text=text, payload=payload,
    )


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=messages,
    seed=st.sampled_from(range(len(SEEDED_STATES))),
    kind=st.sampled_from([ChatKind.PRIVATE, ChatKind.GROUP]),
)
def test_any_text_gets_a_polite_reply_and_keeps_slots(text: str, seed: int, kind: ChatKind) -> None:
    before = SEEDED_STATES[seed]
    state = ConversationState.loads(before.dumps())
    turn = _DIALOG.step(state, _event(text, None, kind), TODAY)
    if text.strip().startswith("/cancel") or turn.state is None:
        return  # forgetting on request is the point of /cancel
    assert _answers(turn), "every addressed message gets a reply"
    assert all(m.text.strip() for m in turn.messages)
    assert all(len(m.text) <= 4096 for m in turn.messages)
    for key in before.slots:
        assert key in turn.state.slots or text.strip().startswith("/restart") or "重" in text or "返回" in text


@settings(max_examples=150, deadline=None)
@given(payload=st.text(max_size=80), seed=st.sampled_from(range(len(SEEDED_STATES))))
@example(payload="rc:0", seed=0)  # cancelling a reminder: the service's reply, not the dialog's
@example(payload="rz:", seed=3)
def test_any_button_payload_is_safe(payload: str, seed: int) -> None:
    before = SEEDED_STATES[seed]
    turn = _DIALOG.step(ConversationState.loads(before.dumps()), _event(None, payload, ChatKind.PRIVATE), TODAY)
    assert turn.state is not None and _answers(turn)
    ConversationState.loads(turn.state.dumps())  # whatever was stored parses back


@pytest.mark.parametrize("raw", [b"", b"not json", b'{"s":999}', b"[1,2]", b'{"s":1,"v":"x"}'])
def test_broken_stored_state_starts_afresh(raw: bytes) -> None:
    state = ConversationState.loads(raw)
    turn = _DIALOG.step(state, _event("乌鲁木齐", None, ChatKind.PRIVATE), TODAY)
    assert turn.messages and turn.state is not None
