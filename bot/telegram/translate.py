"""Dict-level translation between Bot API JSON and the platform-neutral messages.

Both framework adapters (aiogram, python-telegram-bot) dump their Update object to
Bot API-shaped JSON and call `translate_update`; replies are rendered by `render` into
plain Bot API parameters that each framework sends through its own Bot object.
Nothing here decides anything: it reads facts (who, where, addressed or not) and
lays out what the core said.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flows.messages import ChatKind, InEvent, OutMessage

PLATFORM = "telegram"
MAX_TEXT = 4096  # Telegram's limit, in UTF-16 code units
_GROUP_TYPES = {"group", "supergroup"}


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """Who the bot is (from getMe); needed to tell whether a group message addresses it."""

    id: int
    username: str


@dataclass(frozen=True, slots=True)
class Incoming:
    """A translated update: the event for the core, and the button press to acknowledge, if any.

    What becomes of the pressed message (keyboard closed, or left alone when the press is
    stale) is the turn's to say; the sink carries it out after sending the reply."""

    event: InEvent
    query_id: str | None = None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """Parameters of one sendMessage call."""

    chat_id: int
    text: str
    thread_id: int | None = None
    reply_markup: dict[str, Any] | None = None


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


def _span(text: str, offset: int, length: int) -> str:
    """The substring an entity covers (Telegram counts offsets in UTF-16 code units)."""
    raw = _utf16(text)
    return raw[offset * 2 : (offset + length) * 2].decode("utf-16-le", errors="replace")


def _cut(text: str, spans: list[tuple[int, int]]) -> str:
    """Remove UTF-16 spans from `text`."""
    raw = _utf16(text)
    for offset, length in sorted(spans, reverse=True):
        raw = raw[: offset * 2] + raw[(offset + length) * 2 :]
    return raw.decode("utf-16-le", errors="replace")


def _user_name(user: Mapping[str, Any]) -> str | None:
    name = " ".join(p for p in (user.get("first_name"), user.get("last_name")) if p).strip()
    return name or user.get("username")


def _thread(message: Mapping[str, Any]) -> str | None:
    # In non-forum groups message_thread_id also marks reply chains; only topics count.
    if message.get("is_topic_message") and message.get("message_thread_id") is not None:
        return str(message["message_thread_id"])
    return None


def _chat_kind(chat: Mapping[str, Any]) -> ChatKind | None:
    kind = chat.get("type")
    if kind == "private":
        return ChatKind.PRIVATE
    if kind in _GROUP_TYPES:
        return ChatKind.GROUP
    return None  # channels are not conversations


