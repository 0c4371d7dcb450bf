"""The aiohttp application: the page, its static files, the JSON API, /healthz, /readyz, /metrics.

Every response carries a strict Content-Security-Policy (only this origin's script and
style, no inline code, no third party), and no request can make a handler answer 500:
a refused request gets a 4xx with a polite message, a Redis fault a 503.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path

import redis.exceptions
from aiohttp import web

from bot.metered import MeteredService, MeteredSink
from bot.ops_http import add_ops_routes, readiness
from bot.runtime import Runtime
from bot.web.api import ApiError, ChatApi, json_response
from bot.web.limits import RateLimit
from bot.web.session import SessionSigner, load_signing_key
from bot.web.transcript import Transcript, TranscriptSink
from flows.reminders_time import china_today
from flows.service import ConversationService
from flows.store import ConversationStore

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024
BUSY = "系统繁忙，请稍后再试。"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# name -> content type of the files under bot/web/static; nothing else is served.
STATIC_FILES = {
    "index.html": "text/html",
    "app.js": "text/javascript",
    "view.js": "text/javascript",
    "app.css": "text/css",
    "icon.svg": "image/svg+xml",
}


@dataclass(frozen=True, slots=True)
class WebConfig:
    """Settings of the web process (environment: see bot.web.server.config_from_env)."""

    session_key: str | None = None
    rate: RateLimit = field(default_factory=RateLimit)
    rules_dir: Path | None = None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# The app's conversation service, for the process to register with the rule reloader.
SERVICE = web.AppKey("service", ConversationService)


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn refusals and faults into polite JSON; never a 500."""
    try:
        return await handler(request)
    except ApiError as exc:
        return json_response({"error": exc.message}, exc.status, exc.headers)
    except web.HTTPException:
        raise  # 404, 405, 413 from aiohttp itself
    except (redis.exceptions.RedisError, OSError) as exc:
        log.warning("%s %s: storage unavailable: %r", request.method, request.path, exc)
        return json_response({"error": BUSY}, 503, {"Retry-After": "5"})
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return json_response({"error": BUSY}, 503)


@web.middleware
async def _same_origin(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A POST must come from this page (browsers send Origin with every POST from a page).

    Host names are compared without ports (a proxy's Host often has none; cookies do not
    separate ports either); behind a proxy that rewrites Host, X-Forwarded-Host counts."""
    origin = request.headers.get("Origin")
    if request.method == "POST" and origin is not None:
        ours = {_hostname(request.host), _hostname(request.headers.get("X-Forwarded-Host", "").split(",")[0])}
        if _hostname(origin.split("://", 1)[-1]) not in ours - {""}:
            return json_response({"error": "请从本站页面发送。"}, 403)
    return await handler(request)


def _hostname(host: str) -> str:
    """"example.org:8000" -> "example.org"; "[::1]:80" -> "::1"."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


async def _headers(_request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", "no-store")


def _static(name: str) -> web.Response:
    body = resources.files("bot.web").joinpath("static", name).read_bytes()

    async def serve(_request: web.Request) -> web.Response:
        return web.Response(body=body, content_type=STATIC_FILES[name], headers={"Cache-Control": "no-cache"})

    return serve  # type: ignore[return-value]


async def make_web_app(runtime: Runtime, config: WebConfig | None = None,
                       clock: Callable[[], date] = china_today) -> web.Application:
    """The web chat application on `runtime`'s Redis, store and dialog."""
    config = config or WebConfig()
    keys = runtime.store.keys
    key = await load_signing_key(runtime.redis, f"{keys.prefix}:web:session-key", config.session_key)
    transcript = Transcript(runtime.redis, keys, runtime.store.config.ttl)
    # The web's own store: the same keys and scripts, with the session rate as its flood limit
    # (web conversations are submitted only here). Over it a request gets 429, no notice.
    store = ConversationStore(runtime.redis, keys, config.rate.store_config(runtime.store.config))
    service = ConversationService(store, runtime.dialog, MeteredSink(TranscriptSink(transcript)), clock=clock,
                                  flood_notice=None)
    api = ChatApi(MeteredService(service, "web"), transcript, SessionSigner(key), runtime.dialog.deeplink_key)
    app = web.Application(client_max_size=MAX_BODY, middlewares=[_errors, _same_origin])
    app[SERVICE] = service
    app.on_response_prepare.append(_headers)
    index = _static("index.html")
    app.router.add_get("/", index)
    for name in STATIC_FILES:
        app.router.add_get(f"/static/{name}", _static(name))
    add_ops_routes(app, readiness(runtime.redis, service))  # /healthz, /readyz (Redis, rules), /metrics
    app.router.add_get("/api/history", api.history)
    app.router.add_post("/api/start", api.start)
    app.router.add_post("/api/message", api.message)
    app.router.add_post("/api/restart", api.restart)
    return app
