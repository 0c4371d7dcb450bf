"""The python-telegram-bot adapter: PTB's Bot sends; its Application long-polls.

A webhook update is Bot API JSON already: it goes to the processor as is (parsing it
into PTB's Update and back with `to_dict` cost time a turn does not need, measured with
benchmarks/e2e.py). In polling mode PTB's Updater fetches updates and the Application
dispatches them to the MessageHandler / CallbackQueryHandler registered here, which
dump the Update to Bot API JSON and pass it on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from telegram import BotCommand, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.outbound import RetryLater
from bot.telegram.api import UPDATE_TYPES, ApiError, Blocked
from bot.telegram.translate import BotIdentity, Outgoing

Handle = Callable[[dict[str, Any]], Awaitable[None]]


def _seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB warns while moving retry_after from int to timedelta
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


@asynccontextmanager
async def _mapped() -> AsyncIterator[None]:
    """PTB's exceptions -> RetryLater / ApiError; network errors propagate."""
    try:
        yield
    except RetryAfter as exc:
        raise RetryLater(_seconds(exc)) from exc
    except Forbidden as exc:
        raise Blocked(str(exc)) from exc
    except (BadRequest, ChatMigrated) as exc:
        raise ApiError(str(exc)) from exc


class PtbApi:
    """`BotApi` over a PTB Bot."""

    def __init__(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        self.app = app

    async def get_me(self) -> BotIdentity:
        me = await self.app.bot.get_me()
        return BotIdentity(me.id, me.username or "")

    async def send_message(self, out: Outgoing) -> None:
        bot = self.app.bot
        markup = InlineKeyboardMarkup.de_json(out.reply_markup, bot) if out.reply_markup else None
        async with _mapped():
            await bot.send_message(out.chat_id, out.text, message_thread_id=out.thread_id,
                                   reply_markup=markup)

    async def answer_callback(self, query_id: str) -> None:
        async with _mapped():
            await self.app.bot.answer_callback_query(query_id)

    async def drop_keyboard(self, chat_id: int, message_id: int) -> None:
        async with _mapped():
            await self.app.bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)

    async def set_commands(self, commands: Sequence[tuple[str, str]]) -> None:
        async with _mapped():
            await self.app.bot.set_my_commands([BotCommand(c, d) for c, d in commands])

    async def set_webhook(self, url: str, secret: str) -> None:
        async with _mapped():
            await self.app.bot.set_webhook(url, secret_token=secret, allowed_updates=UPDATE_TYPES)

    async def delete_webhook(self) -> None:
        async with _mapped():
            await self.app.bot.delete_webhook(drop_pending_updates=False)

    async def close(self) -> None:
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()


class PtbAdapter:
    """Owns the PTB Application (with an Updater only in polling mode)."""

    framework = "ptb"

    def __init__(self, token: str, api_base: str, *, webhook: bool) -> None:
        builder = (ApplicationBuilder().token(token).base_url(f"{api_base}/bot")
                   .base_file_url(f"{api_base}/file/bot").concurrent_updates(False))
        if webhook:
            builder = builder.updater(None)
        self.app = builder.build()
        self.api = PtbApi(self.app)
        self._handle: Handle | None = None

    async def start(self) -> None:
        """Initialise the Application (PTB calls getMe) and start its update processing."""
        await self.app.initialize()
        await self.app.start()

    def attach(self, handle: Handle) -> None:
        """Take updates to `handle`: webhook JSON directly, polled updates through PTB's handlers."""
        self._handle = handle

        async def on_update(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
            await handle(update.to_dict())

        self.app.add_handler(MessageHandler(filters.UpdateType.MESSAGE, on_update))
        self.app.add_handler(CallbackQueryHandler(on_update))

    async def feed(self, update: dict[str, Any]) -> None:
        """Webhook: process one update (Bot API JSON) and wait for it; failures propagate (answer 500)."""
        assert self._handle is not None, "attach() first"
        await self._handle(update)

    async def poll(self, stop: asyncio.Event, poll_seconds: int) -> None:
        """Long-poll with PTB's Updater until `stop` is set."""
        updater = self.app.updater
        assert updater is not None, "built for webhook mode"
        await updater.start_polling(timeout=dt.timedelta(seconds=poll_seconds), allowed_updates=UPDATE_TYPES,
                                    drop_pending_updates=False)
        try:
            await stop.wait()
        finally:
            await updater.stop()

    async def close(self) -> None:
        await self.api.close()
