"""From a Bot API update (JSON) to the conversation service, shared by both frameworks.

Webhook mode processes an update inside its request (Telegram retries on failure).
Polling mode hands each update to a per-conversation sequencer and moves on, so one
slow conversation (waiting for its outbound slot) does not hold up the others while
the updates of one conversation still reach the service in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from bot.outbound import OutboundLimiter, RetryLater
from bot.telegram.api import ApiError, BotApi
from bot.telegram.translate import BotIdentity, Incoming, KeyboardClose, translate_update
from flows.messages import ChatKind, InEvent

log = logging.getLogger(__name__)


class Submitter(Protocol):
    """The conversation service (flows.service.ConversationService)."""

    async def submit(self, event: InEvent) -> Any: ...


class Sequencer:
    """Run jobs one after another per key, different keys concurrently (one process only)."""

    def __init__(self) -> None:
        self._tails: dict[str, asyncio.Task[None]] = {}

    def schedule(self, key: str, job: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        """Queue `job` after the previous job of `key`; failures are logged, never raised."""
        previous = self._tails.get(key)

        async def run() -> None:
            if previous is not None:
                await asyncio.wait([previous])
            try:
                await job()
            except Exception:
                log.exception("processing an update of %s failed", key)
            finally:
                if self._tails.get(key) is task:
                    del self._tails[key]

        task = asyncio.create_task(run())
        self._tails[key] = task
        return task

    async def drain(self) -> None:
        """Wait for everything queued so far."""
        while self._tails:
            await asyncio.gather(*list(self._tails.values()), return_exceptions=True)


class UpdateProcessor:
    """Translate an update, close a pressed keyboard, submit the event to the service."""

    def __init__(self, api: BotApi, limiter: OutboundLimiter, service: Submitter, me: BotIdentity,
                 *, sequencer: Sequencer | None = None) -> None:
        self._api = api
        self._limiter = limiter
        self._service = service
        self.me = me
        self._sequencer = sequencer

    async def handle(self, update: Mapping[str, Any]) -> None:
        """Process one update: in place (webhook) or queued in order (polling)."""
        incoming = translate_update(update, self.me)
        if incoming is None:
            return
        if self._sequencer is None:
            await self._process(incoming)
        else:
            self._sequencer.schedule(incoming.event.conversation_id, lambda: self._process(incoming))

    async def _process(self, incoming: Incoming) -> None:
        if incoming.close is not None:
            await self._close_keyboard(incoming.close, incoming.event)
        await self._service.submit(incoming.event)

    async def _close_keyboard(self, close: KeyboardClose, event: InEvent) -> None:
        """Answer the press (stops the spinner) and edit the keyboard away so it cannot be pressed twice."""
        try:
            await self._api.answer_callback(close.query_id)
        except (ApiError, RetryLater) as exc:
            log.info("answerCallbackQuery failed: %s", exc)  # an old query; the press still counts

        async def edit() -> None:
            if close.text is not None:
                await self._api.edit_text(close.chat_id, close.message_id, close.text)
            else:
                await self._api.drop_keyboard(close.chat_id, close.message_id)

        try:
            await self._limiter.send(event.chat_id, event.chat_kind is ChatKind.GROUP, edit, per_chat=False)
        except ApiError as exc:
            log.info("closing keyboard %s/%s failed: %s", close.chat_id, close.message_id, exc)
