"""From a Bot API update (JSON) to the conversation service, shared by both frameworks.

Webhook mode processes an update inside its request (Telegram retries on failure).
Polling mode hands each update to a per-conversation sequencer and moves on, so one
slow conversation (waiting for its outbound slot) does not hold up the others while
the updates of one conversation still reach the service in order.

Redis away: the user is told once "系统繁忙，稍后回复您" (per conversation and outage, sent
straight through the Bot API since the outbound limiter lives in Redis too) and nothing
is lost - in webhook mode the error reaches the webhook front, which answers 500 so
Telegram delivers the update again; in polling mode (Telegram will not) the worker keeps
the update and submits it again until Redis answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from redis.exceptions import BusyLoadingError, ClusterDownError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.telegram.api import BotApi
from bot.telegram.translate import BotIdentity, Incoming, Outgoing, translate_update
from flows.messages import InEvent

log = logging.getLogger(__name__)

BUSY_NOTICE = "系统繁忙，稍后回复您"
# What Redis being away (stopped, restarting, unreachable, a cluster mid-failover) looks like.
REDIS_AWAY = (RedisConnectionError, RedisTimeoutError, BusyLoadingError, ClusterDownError, TryAgainError)
_NOTICE_TIMEOUT = 3.0  # seconds for the busy notice: it must not hold the webhook answer long
_ACK_TIMEOUT = 5.0  # seconds for answering a press; Telegram drops the spinner itself soon after
_POLLING_RETRY = (0.25, 2.0)  # first and longest pause between submits of a kept update (polling)
_NOTIFIED_MAX = 10_000  # conversations remembered as told during one outage (oldest forgotten)


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
    """Translate an update, acknowledge a button press at once, submit the event to the service.

    The press is answered (with no text: it stops Telegram's spinner) before the turn runs, so a
    slow turn or a queue of earlier updates does not leave the user waiting on a spinner. What
    happens to the pressed message is the turn's decision, carried out by the sink."""

    def __init__(self, api: BotApi, service: Submitter, me: BotIdentity,
                 *, sequencer: Sequencer | None = None) -> None:
        self._api = api
        self._service = service
        self.me = me
        self._sequencer = sequencer
        # Conversations told about the outage; cleared by their next successful submit.
        # Process memory on purpose: Redis is what is missing.
        self._notified: OrderedDict[str, None] = OrderedDict()
        self._closing = False
        self._acks: set[asyncio.Task[None]] = set()

    def close(self) -> None:
        """Shutting down: a kept update (polling, Redis away) is tried once more, then given up."""
        self._closing = True

    async def handle(self, update: Mapping[str, Any]) -> None:
        """Process one update: in place (webhook) or queued in order (polling)."""
        incoming = translate_update(update, self.me)
        if incoming is None:
            return
        ack = None
        if incoming.query_id is not None:
            ack = asyncio.create_task(self._acknowledge(incoming.query_id))
            self._acks.add(ack)
            ack.add_done_callback(self._acks.discard)
        if self._sequencer is None:
            try:
                await self._process(incoming)
            finally:
                if ack is not None:
                    await ack  # the webhook request ends with its press answered
        else:
            self._sequencer.schedule(incoming.event.conversation_id, lambda: self._process(incoming))

    async def drain(self) -> None:
        """Wait for press acknowledgements still in flight (shutdown)."""
        while self._acks:
            await asyncio.gather(*list(self._acks), return_exceptions=True)

    async def _acknowledge(self, query_id: str) -> None:
        """Answer a press with no text; a failure (an old query, the API slow) only logs."""
        try:
            async with asyncio.timeout(_ACK_TIMEOUT):
                await self._api.answer_callback(query_id)
        except Exception as exc:
            log.info("answerCallbackQuery failed: %s", type(exc).__name__)

    async def _process(self, incoming: Incoming) -> None:
        if self._sequencer is None:
            await self._submit(incoming.event)  # webhook: an error means 500 and a redelivery
            return
        pause = _POLLING_RETRY[0]
        while True:  # polling: Telegram will not deliver this update again, so keep it
            try:
                await self._submit(incoming.event)
                return
            except REDIS_AWAY:
                if self._closing:
                    log.error("update %s given up at shutdown: Redis still away", incoming.event.update_id)
                    return
                await asyncio.sleep(pause)
                pause = min(pause * 2, _POLLING_RETRY[1])

    async def _submit(self, event: InEvent) -> None:
        """Submit; when Redis is away, tell the user once and re-raise."""
        cid = event.conversation_id
        try:
            await self._service.submit(event)
        except REDIS_AWAY as exc:
            log.warning("Redis unavailable for update %s: %s", event.update_id, type(exc).__name__)
            if cid not in self._notified:
                self._notified[cid] = None
                while len(self._notified) > _NOTIFIED_MAX:
                    self._notified.popitem(last=False)
                await self._tell_busy(event)
            raise
        self._notified.pop(cid, None)

    async def _tell_busy(self, event: InEvent) -> None:
        thread = int(event.thread_id) if event.thread_id else None
        try:
            async with asyncio.timeout(_NOTICE_TIMEOUT):
                await self._api.send_message(Outgoing(int(event.chat_id), BUSY_NOTICE, thread))
        except Exception as exc:  # the Bot API may be slow or away too; the update is kept anyway
            log.info("busy notice to %s failed: %s", event.chat_id, type(exc).__name__)
