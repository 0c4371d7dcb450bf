"""Is this JSON body an update Telegram would send? Checked before any framework or key sees it.

The webhook front (bot.telegram.webhook) runs `problem(update)` on every body that
carries the right secret. It looks only at what the bot reads (bot.telegram.translate):
the update id, a message or a button press, the chat, the sender, the text and its
entities. Ids must lie in Telegram's documented ranges (user and chat ids fit in 52
bits, update, message and topic ids in 31), so a forged id never becomes part of a
Redis key. Nesting is bounded, so a body like `[[[[...]]]]` costs nothing further.

Returns None when the update is acceptable, else a short reason (for the log and the
`yibao_dropped_updates_total{reason}` metric). Fields the bot does not read are left
to the framework; if it still chokes, the webhook front drops the update the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_DEPTH = 24  # a real update (message -> reply_to_message -> entities -> user) is about 8 deep
ID_52 = 2**52  # "at most 52 significant bits" (user and chat ids)
ID_31 = 2**31  # update, message and topic ids are signed 32-bit
MAX_TEXT = 4096  # UTF-16 code units
MAX_CAPTION = 4096  # 1024, and more for Premium senders: never drop a real caption
MAX_ENTITIES = 4096
MAX_CALLBACK_DATA = 64  # bytes
CHAT_TYPES = frozenset({"private", "group", "supergroup", "channel"})
UPDATE_TYPES = ("message", "callback_query")  # what the bot asks Telegram for (allowed_updates)


class _Bad(Exception):
    """Internal: why an update is refused."""


def problem(update: Any) -> str | None:
    """None when `update` looks like an update Telegram would send this bot, else the reason."""
    try:
        _depth(update, MAX_DEPTH)
        _update(update)
    except _Bad as exc:
        return str(exc)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:  # a shape this check did not foresee
        return f"unreadable {type(exc).__name__}"
    return None


def _depth(value: Any, left: int) -> None:
    """Refuse containers nested deeper than `left` (iterative: no recursion to exhaust)."""
    stack: list[tuple[Any, int]] = [(value, left)]
    while stack:
        item, room = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if room <= 0:
            raise _Bad("nested too deep")
        stack.extend((child, room - 1) for child in children)


def _int(value: Any, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value < high:
        raise _Bad(f"{what} out of range")
    return value


def _str(value: Any, what: str, *, limit: int | None = None, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise _Bad(f"{what} not a string")
    if limit is not None and len(value.encode("utf-16-le")) // 2 > limit:
        raise _Bad(f"{what} too long")


def _obj(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _Bad(f"{what} not an object")
    return value


def _update(update: Any) -> None:
    body = _obj(update, "update")
    _int(body.get("update_id"), 0, ID_31, "update_id")
    kinds = [kind for kind in body if kind != "update_id"]
    if len(kinds) != 1:
        raise _Bad("not exactly one update type")
    kind = kinds[0]
    if kind == "message":
        _message(body[kind], "message", top=True)
    elif kind == "callback_query":
        _callback(body[kind])
    else:
        raise _Bad("update type not asked for")


def _user(value: Any, what: str) -> None:
    user = _obj(value, what)
    _int(user.get("id"), 1, ID_52, f"{what}.id")
    if not isinstance(user.get("is_bot"), bool):
        raise _Bad(f"{what}.is_bot not a boolean")
    _str(user.get("first_name"), f"{what}.first_name", limit=256)
    _str(user.get("last_name"), f"{what}.last_name", limit=256, optional=True)
    _str(user.get("username"), f"{what}.username", limit=64, optional=True)


def _chat(value: Any) -> None:
    chat = _obj(value, "chat")
    chat_id = _int(chat.get("id"), -ID_52 + 1, ID_52, "chat.id")
    kind = chat.get("type")
    if chat_id == 0 or not isinstance(kind, str) or kind not in CHAT_TYPES:
        raise _Bad("chat.id or chat.type invalid")


def _entities(value: Any, text: Any, what: str) -> None:
    if value is None:
        return
    if not isinstance(value, list) or len(value) > MAX_ENTITIES or not isinstance(text, str):
        raise _Bad(f"{what} invalid")
    units = len(text.encode("utf-16-le")) // 2
    for entity in value:
        item = _obj(entity, what)
        _str(item.get("type"), f"{what}.type", limit=64)
        offset = _int(item.get("offset"), 0, units + 1, f"{what}.offset")
        _int(item.get("length"), 1, units - offset + 1, f"{what}.length")
        if item.get("user") is not None:
            _user(item["user"], f"{what}.user")


def _message(value: Any, what: str, *, top: bool = False, replies_left: int = 1) -> None:
    """A message; `top`: the update's own message (not inaccessible, has a sender)."""
    message = _obj(value, what)
    _int(message.get("message_id"), 1, ID_31, f"{what}.message_id")
    date = _int(message.get("date"), 0, 2**32, f"{what}.date")
    _chat(message.get("chat"))
    if date == 0:  # an inaccessible message (old button press): only chat, id and date
        if top:
            raise _Bad(f"{what}.date out of range")
        return
    if message.get("from") is not None:
        _user(message["from"], f"{what}.from")
    elif message["chat"].get("type") != "channel" and top:
        raise _Bad(f"{what}.from missing")
    if message.get("message_thread_id") is not None:
        _int(message["message_thread_id"], 1, ID_31, f"{what}.message_thread_id")
    _str(message.get("text"), f"{what}.text", limit=MAX_TEXT, optional=True)
    _str(message.get("caption"), f"{what}.caption", limit=MAX_CAPTION, optional=True)
    _entities(message.get("entities"), message.get("text"), f"{what}.entities")
    _entities(message.get("caption_entities"), message.get("caption"), f"{what}.caption_entities")
    if message.get("reply_markup") is not None:
        _keyboard(message["reply_markup"])
    if message.get("reply_to_message") is not None:
        if replies_left <= 0:  # Telegram does not nest reply_to_message further
            raise _Bad("reply_to_message nested")
        _message(message["reply_to_message"], "reply_to_message", replies_left=replies_left - 1)


def _keyboard(value: Any) -> None:
    rows = _obj(value, "reply_markup").get("inline_keyboard", [])
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _Bad("reply_markup invalid")
    for row in rows:
        for button in row:
            _str(_obj(button, "button").get("text"), "button.text", limit=MAX_TEXT)


def _callback(value: Any) -> None:
    query = _obj(value, "callback_query")
    _str(query.get("id"), "callback_query.id", limit=64)
    if not query["id"]:
        raise _Bad("callback_query.id empty")
    _user(query.get("from"), "callback_query.from")
    _str(query.get("chat_instance"), "callback_query.chat_instance", limit=64)
    data = query.get("data")
    if data is not None and (not isinstance(data, str) or len(data.encode()) > MAX_CALLBACK_DATA):
        raise _Bad("callback_query.data invalid")
    if query.get("message") is not None:
        _message(query["message"], "callback_query.message")
