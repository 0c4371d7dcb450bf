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

import redis.exceptions
from aiohttp import web

from bot.metered import MeteredService, MeteredSink
from bot.ops_http import add_ops_routes, readiness
from bot.runtime import Runtime
from bot.web.api import ApiError, ChatApi, json_response
from bot.web.limits import RateLimit, RateLimiter
from bot.web.session import SessionSigner, load_signing_key
from bot.web.transcript import Transcript, TranscriptSink

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
    """Tunables of the web adapter (environment: WEB_SESSION_KEY, WEB_RATE, WEB_RATE_WINDOW_S)."""

    session_key: str | None = None
    rate: RateLimit = field(default_factory=RateLimit)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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

    Behind a reverse proxy that rewrites Host, the public host arrives as X-Forwarded-Host."""
    origin = request.headers.get("Origin")
    if request.method == "POST" and origin is not None:
        hosts = {request.host, request.headers.get("X-Forwarded-Host", "").split(",")[0].strip()}
        if origin.split("://", 1)[-1] not in hosts:
            return json_response({"error": "请从本站页面发送。"}, 403)
    return await handler(request)


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
                       clock: Callable[[], date] = date.today) -> web.Application:
    """The web chat application on `runtime`'s Redis, store and dialog."""
    config = config or WebConfig()
    keys = runtime.store.keys
    key = await load_signing_key(runtime.redis, f"{keys.prefix}:web:session-key", config.session_key)
    transcript = Transcript(runtime.redis, keys, runtime.store.config.ttl)
    service = runtime.make_service(MeteredSink(TranscriptSink(transcript)), clock=clock)
    api = ChatApi(MeteredService(service, "web"), transcript, RateLimiter(runtime.redis, config.rate),
                  SessionSigner(key), runtime.dialog.deeplink_key)
    app = web.Application(client_max_size=MAX_BODY, middlewares=[_errors, _same_origin])
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
