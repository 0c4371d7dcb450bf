"""From a pushed WeChat message (its XML fields) to the platform-neutral `InEvent`.

Facts only; the dialog decides what to say:
* text -> text, or a button payload when it picks one of the choices last offered
  (a number or a label; flows.choices decides which);
* voice with WeChat's speech recognition (`Recognition`) -> that text;
* subscribe / SCAN -> /start, with a parametric QR code's scene string as the start
  payload (qrscene_<payload>: the same signed payload as a Telegram deep link);
* CLICK (menu) -> /start with the menu key as payload, or the command it names;
* unsubscribe -> /cancel (the person left: their data and reminders go; no reply can arrive);
* image, location, link, video and anything unknown -> an event without text, which
  the dialog answers with its polite "text only" line and the pending question;
* VIEW (a menu link opened) and other notifications -> None: nothing to answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.wechat.outbox import PLATFORM
from flows.choices import resolve_choice
from flows.messages import Button, ChatKind, InEvent

_MENU_COMMANDS = frozenset({"start", "help", "restart", "cancel", "back"})
_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_TEXT = 2000  # characters of a text message passed on (WeChat's own limit is about this)


class NotAMessage(ValueError):
    """The fields lack what every pushed message has (FromUserName, MsgType, CreateTime)."""


@dataclass(frozen=True, slots=True)
class Pushed:
    """What every push carries, checked."""

    openid: str
    account: str  # ToUserName: the official account's original id (gh_...)
    msg_type: str
    create_time: int
    dedupe: str  # "m<MsgId>"; events have none: "e<CreateTime>-<Event>" (with FromUserName: the conversation)

    @classmethod
    def read(cls, fields: Mapping[str, str]) -> Pushed:
        openid, account = fields.get("FromUserName", ""), fields.get("ToUserName", "")
        msg_type, created = fields.get("MsgType", "").lower(), fields.get("CreateTime", "")
        if not (openid and account and msg_type and created.isdigit()) or len(openid) > 128:
            raise NotAMessage("missing FromUserName, ToUserName, MsgType or CreateTime")
        msg_id = fields.get("MsgId", "")
        # Two events of one user can share a second (subscribe, then a menu click): the event
        # name keeps them apart. It is capped, as it ends up in a Redis key.
        event = "".join(ch for ch in fields.get("Event", "")[:32] if ch.isalnum() or ch == "_").lower()
        dedupe = f"m{msg_id}" if msg_id.isdigit() and len(msg_id) <= 32 else f"e{created}-{event}"
        return cls(openid, account, msg_type, int(created), dedupe)


def _event(app_id: str, pushed: Pushed, **parts: str | None) -> InEvent:
    return InEvent(platform=PLATFORM, bot_id=app_id, chat_id=pushed.openid, user_id=pushed.openid,
                   chat_kind=ChatKind.PRIVATE, update_id=pushed.dedupe, **parts)  # type: ignore[arg-type]


def _start(app_id: str, pushed: Pushed, payload: str) -> InEvent:
    payload = payload.strip()
    return _event(app_id, pushed, text="/start",
                  start_payload=payload if _PAYLOAD.match(payload) else None)


def to_event(app_id: str, pushed: Pushed, fields: Mapping[str, str],
             choices: Sequence[Button]) -> InEvent | None:
    """The event for the conversation core, or None when the push needs no answer."""
    kind = pushed.msg_type
    if kind == "text" or (kind == "voice" and fields.get("Recognition")):
        text = (fields.get("Content") if kind == "text" else fields.get("Recognition")) or ""
        text = text[:MAX_TEXT]
        payload = resolve_choice(text, choices)
        if payload is not None:
            return _event(app_id, pushed, payload=payload)
        return _event(app_id, pushed, text=text)
    if kind != "event":
        return _event(app_id, pushed)  # image, voice, location, link, video...: not text
    event = fields.get("Event", "").lower()
    key = fields.get("EventKey", "")
    if event == "subscribe":
        return _start(app_id, pushed, key.removeprefix("qrscene_"))
    if event == "scan":
        return _start(app_id, pushed, key)
    if event == "click":
        if key.lower() in _MENU_COMMANDS:
            return _event(app_id, pushed, text="/" + key.lower())
        return _start(app_id, pushed, key)
    if event == "unsubscribe":
        return _event(app_id, pushed, text="/cancel")
    return None
