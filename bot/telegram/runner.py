"""Start the Telegram bot in polling or webhook mode with either framework.

`run_telegram(framework, settings)` is what `python -m bot telegram` calls. Tests and
benchmarks use `running_bot(...)`, which takes the Redis client and a service factory
directly so they can run several workers in one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from redis.asyncio import Redis

from bot.metered import MeteredService, MeteredSink
from bot.ops_http import readiness
from bot.outbound import OutboundLimiter
from bot.reload import RuleReloader, admin_commands, sighup_event
from bot.settings import TelegramSettings, load_settings_or_exit
from bot.telegram.aiogram_adapter import AiogramAdapter
from bot.telegram.api import COMMANDS, BotApi
from bot.telegram.processor import Sequencer, Submitter, UpdateProcessor
from bot.telegram.ptb_adapter import PtbAdapter
from bot.telegram.sink import TelegramSink
from bot.telegram.translate import BotIdentity, Outgoing
from bot.telegram.webhook import make_webhook_app, start_webhook

__all__ = ["FRAMEWORKS", "RunningBot", "load_settings_or_exit", "make_adapter", "run_telegram", "running_bot"]

log = logging.getLogger(__name__)

FRAMEWORKS = ("aiogram", "ptb")
# Loggers that write a line per update or per Bot API call at INFO (aiogram's "Update id=...
# is handled", httpx's "HTTP Request: POST ..."): kept at WARNING so a worker's INFO log
# holds what an operator reads, not one line per message.
CHATTY_LOGGERS = ("aiogram.event", "httpx")
MakeService = Callable[[TelegramSink], Submitter]


class Adapter(Protocol):
    """What the runner needs from a framework adapter."""

    framework: str
    api: BotApi

    async def start(self) -> None: ...

    def attach(self, handle: Any) -> None: ...

    async def feed(self, update: dict[str, Any]) -> None: ...

    async def poll(self, stop: asyncio.Event, poll_seconds: int) -> None: ...

    async def close(self) -> None: ...


@dataclass(slots=True)
class RunningBot:
    """A started bot: who it is, and where its webhook front listens (webhook mode)."""

    me: BotIdentity
    adapter: Adapter
    processor: UpdateProcessor
    reloader: RuleReloader
    webhook_port: int | None = None
    reminders: Any = None  # the reminder dispatcher (bot.reminders), None with REMINDERS=off


def make_adapter(framework: str, settings: TelegramSettings) -> Adapter:
    """The adapter for `framework` ("aiogram" or "ptb")."""
    if framework == "aiogram":
        return AiogramAdapter(settings.token, settings.telegram_api_base)
    if framework == "ptb":
        return PtbAdapter(settings.token, settings.telegram_api_base, webhook=settings.webhook_mode)
    raise ValueError(f"unknown framework {framework!r}; choose one of {', '.join(FRAMEWORKS)}")


@contextlib.asynccontextmanager
async def running_bot(framework: str, settings: TelegramSettings, *, redis: Redis,
                      make_service: MakeService, key_prefix: str = "ob",
                      recover_every: float = 0.5, grace: float = 3.0,
                      reminder_clock: Any = None) -> AsyncIterator[RunningBot]:
    """Start the bot (polling, or the webhook front when WEBHOOK_LISTEN is set); stop it on exit.

    `key_prefix` prefixes the outbound limiter's Redis keys. Every `recover_every` seconds
    the service's `recover()` drains conversations a dead worker left waiting (cheap: one
    range query when nothing waits). On exit it stops taking updates first, then lets
    the service finish or give back the turn in progress within `grace` seconds. Unless
    REMINDERS=off a reminder dispatcher runs too (`reminder_clock`: a clock tests control).
    """
    adapter = make_adapter(framework, settings)
    stop = asyncio.Event()
    sequencer: Sequencer | None = None
    runner = None
    sink: TelegramSink | None = None
    poller: asyncio.Task[None] | None = None
    recovering: asyncio.Task[None] | None = None
    reminding: asyncio.Task[None] | None = None
    service: Submitter | None = None
    processor: UpdateProcessor | None = None
    try:
        await adapter.start()
        me = await adapter.api.get_me()
        limiter = OutboundLimiter(redis, settings.outbound_limits(), str(me.id), prefix=key_prefix)
        sink = TelegramSink(adapter.api, limiter)
        inner = make_service(MeteredSink(sink))
        service = MeteredService(inner, f"telegram-{framework}")
        sequencer = None if settings.webhook_mode else Sequencer()
        processor = UpdateProcessor(adapter.api, service, me, sequencer=sequencer)
        reloader = RuleReloader(settings.rules_dir)
        if hasattr(getattr(inner, "dialog", None), "advisor"):
            reloader.add(inner)
        adapter.attach(admin_commands(processor.handle, reloader, settings.admins,
                                      lambda chat, text: adapter.api.send_message(Outgoing(chat, text))))
        await adapter.api.set_commands(COMMANDS)
        bot = RunningBot(me, adapter, processor, reloader)
        if hasattr(inner, "recover"):
            recovering = asyncio.create_task(_recover_loop(service.recover, recover_every))
        reminders = getattr(inner, "reminders", None)
        if reminders is not None and settings.reminders != "off":  # REMINDERS=off: this worker sends none
            from bot.reminders.config import background_limits
            from bot.reminders.dispatcher import ReminderDispatcher  # it imports bot.telegram (a cycle)

            quiet = OutboundLimiter(redis, background_limits(settings.outbound_limits()), str(me.id),
                                    prefix=key_prefix)
            dispatcher = ReminderDispatcher(reminders, adapter.api, quiet, str(me.id),
                                            config=settings.dispatch_config(), **(
                                                {"clock": reminder_clock} if reminder_clock else {}))
            bot.reminders = dispatcher
            reminding = asyncio.create_task(dispatcher.run_forever(stop, settings.reminders_every))
        if settings.webhook_mode:
            host, port = settings.listen
            app = make_webhook_app(settings.webhook_path, settings.secret, adapter.feed,
                                   settings.webhook_max_body, readiness(redis, service))
            runner, bot.webhook_port = await start_webhook(app, host, port)
            if settings.webhook_url:
                await adapter.api.set_webhook(settings.webhook_url, settings.secret)
            log.info("@%s (%s) webhook on %s:%s%s", me.username, framework, host, bot.webhook_port,
                     settings.webhook_path)
        else:
            await adapter.api.delete_webhook()
            poller = asyncio.create_task(adapter.poll(stop, settings.polling_timeout))
            log.info("@%s (%s) polling %s", me.username, framework, settings.telegram_api_base)
        yield bot
    finally:
        stop.set()
        if processor is not None:
            processor.close()
        if recovering is not None:
            recovering.cancel()
        if reminding is not None:
            await reminding  # a pass in progress finishes its sends (each is short) and stops
        if runner is not None:
            for site in list(runner.sites):
                await site.stop()  # no new updates; the ones in flight finish below
        if poller is not None:
            await poller
        close = getattr(service, "close", None)
        if close is not None:
            log.info("stopping: no new updates; finishing or giving back the turns in progress")
            await close(grace)  # the turn in progress finishes or is given back
            log.info("stopping: turns done or given back")
        if runner is not None:
            await runner.cleanup()
        if sequencer is not None:
            await sequencer.drain()
        if processor is not None:
            await processor.drain()
        if sink is not None:
            await sink.drain()
        await adapter.close()
        log.info("stopped")


async def _recover_loop(recover: Callable[[], Any], every: float) -> None:
    """Let the service finish conversations a dead worker left waiting: at start, then periodically."""
    failing = False
    while True:
        try:
            await recover()
            failing = False
        except Exception as exc:
            if not failing:  # once per outage, not twice a second
                log.warning("recover failed (%s); retrying every %ss", type(exc).__name__, every)
            failing = True
        await asyncio.sleep(every)


async def run_telegram(framework: str, settings: TelegramSettings) -> None:
    """Run until SIGINT/SIGTERM: `python -m bot telegram --framework aiogram|ptb`."""
    from bot.runtime import open_runtime
    from bot.settings import deeplink_key_for

    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    # The links printed for community accounts are signed with this key (never the public default).
    reload_requested = sighup_event()
    key = deeplink_key_for("telegram", settings.deeplink_key.get_secret_value())
    dialog = dataclasses.replace(await asyncio.to_thread(_load_dialog, settings.rules_dir), deeplink_key=key)
    async with open_runtime(settings.redis_url, dialog=dialog) as rt, running_bot(
        framework, settings, redis=rt.redis, make_service=rt.make_service,
        key_prefix=f"{rt.store.keys.prefix}:ob",
    ) as bot:
        reloading = asyncio.create_task(bot.reloader.serve(reload_requested))
        await stop.wait()
        reloading.cancel()


def _load_dialog(rules_dir: Path | None) -> Any:
    """The dialog on the rule files in `rules_dir` (default: the packaged ones). Blocking."""
    from flows.dialog import GapDialog
    from policies import load_rulebook
    from policies.regions import RegionIndex

    regions = RegionIndex.load()
    return GapDialog.create(load_rulebook(rules_dir, regions=regions), regions)
