"""The webhook front: one small aiohttp app for both frameworks.

It checks Telegram's secret token header (missing: 401, wrong: 403; nothing is
changed either way), refuses oversized bodies (413) and bodies that are not JSON
(400), then:

* a JSON body that is no update Telegram would send this bot (bot.telegram.update_check:
  wrong shape, ids outside Telegram's ranges, nested too deep) is answered 200 and
  dropped, before any framework or Redis key sees it, and logged at most once a minute
  per reason (a flood of junk must not flood the log);
* an update is handed to the framework and answered 200 once it is processed;
* a failure that may pass (Redis or the network down) answers 500, so Telegram
  delivers the update again (the core answers a repeated update_id once);
* any other failure would fail the same way on every redelivery: it is logged
  (rate-limited, without the body) and answered 200, so one poisoned update cannot
  block the bot's queue at Telegram.

Several worker processes may listen on one port (SO_REUSEPORT) and share one Redis.
`/healthz`, `/readyz` and `/metrics` are mounted by bot.ops_http.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
import redis.exceptions
from aiohttp import web

from bot.metrics import DROPPED_UPDATES, ERRORS
from bot.ops_http import Check, add_ops_routes
from bot.telegram.update_check import problem

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
Feed = Callable[[dict[str, Any]], Awaitable[None]]
LOG_EVERY = 60.0  # seconds between two log lines about the same kind of dropped update


def _transient_errors() -> tuple[type[BaseException], ...]:
    """Exceptions after which a redelivery may succeed: storage or network trouble."""
    from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
    from telegram.error import NetworkError, RetryAfter

    return (redis.exceptions.RedisError, OSError, TimeoutError, aiohttp.ClientError,
            TelegramNetworkError, TelegramServerError, TelegramRetryAfter, NetworkError, RetryAfter)


TRANSIENT: tuple[type[BaseException], ...] = _transient_errors()


@dataclass(slots=True)
class RateLimitedLog:
    """Log one line per reason, then at most one per `every` seconds saying how many were dropped."""

    every: float = LOG_EVERY
    clock: Callable[[], float] = time.monotonic
    _last: dict[str, float] = field(default_factory=dict)
    _skipped: dict[str, int] = field(default_factory=dict)

    def warn(self, reason: str, message: str, *args: object) -> bool:
        """Log unless `reason` was logged less than `every` seconds ago; True when logged."""
        now = self.clock()
        last = self._last.get(reason)
        if last is not None and now - last < self.every:
            self._skipped[reason] = self._skipped.get(reason, 0) + 1
            return False
        skipped = self._skipped.pop(reason, 0)
        self._last[reason] = now
        suffix = f" (and {skipped} more like it since the last line)" if skipped else ""
        log.warning(message + suffix, *args)
        return True


def make_webhook_app(path: str, secret: str, feed: Feed, max_body: int,
                     checks: Mapping[str, Check] | None = None) -> web.Application:
    """The aiohttp application serving POST `path` plus /healthz, /readyz and /metrics."""
    dropped = RateLimitedLog()

    def drop(reason: str, update_id: object) -> web.Response:
        DROPPED_UPDATES.labels(reason.split(" ")[0]).inc()
        dropped.warn(reason, "dropped an update the bot cannot use (%s), update_id %r", reason,
                     update_id if isinstance(update_id, int) else None)
        return web.Response(status=200, text="dropped")

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            return web.Response(status=401, text="missing secret token")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=403, text="wrong secret token")
        if request.content_length is not None and request.content_length > max_body:
            return web.Response(status=413, text="body too large")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="body too large")
        try:
            update = orjson.loads(body)  # bounded nesting (1024): no RecursionError here
        except (ValueError, RecursionError):
            return web.Response(status=400, text="not JSON")
        reason = problem(update)
        if reason is not None:
            return drop(reason, update.get("update_id") if isinstance(update, dict) else None)
        try:
            await feed(update)
        except TRANSIENT:
            ERRORS.labels("webhook").inc()
            log.exception("update %s failed; Telegram will deliver it again", update["update_id"])
            return web.Response(status=500, text="failed")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            ERRORS.labels("webhook").inc()
            return drop(f"unprocessable {type(exc).__name__}", update["update_id"])
        return web.Response(status=200, text="ok")

    app = web.Application(client_max_size=max_body)
    app.router.add_post(path, receive)
    add_ops_routes(app, checks)
    return app


async def start_webhook(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Listen on host:port (port 0: any free port); returns the runner and the bound port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_port=True)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    return runner, bound
