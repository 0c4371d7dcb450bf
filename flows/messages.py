"""Platform-neutral messages in and out of the conversation core.

Adapters (Telegram, web chat, WeChat, the terminal) translate their platform's
updates into `InEvent` and render `OutMessage` back. Nothing here knows any
platform's API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from flows.views import AnswerView


class ChatKind(StrEnum):
    PRIVATE = "private"
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class InEvent:
    """One incoming update, already translated by an adapter.

    `update_id` is the platform's id of the update; a repeated id is answered once.
    `addressed` is a fact the adapter reads off the platform (a command, an
    @mention, a reply to the bot); the core decides what to do with it.
    """

    platform: str  # "telegram", "cli", "web", "wechat"
    bot_id: str
    chat_id: str
    user_id: str
    chat_kind: ChatKind
    update_id: str
    text: str | None = None  # free text or a /command
    payload: str | None = None  # a pressed button's payload
    start_payload: str | None = None  # deep-link payload (/start <payload>)
    thread_id: str | None = None  # forum topic; each topic keeps its own conversation
    addressed: bool = True
    user_name: str | None = None  # display name, for addressing someone in a group
    bot_username: str | None = None  # for building deep links back to a private chat
    # Whether the platform can message this chat later, unprompted (reminders). A web page cannot.
    can_push: bool = True
    # The message a pressed button is under, for platforms that edit it once the turn is known.
    pressed_message_id: str | None = None

    @property
    def conversation_id(self) -> str:
        """Identity of the conversation: in a group each user (and topic) has their own."""
        thread = self.thread_id or "-"
        return f"{self.platform}:{self.bot_id}:{self.chat_id}:{thread}:{self.user_id}"


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    payload: str  # at most 64 bytes (Telegram's callback_data limit)


@dataclass(frozen=True, slots=True)
class OutMessage:
    """One reply. `buttons` are rows of closed choices; `suggestions` are follow-up
    phrasings a user may type. `private_payload`, when set, asks the adapter to offer
    a link that continues this conversation in a private chat with that start payload.
    `view`, when set, is the same answer as structured data for adapters that draw cards (the
    text still says it all)."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    suggestions: tuple[str, ...] = ()
    private_payload: str | None = None
    link_label: str = "私聊继续"
    meta: dict[str, str] = field(default_factory=dict)
    view: AnswerView | None = None

    def all_buttons(self) -> tuple[Button, ...]:
        """Buttons flattened in display order (terminal chat numbers them this way)."""
        return tuple(b for row in self.buttons for b in row)
