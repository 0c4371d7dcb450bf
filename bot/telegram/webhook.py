"""The webhook front: one small aiohttp app for both frameworks.

It checks Telegram's secret token header (missing: 401, wrong: 403; nothing is
changed either way), refuses oversized bodies (413) and malformed JSON (400), then
hands the update to the framework and answers 200 once it is processed. A failure
answers 500, so Telegram delivers the update again (the core answers a repeated
update_id once). Several worker processes may listen on one port (SO_REUSEPORT) and
share one Redis.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
Feed = Callable[[dict[str, Any]], Awaitable[None]]


def make_webhook_app(path: str, secret: str, feed: Feed, max_body: int) -> web.Application:
    """The aiohttp application serving POST `path` (and GET /healthz)."""

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
            update = json.loads(body)
        except ValueError:
            return web.Response(status=400, text="not JSON")
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            return web.Response(status=400, text="not an update")
        try:
            await feed(update)
        except Exception:
            log.exception("update %s failed; Telegram will deliver it again", update.get("update_id"))
            return web.Response(status=500, text="failed")
        return web.Response(status=200, text="ok")

    async def health(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application(client_max_size=max_body)
    app.router.add_post(path, receive)
    app.router.add_get("/healthz", health)
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
