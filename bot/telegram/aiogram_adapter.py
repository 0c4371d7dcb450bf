"""The aiogram 3 adapter: aiogram's Bot sends; its Dispatcher long-polls.

A webhook update is Bot API JSON already: it goes to the processor as is (parsing it
into aiogram's Update model only to dump it back cost ~10% of a turn, measured with
benchmarks/e2e.py). In polling mode aiogram's Dispatcher fetches updates and hands
them through its Router to the handler registered here, which dumps the Update to
Bot API JSON and passes it on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNotFound,
    TelegramRetryAfter,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteWebhook,
    EditMessageReplyMarkup,
    GetMe,
    Response,
    SendMessage,
    SetMyCommands,
    SetWebhook,
)
from aiogram.types import BotCommand, InlineKeyboardMarkup, Update

from bot.outbound import RetryLater
from bot.telegram.api import UPDATE_TYPES, ApiError, Blocked
from bot.telegram.translate import BotIdentity, Outgoing

Handle = Callable[[dict[str, Any]], Awaitable[None]]

# aiogram validates every Bot API answer with `Response[<method's return type>]`;
# pydantic caches those generic classes only while something references them, so
# without these references each call rebuilt the class (~0.6 ms of CPU a call, a
# quarter of a turn's CPU on this machine). Holding them keeps the cache warm.
_RESPONSE_TYPES = tuple(
    Response[method.__returning__]  # type: ignore[name-defined]
    for method in (SendMessage, AnswerCallbackQuery, EditMessageReplyMarkup, GetMe,
                   SetMyCommands, SetWebhook, DeleteWebhook)
)


@asynccontextmanager
async def _mapped() -> AsyncIterator[None]:
    """aiogram's exceptions -> RetryLater / ApiError; network and server errors propagate."""
    try:
        yield
    except TelegramRetryAfter as exc:
        raise RetryLater(float(exc.retry_after)) from exc
    except TelegramForbiddenError as exc:
        raise Blocked(str(exc)) from exc
    except (TelegramBadRequest, TelegramNotFound, TelegramMigrateToChat) as exc:
        raise ApiError(str(exc)) from exc


class AiogramApi:
    """`BotApi` over an aiogram Bot."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def get_me(self) -> BotIdentity:
        me = await self.bot.get_me()
        return BotIdentity(me.id, me.username or "")

    async def send_message(self, out: Outgoing) -> None:
        markup = InlineKeyboardMarkup.model_validate(out.reply_markup) if out.reply_markup else None
        async with _mapped():
            await self.bot.send_message(chat_id=out.chat_id, text=out.text, message_thread_id=out.thread_id,
                                        reply_markup=markup)

    async def answer_callback(self, query_id: str) -> None:
        async with _mapped():
            await self.bot.answer_callback_query(query_id)

    async def drop_keyboard(self, chat_id: int, message_id: int) -> None:
        async with _mapped():
            await self.bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)

    async def set_commands(self, commands: Sequence[tuple[str, str]]) -> None:
        async with _mapped():
            await self.bot.set_my_commands([BotCommand(command=c, description=d) for c, d in commands])

    async def set_webhook(self, url: str, secret: str) -> None:
        async with _mapped():
            await self.bot.set_webhook(url, secret_token=secret, allowed_updates=UPDATE_TYPES)

    async def delete_webhook(self) -> None:
        async with _mapped():
            await self.bot.delete_webhook(drop_pending_updates=False)

    async def close(self) -> None:
        await self.bot.session.close()


class AiogramAdapter:
    """Owns the aiogram Bot and Dispatcher."""

    framework = "aiogram"

    def __init__(self, token: str, api_base: str) -> None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_base))
        self.bot = Bot(token, session=session)
        self.api = AiogramApi(self.bot)
        self.dispatcher = Dispatcher()

        self._handle: Handle | None = None

    async def start(self) -> None:
        """Nothing to start: aiogram's Bot opens its HTTP session on first use."""

    def attach(self, handle: Handle) -> None:
        """Take updates to `handle`: webhook JSON directly, polled updates through a Router."""
        self._handle = handle
        router = Router(name="yibao-telegram")

        async def on_update(_event: Any, event_update: Update) -> None:
            await handle(event_update.model_dump(mode="json", by_alias=True, exclude_none=True))

        router.message.register(on_update)
        router.callback_query.register(on_update)
        self.dispatcher.include_router(router)

    async def feed(self, update: dict[str, Any]) -> None:
        """Webhook: process one update (Bot API JSON) and wait for it."""
        assert self._handle is not None, "attach() first"
        await self._handle(update)

    async def poll(self, stop: asyncio.Event, poll_seconds: int) -> None:
        """Long-poll until `stop` is set. Updates are dispatched in order (the processor queues them)."""
        polling = asyncio.create_task(self.dispatcher.start_polling(
            self.bot, polling_timeout=poll_seconds, handle_as_tasks=False, allowed_updates=UPDATE_TYPES,
            handle_signals=False, close_bot_session=False,
        ))
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait([polling, stopped], return_when=asyncio.FIRST_COMPLETED)
        if not polling.done():
            await self.dispatcher.stop_polling()
        stopped.cancel()
        await polling

    async def close(self) -> None:
        await self.api.close()