def _read_text(message: Mapping[str, Any], me: BotIdentity) -> tuple[str | None, str | None, bool]:
    """(text without our @mention, /start payload, whether the text addresses the bot)."""
    text = message.get("text")
    entities = message.get("entities")
    if text is None:
        text, entities = message.get("caption"), message.get("caption_entities")
    if text is None:
        return None, None, False
    handle = "@" + me.username.lower()
    addressed = False
    cut: list[tuple[int, int]] = []
    for entity in entities or ():
        offset, length, kind = int(entity["offset"]), int(entity["length"]), entity.get("type")
        if kind == "bot_command" and offset == 0:
            command = _span(text, offset, length)
            name, _, target = command.partition("@")
            if not target or "@" + target.lower() == handle:
                addressed = True
            if target and "@" + target.lower() == handle:
                cut.append((offset + len(_utf16(name)) // 2, length - len(_utf16(name)) // 2))
        elif kind == "mention" and _span(text, offset, length).lower() == handle:
            addressed = True
            cut.append((offset, length))
        elif kind == "text_mention" and (entity.get("user") or {}).get("id") == me.id:
            addressed = True
            cut.append((offset, length))
    cleaned = " ".join(_cut(text, cut).split()) if cut else text.strip()
    start_payload = None
    if cleaned == "/start" or cleaned.startswith("/start "):
        args = cleaned[len("/start") :].split()
        start_payload = args[0] if args else None
        cleaned = "/start"
    return cleaned, start_payload, addressed


def _from_message(update_id: str, message: Mapping[str, Any], me: BotIdentity) -> Incoming | None:
    chat, user = message.get("chat") or {}, message.get("from")
    kind = _chat_kind(chat)
    if kind is None or not user:
        return None
    text, start_payload, addressed = _read_text(message, me)
    if kind is ChatKind.GROUP:
        if text is None:
            return None  # stickers, joins and the like in a group are not talk to anyone
        reply = message.get("reply_to_message") or {}
        addressed = addressed or (reply.get("from") or {}).get("id") == me.id
    else:
        addressed = True
    event = InEvent(
        platform=PLATFORM, bot_id=str(me.id), chat_id=str(chat["id"]), user_id=str(user["id"]),
        chat_kind=kind, update_id=update_id, text=text, start_payload=start_payload,
        thread_id=_thread(message), addressed=addressed, user_name=_user_name(user),
        bot_username=me.username,
    )
    return Incoming(event)


def _from_callback(update_id: str, query: Mapping[str, Any], me: BotIdentity) -> Incoming | None:
    message, user = query.get("message") or {}, query.get("from") or {}
    chat = message.get("chat") or {}
    kind = _chat_kind(chat)
    if kind is None or not user or query.get("data") is None:
        return None
    event = InEvent(
        platform=PLATFORM, bot_id=str(me.id), chat_id=str(chat["id"]), user_id=str(user["id"]),
        chat_kind=kind, update_id=update_id, payload=str(query["data"]), thread_id=_thread(message),
        addressed=True, user_name=_user_name(user), bot_username=me.username,
        pressed_message_id=str(message["message_id"]),
    )
    return Incoming(event, str(query["id"]))


def translate_update(update: Mapping[str, Any], me: BotIdentity) -> Incoming | None:
    """Translate one Bot API update; None for updates that are not talk (edits, channel posts...)."""
    update_id = str(update.get("update_id"))
    if update.get("message"):
        return _from_message(update_id, update["message"], me)
    if update.get("callback_query"):
        return _from_callback(update_id, update["callback_query"], me)
    return None


def _chunks(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split at line breaks so every part fits Telegram's limit."""
    if len(_utf16(text)) // 2 <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(_utf16(line)) // 2 > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[: limit // 2])
            line = line[limit // 2 :]
        if len(_utf16(current + line)) // 2 > limit:
            parts.append(current)
            current = ""
        current += line
    if current:
        parts.append(current)
    return [p for p in parts if p.strip()] or [text[: limit // 2]]


def keyboard(message: OutMessage, bot_username: str | None) -> dict[str, Any] | None:
    """Inline keyboard: the core's buttons, plus a URL button to continue in private."""
    rows: list[list[dict[str, str]]] = [
        [{"text": b.label, "callback_data": b.payload} for b in row] for row in message.buttons if row
    ]
    if message.private_payload and bot_username:
        url = f"https://t.me/{bot_username}?start={message.private_payload}"
        rows.append([{"text": message.link_label, "url": url}])
    return {"inline_keyboard": rows} if rows else None


def render(event: InEvent, message: OutMessage) -> list[Outgoing]:
    """The sendMessage calls for one OutMessage, in the chat (and topic) of `event`."""
    text = message.text
    if message.suggestions:
        text += "\n\n你还可以问：\n" + "\n".join(f"· {s}" for s in message.suggestions)
    parts = _chunks(text)
    thread = int(event.thread_id) if event.thread_id else None
    chat_id = int(event.chat_id)
    markup = keyboard(message, event.bot_username)
    return [
        Outgoing(chat_id, part, thread, markup if i == len(parts) - 1 else None)
        for i, part in enumerate(parts)
    ]
