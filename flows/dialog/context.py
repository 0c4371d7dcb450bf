"""What every handler of the conversation receives, and the shape of a handler."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from flows.messages import ChatKind, InEvent
from flows.state import ConversationState
from flows.turn import Turn
from flows.understand import Understanding

if TYPE_CHECKING:
    from flows.dialog import GapDialog


@dataclass(slots=True)
class Ctx:
    """One step of one conversation: the loaded dialog, the state to change, the event and its date.

    `arg` is what follows a command or a button's kind ("/start <arg>", "g:<arg>"); `heard` and
    `updates` are set for text: what the message said and the slots it fills.
    """

    dialog: GapDialog
    state: ConversationState
    event: InEvent
    today: date
    text: str = ""
    arg: str = ""
    heard: Understanding = field(default_factory=Understanding)
    updates: dict[str, Any] = field(default_factory=dict)

    @property
    def group(self) -> bool:
        return self.event.chat_kind is ChatKind.GROUP

    @property
    def can_remind(self) -> bool:
        """Reminders are set in private chats of platforms that can send them later."""
        return not self.group and self.event.can_push

    def turn(self, *messages: Any, effects: list[Any] | None = None) -> Turn:
        """A turn that keeps the state and sends these messages."""
        return Turn(state=self.state, messages=list(messages), effects=list(effects or ()))


# A handler takes a step; None declines (the router then tries the next route).
Handler = Callable[[Ctx], Turn | None]
