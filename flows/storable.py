"""An incoming event as the conversation service may store it, and which events jump the queue."""

from __future__ import annotations

import uuid
from dataclasses import replace

from flows.messages import InEvent
from flows.pii import redact
from flows.store import normalise_update_id

# Commands that must not wait behind a long queue (nor be dropped by the flood limit).
JUMP_COMMANDS = frozenset({"/cancel", "/stop"})


def storable(event: InEvent) -> InEvent:
    """The event as it may be stored: personal numbers hidden, update id normalised."""
    update_id = normalise_update_id(event.update_id) or f"gen-{uuid.uuid4().hex}"
    text, payload = _opt(event.text), _opt(event.payload)
    start, name = _opt(event.start_payload), _opt(event.user_name)
    if (update_id, text, payload, start, name) == (
        event.update_id,
        event.text,
        event.payload,
        event.start_payload,
        event.user_name,
    ):
        return event
    return replace(
        event, update_id=update_id, text=text, payload=payload, start_payload=start, user_name=name
    )


def jumps_queue(event: InEvent) -> bool:
    """True for /cancel and /stop (also as /cancel@bot): first in line, never flood-limited."""
    return (event.text or "").strip().split("@", 1)[0].lower() in JUMP_COMMANDS


def _opt(value: str | None) -> str | None:
    return redact(value) if value else value
