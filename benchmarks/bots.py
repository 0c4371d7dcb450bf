"""The bots the end-to-end benchmarks drive, each started as its own process.

* ``ours-aiogram`` / ``ours-ptb``: the real entry point, ``python -m bot telegram
  --framework aiogram|ptb``, configured through the environment exactly as deployed
  (webhook mode, INFO logging to a file). Only the outbound limits are raised far above
  Telegram's, so they do not cap throughput; every send still reserves its slots.
* ``plain-aiogram``: what a plain aiogram 3 webhook bot looks like: aiogram's own
  ``SimpleRequestHandler`` with ``RedisStorage``; per update one ``get_data``, one
  ``set_data`` and one ``sendMessage``.
* ``plain-ptb``: a plain python-telegram-bot bot with its default in-memory persistence
  (``chat_data``), fed by an aiohttp webhook front the way PTB's custom-webhook example
  does (``update_queue.put``); per update one read and write of ``chat_data`` and one
  ``sendMessage``.

A kind ending in ``+uvloop`` (``plain-aiogram+uvloop``) runs the plain bot on uvloop's event
loop instead of asyncio's default one, to show how much of a ratio is the loop alone.

Run: ``python -m benchmarks.bots plain-aiogram|plain-ptb [uvloop]`` with the environment of
`worker_env` (the ``ours-*`` bots are started through ``python -m bot`` by `worker_command`).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

KINDS = ("ours-aiogram", "plain-aiogram", "ours-ptb", "plain-ptb")
UVLOOP = "+uvloop"  # suffix of a plain kind run on uvloop


def worker_command(kind: str, python: str) -> list[str]:
    """The argv that starts one worker of `kind` (the rest of its configuration is in `worker_env`)."""
    if kind.startswith("ours-"):
        return [python, "-m", "bot", "telegram", "--framework", kind.removeprefix("ours-")]
    base, _, loop = kind.partition("+")
    return [python, "-m", "benchmarks.bots", base, *([loop] if loop else [])]


def worker_env(api: str, token: str, port: int, redis_url: str, prefix: str, secret: str,
               path: str) -> dict[str, str]:
    """The environment of every worker: the deployment's variable names (deploy/env.example)."""
    return {
        "TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_BASE": api, "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": prefix, "WEBHOOK_LISTEN": f"127.0.0.1:{port}", "WEBHOOK_PATH": path,
        "WEBHOOK_SECRET": secret, "DEEPLINK_KEY": "benchmark-deeplink-key-not-the-default",
        "OUTBOUND_GLOBAL_PER_SECOND": "1000000", "OUTBOUND_CHAT_PER_SECOND": "1000000",
        "OUTBOUND_CHAT_BURST": "1000", "OUTBOUND_GROUP_PER_MINUTE": "1000000",
    }


async def _plain_aiogram(env: dict[str, str]) -> None:
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.fsm.context import FSMContext
    from aiogram.fsm.storage.base import DefaultKeyBuilder
    from aiogram.fsm.storage.redis import RedisStorage
    from aiogram.types import Message
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
    from aiohttp import web
    from redis.asyncio import Redis

    bot = Bot(env["TELEGRAM_BOT_TOKEN"],
              session=AiohttpSession(api=TelegramAPIServer.from_base(env["TELEGRAM_API_BASE"])))
    storage = RedisStorage(Redis.from_url(env["REDIS_URL"]),
                           key_builder=DefaultKeyBuilder(prefix=env["REDIS_KEY_PREFIX"]))
    dp = Dispatcher(storage=storage)

    @dp.message()
    async def answer(message: Message, state: FSMContext) -> None:
        data = await state.get_data()
        count = int(data.get("n", 0)) + 1
        await state.set_data({"n": count, "last": message.text})
        await message.answer(f"收到第{count}条：{message.text}")

    app = web.Application()
    SimpleRequestHandler(dp, bot, secret_token=env["WEBHOOK_SECRET"]).register(app, path=env["WEBHOOK_PATH"])
    setup_application(app, dp, bot=bot)
    await _serve(app, env)
    await storage.close()


async def _plain_ptb(env: dict[str, str]) -> None:
    from aiohttp import web
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    api = env["TELEGRAM_API_BASE"]
    application = (ApplicationBuilder().token(env["TELEGRAM_BOT_TOKEN"]).base_url(f"{api}/bot")
                   .updater(None).build())

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        data: dict[str, Any] = context.chat_data if context.chat_data is not None else {}
        count = int(data.get("n", 0)) + 1
        data.update(n=count, last=update.effective_message.text if update.effective_message else None)
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, f"收到第{count}条：{data['last']}")

    application.add_handler(MessageHandler(filters.ALL, answer))

    async def receive(request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != env["WEBHOOK_SECRET"]:
            return web.Response(status=403)
        await application.update_queue.put(Update.de_json(await request.json(), application.bot))
        return web.Response()

    app = web.Application()
    app.router.add_post(env["WEBHOOK_PATH"], receive)
    async with application:
        await application.start()
        await _serve(app, env)
        await application.stop()


async def _serve(app: Any, env: dict[str, str]) -> None:
    """Listen (SO_REUSEPORT, so several workers share the port) until SIGTERM."""
    from aiohttp import web

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    host, _, port = env["WEBHOOK_LISTEN"].rpartition(":")
    await web.TCPSite(runner, host, int(port), reuse_port=True).start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("webhook on", env["WEBHOOK_LISTEN"], file=sys.stderr, flush=True)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    import os

    main = {"plain-aiogram": _plain_aiogram, "plain-ptb": _plain_ptb}[sys.argv[1]]
    if sys.argv[2:] == ["uvloop"]:
        import uvloop

        uvloop.run(main(dict(os.environ)))
    else:  # as plain bots are written: asyncio's default loop
        asyncio.run(main(dict(os.environ)))
