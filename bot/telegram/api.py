"""What the shared Telegram code needs from a framework's Bot object.

Each framework adapter implements `BotApi` with its own Bot (aiogram.Bot or
telegram.Bot) and turns its framework's "429 Too Many Requests" exception into
`bot.outbound.RetryLater`, so rate limiting and retries are written once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.telegram.translate import BotIdentity, Outgoing

# The command menu (setMyCommands): name -> description shown in Telegram's "/" menu.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "开始咨询：医保断缴怎么补、影响什么"),
    ("help", "使用帮助"),
    ("cancel", "取消并清除本次对话"),
    ("restart", "重新开始"),
    ("reminders", "查看或取消我的提醒"),
    ("stop", "停止我的全部提醒"),
)

UPDATE_TYPES = ["message", "callback_query"]


class ApiError(Exception):
    """A Bot API call failed for a reason other than rate limiting (e.g. the user blocked the bot)."""


class Blocked(ApiError):
    """403: the person blocked the bot (or never started it); nothing more can be sent to them."""


class BotApi(Protocol):
    """The Bot API calls the adapters make, independent of the framework."""

    async def get_me(self) -> BotIdentity: ...

    async def send_message(self, out: Outgoing) -> None: ...

    async def answer_callback(self, query_id: str) -> None: ...

    async def drop_keyboard(self, chat_id: int, message_id: int) -> None:
        """Remove a sent message's inline keyboard (its text stays)."""
        ...

    async def set_commands(self, commands: Sequence[tuple[str, str]]) -> None: ...

    async def set_webhook(self, url: str, secret: str) -> None: ...

    async def delete_webhook(self) -> None: ...

    async def close(self) -> None: ...
