"""The Sink the conversation service delivers replies through: the Bot API, rate-limited.

The worker that drains a conversation may not be the one that received the update,
so everything needed to reply (chat, topic, bot username) comes from the event.

The service delivers while it holds the conversation's lease (30 s), but a busy
group's 20-per-minute window can push a send up to a minute out. So the sink
reserves the slots of all of a turn's messages at once (reservations are strictly
ordered per chat, which fixes the order of sending), sends inline when the wait is
short, and otherwise finishes sending in a background task so the lease is not held
past its expiry. `drain()` waits for those tasks at shutdown.

A button press: the dialog says on the turn's first message whether it accepted the press
(`flows.dialog.PRESS_META`). Once the reply is sent, an accepted press closes the pressed
message's keyboard (it cannot be pressed twice); a stale one leaves that message as it is,
and the reply says why. The sink only carries this out; it decides nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from bot.outbound import OutboundLimiter, RetryLater
from bot.telegram.api import ApiError, BotApi
from bot.telegram.translate import PLATFORM, Outgoing, render
from flows.dialog import PRESS_ACCEPTED, PRESS_META
from flows.messages import ChatKind, InEvent, OutMessage

log = logging.getLogger(__name__)


class TelegramSink:
    """Render OutMessages and send them in order, each at its reserved outbound slot."""

    def __init__(self, api: BotApi, limiter: OutboundLimiter, *, inline_wait: float = 10.0) -> None:
        self._api = api
        self._limiter = limiter
        self._inline_wait = inline_wait
        self._background: set[asyncio.Task[None]] = set()

    async def deliver(self, event: InEvent, messages: Sequence[OutMessage]) -> None:
        """Send `messages` to the chat (and forum topic) `event` came from."""
        if event.platform != PLATFORM or not messages:
            return
        group = event.chat_kind is ChatKind.GROUP
        outs = [out for message in messages for out in render(event, message)]
        delays = [await self._limiter.reserve(event.chat_id, group) for _ in outs]
        if max(delays) <= self._inline_wait:
            await self._reply(event, messages[0], outs, delays)
            return
        log.info("chat %s is rate-limited for %.1fs; sending in the background", event.chat_id, max(delays))
        task = asyncio.create_task(self._reply(event, messages[0], outs, delays))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _reply(self, event: InEvent, first: OutMessage, outs: list[Outgoing], delays: list[float]) -> None:
        """Send the turn's messages, then close the pressed keyboard if the dialog accepted the press."""
        group = event.chat_kind is ChatKind.GROUP
        sent = await self._send_all(event.chat_id, group, outs, delays)
        if sent and event.pressed_message_id and first.meta.get(PRESS_META) == PRESS_ACCEPTED:
            await self._close_keyboard(event.chat_id, group, int(event.pressed_message_id))

    async def _close_keyboard(self, chat_id: str, group: bool, message_id: int) -> None:
        try:
            await self._limiter.send(chat_id, group, lambda: self._api.drop_keyboard(int(chat_id), message_id),
                                     per_chat=False)
        except (ApiError, RetryLater) as exc:  # e.g. already closed by a double press: nothing to undo
            log.info("closing keyboard %s/%s failed: %s", chat_id, message_id, exc)

    async def _send_all(self, chat_id: str, group: bool, outs: list[Outgoing], delays: list[float]) -> bool:
        """Send in order at the reserved slots; False when the rest of the turn could not be sent."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        for out, delay in zip(outs, delays, strict=True):
            remaining = max(0.0, start + delay - loop.time())
            try:
                await self._limiter.send_at(remaining, chat_id, group,
                                            lambda out=out: self._api.send_message(out))
            except ApiError as exc:
                # e.g. the user blocked the bot: the rest of this turn cannot arrive either
                log.warning("sendMessage to %s failed: %s", chat_id, exc)
                return False
            except RetryLater:
                log.error("chat %s stayed rate-limited; a reply was dropped", chat_id)
                return False
        return True

    async def drain(self) -> None:
        """Wait for replies still being sent in the background."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
