"""The Sink the conversation service delivers replies through: the Bot API, rate-limited.

The worker that drains a conversation may not be the one that received the update,
so everything needed to reply (chat, topic, bot username) comes from the event.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.outbound import OutboundLimiter
from bot.telegram.api import ApiError, BotApi
from bot.telegram.translate import PLATFORM, render
from flows.messages import ChatKind, InEvent, OutMessage

log = logging.getLogger(__name__)


class TelegramSink:
    """Render OutMessages and send them in order, each at its reserved outbound slot."""

    def __init__(self, api: BotApi, limiter: OutboundLimiter) -> None:
        self._api = api
        self._limiter = limiter

    async def deliver(self, event: InEvent, messages: Sequence[OutMessage]) -> None:
        """Send `messages` to the chat (and forum topic) `event` came from."""
        if event.platform != PLATFORM:
            return
        group = event.chat_kind is ChatKind.GROUP
        for message in messages:
            for out in render(event, message):
                try:
                    await self._limiter.send(event.chat_id, group,
                                             lambda out=out: self._api.send_message(out))
                except ApiError as exc:
                    # e.g. the user blocked the bot: nothing to retry, the others still get theirs
                    log.warning("sendMessage to %s failed: %s", event.chat_id, exc)
                    return
