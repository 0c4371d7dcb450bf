"""`GET /healthz`, `/readyz` and `/metrics`, mounted on any aiohttp app.

The Telegram webhook listener, the web chat and the WeChat endpoint all call
`add_ops_routes(app, checks)` so an operator (or Kubernetes, or Docker's HEALTHCHECK)
probes every process the same way:

* `/healthz`: the process is alive and its event loop answers (liveness).
* `/readyz`: every readiness check passes (Redis answers PING, the rules are loaded);
  503 with the failing checks otherwise, so a load balancer stops sending traffic.
* `/metrics`: Prometheus text format (see bot.metrics for several processes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from bot.metrics import render

# A readiness check returns None when all is well, else a short reason.
Check = Callable[[], Awaitable[str | None]]
CHECK_TIMEOUT = 2.0  # seconds; a probe must answer well inside Kubernetes' default 1-10 s


def redis_check(redis: Any) -> Check:
    """Ready when Redis answers PING."""

    async def check() -> str | None:
        try:
            await redis.ping()
        except Exception as exc:  # any failure means "not ready"; the reason goes to the operator
            return f"redis: {type(exc).__name__}"
        return None

    return check


def rules_check(loaded: Callable[[], object | None]) -> Check:
    """Ready when `loaded()` returns the rules in use (not None)."""

    async def check() -> str | None:
        return None if loaded() is not None else "rules: not loaded"

    return check


async def _run(check: Check) -> str | None:
    try:
        return await asyncio.wait_for(check(), CHECK_TIMEOUT)
    except TimeoutError:
        return "timed out"


def add_ops_routes(app: web.Application, checks: Mapping[str, Check] | None = None) -> None:
    """Add GET /healthz, /readyz and /metrics to `app`."""
    named = dict(checks or {})

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_request: web.Request) -> web.Response:
        results = await asyncio.gather(*(_run(check) for check in named.values()))
        failed = {name: reason for name, reason in zip(named, results, strict=True) if reason}
        body = {"ready": not failed, "checks": {name: failed.get(name, "ok") for name in named}}
        return web.json_response(body, status=503 if failed else 200)

    async def metrics(_request: web.Request) -> web.Response:
        payload, content_type = render()
        return web.Response(body=payload, headers={"Content-Type": content_type})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)


def readiness(redis: Any, service: Any) -> dict[str, Check]:
    """The usual checks of a worker: Redis answers, and the service's dialog has its rules."""

    def rules() -> object | None:
        advisor = getattr(getattr(service, "dialog", None), "advisor", None)
        return getattr(advisor, "rulebook", None) if advisor is not None else None

    checks = {"redis": redis_check(redis)}
    if getattr(service, "dialog", None) is not None and hasattr(service.dialog, "advisor"):
        checks["rules"] = rules_check(rules)
    return checks
