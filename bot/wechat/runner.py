"""Start the WeChat adapter: `python -m bot wechat [--listen HOST:PORT]`; SIGHUP reloads the rule files.

`wechat_worker` wires one worker (HTTP client, token sharing, outbox, conversation
service, the push endpoint) around a store and a dialog, and serves it; tests run
several in one process against one Redis. Several processes may listen on one port
(SO_REUSEPORT) and share one Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date

import aiohttp
from aiohttp import web

from bot.metered import MeteredService, MeteredSink
from bot.ops_http import readiness
from bot.reload import RuleReloader, load_dialog, sighup_event
from bot.settings import deeplink_key_for
from bot.wechat.api import WeChatApi
from bot.wechat.app import WeChatEndpoint, WeChatReceiver, make_app
from bot.wechat.crypto import MessageCrypto
from bot.wechat.outbox import WeChatOutbox
from bot.wechat.reminders import WeChatReminders
from bot.wechat.settings import WeChatSettings
from flows.reminders_time import Clock, real_clock
from flows.service import ConversationService
from flows.store import ConversationStore
from flows.turn import Dialog

log = logging.getLogger(__name__)

DEFAULT_LISTEN = "127.0.0.1:8081"


@dataclass(slots=True)
class RunningWeChat:
    receiver: WeChatReceiver
    outbox: WeChatOutbox
    service: MeteredService  # the ConversationService, counted (bot.metered)
    reminders: WeChatReminders
    port: int
    core: ConversationService  # the service itself: the rule reloader swaps its dialog


def endpoint_for(settings: WeChatSettings) -> WeChatEndpoint:
    """The endpoint's account facts from the settings (safe mode when WECHAT_AES_KEY is set)."""
    key = settings.aes_key
    crypto = MessageCrypto(settings.token, key, settings.wechat_appid) if key else None
    return WeChatEndpoint(settings.token, settings.wechat_appid, crypto, settings.wechat_path,
                          settings.wechat_reply_seconds)


@contextlib.asynccontextmanager
async def wechat_worker(settings: WeChatSettings, store: ConversationStore, dialog: Dialog, *,
                        host: str = "127.0.0.1", port: int = 0, clock: Callable[[], date] = date.today,
                        reminder_clock: Clock = real_clock,
                        recover_every: float = 30.0) -> AsyncIterator[RunningWeChat]:
    """Serve the push endpoint on host:port (0: a free port) until the block ends.

    The worker also delivers due reminders (a pass every REMINDERS_EVERY seconds) unless REMINDERS=off.
    Raises SettingsError when DEEPLINK_KEY is the public default or too short (links to the
    web page are signed with it); `dialog` should sign scene strings with the same key."""
    link_key = deeplink_key_for("wechat", settings.deeplink_key.get_secret_value())
    async with aiohttp.ClientSession() as session:
        api = WeChatApi(session, store.redis, settings.wechat_appid,
                        settings.wechat_appsecret.get_secret_value(), api_base=settings.wechat_api_base,
                        key_prefix=store.keys.prefix)
        outbox = WeChatOutbox(api, store, web_base=settings.wechat_web_base,
                              link_key=link_key)
        core = ConversationService(store, dialog, MeteredSink(outbox), clock=clock, reminder_clock=reminder_clock)
        service = MeteredService(core, "wechat")
        reminders = WeChatReminders(core.reminders, outbox, settings.wechat_appid, clock=reminder_clock)
        receiver = WeChatReceiver(endpoint_for(settings), service, outbox, reminders)
        runner = web.AppRunner(make_app(receiver, readiness(store.redis, service)), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port, reuse_port=True)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        bound = int(sockets[0].getsockname()[1]) if sockets else port
        recovering = asyncio.create_task(_recover_loop(service, recover_every))
        stop = asyncio.Event()
        reminding = None
        if settings.reminders != "off":
            reminding = asyncio.create_task(reminders.run_forever(stop, settings.reminders_every))
        try:
            yield RunningWeChat(receiver, outbox, service, reminders, bound, core)
        finally:
            stop.set()
            recovering.cancel()
            if reminding is not None:
                await reminding
            await runner.cleanup()  # on_shutdown waits for replies still being sent


async def _recover_loop(service: MeteredService, every: float) -> None:
    """Finish conversations a dead worker left waiting (their replies go out as customer-service messages)."""
    while True:
        await asyncio.sleep(every)
        try:
            await service.recover()
        except Exception:
            log.exception("recover failed; trying again in %ss", every)


def parse_listen(value: str) -> tuple[str, int]:
    """"HOST:PORT" -> (host, port), port 0 meaning any free port; ValueError with a one-line reason."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"--listen 格式不对：应为 HOST:PORT，例如 127.0.0.1:8081，收到 {value!r}")
    return host.strip("[]"), int(port)


async def run_wechat(settings: WeChatSettings, host: str, port: int) -> None:
    """Run until SIGINT/SIGTERM; SIGHUP reloads the rule files (RULES_DIR, else the packaged ones).

    Raises SettingsError for the public default DEEPLINK_KEY and RuleError for a broken rule file.
    """
    from bot.runtime import open_runtime

    key = deeplink_key_for("wechat", settings.deeplink_key.get_secret_value())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    reload_requested = sighup_event()  # before the slow start-up, so no SIGHUP is lost
    dialog = await asyncio.to_thread(load_dialog, settings.rules_dir, key)  # scene strings are signed with it
    async with open_runtime(settings.redis_url, dialog=dialog) as rt, wechat_worker(
        settings, rt.store, rt.dialog, host=host, port=port,
    ) as running:
        reloader = RuleReloader(settings.rules_dir)
        reloader.add(running.core)
        reloading = asyncio.create_task(reloader.serve(reload_requested))
        mode = "安全模式" if settings.aes_key else "明文模式"
        print(f"微信公众号消息接口已启动（{mode}）：http://{host}:{running.port}{settings.wechat_path}", flush=True)
        await stop.wait()
        reloading.cancel()
