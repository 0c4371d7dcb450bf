"""Wire format of a queued update: compact JSON of an `InEvent` with short keys.

The payload waits in the conversation's inbox until a drainer (possibly another
worker process) takes it, so it must carry the whole event. Callers redact it first.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from flows.messages import ChatKind, InEvent

_FIELDS: tuple[tuple[str, str], ...] = (
    ("p", "platform"),
    ("b", "bot_id"),
    ("c", "chat_id"),
    ("u", "user_id"),
    ("k", "chat_kind"),
    ("i", "update_id"),
    ("x", "text"),
    ("y", "payload"),
    ("o", "pressed_message_id"),
    ("s", "start_payload"),
    ("t", "thread_id"),
    ("n", "user_name"),
    ("m", "bot_username"),
)
_MAX_ID = 64
_SPACE = re.compile(r"\s")


def normalise_update_id(update_id: str) -> str:
    """The id as stored: no whitespace (the scripts split on it), at most 64 characters."""
    return _SPACE.sub("_", update_id.strip())[:_MAX_ID]


def encode_event(event: InEvent) -> bytes:
    """Compact JSON; None fields and the defaults `addressed=True`, `can_push=True` are left out."""
    doc: dict[str, Any] = {}
    for short, name in _FIELDS:
        value = getattr(event, name)
        if value is not None:
            doc[short] = str(value)
    if not event.addressed:
        doc["a"] = 0
    if not event.can_push:
        doc["q"] = 0
    try:
        return orjson.dumps(doc)
    except TypeError:
        # A lone surrogate (a malformed emoji half from a client) is not UTF-8: store U+FFFD instead.
        return orjson.dumps({k: _utf8(v) if isinstance(v, str) else v for k, v in doc.items()})


def _utf8(text: str) -> str:
    """`text` as valid Unicode: surrogate pairs joined, lone surrogates replaced by U+FFFD."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def decode_event(raw: bytes | str) -> InEvent:
    """Inverse of `encode_event`. Raises ValueError on a payload it cannot read."""
    doc = orjson.loads(raw)
    if not isinstance(doc, dict):
        raise ValueError("event payload is not an object")
    values: dict[str, Any] = {name: doc.get(short) for short, name in _FIELDS}
    values["chat_kind"] = ChatKind(values["chat_kind"])
    values["addressed"] = doc.get("a", 1) != 0
    values["can_push"] = doc.get("q", 1) != 0
    return InEvent(**values)
