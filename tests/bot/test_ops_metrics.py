"""The metrics every adapter shares: reply kinds, reminder passes, and the exposition /metrics serves."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.metered import count_reminder_pass, count_replies, reply_kind
from bot.metrics import REMINDERS_LATE, REMINDERS_SENT, REPLIES
from bot.ops_http import add_ops_routes
from flows.messages import Button, OutMessage


def test_reply_kinds() -> None:
    assert reply_kind(OutMessage("答复")) == "text"
    assert reply_kind(OutMessage("类型？", buttons=((Button("职工", "t:employee"),),))) == "buttons"
    assert reply_kind(OutMessage("私聊", private_payload="r650100-abc")) == "handoff"


async def test_counters_show_on_metrics_and_readyz_reports_failing_checks() -> None:
    before = REPLIES.labels("handoff")._value.get()
    sent, late = REMINDERS_SENT._value.get(), REMINDERS_LATE._value.get()
    count_replies([OutMessage("私聊", private_payload="p"), OutMessage("a")])
    count_reminder_pass(due=3, sent=2, late=1)
    assert REPLIES.labels("handoff")._value.get() == before + 1
    assert (REMINDERS_SENT._value.get(), REMINDERS_LATE._value.get()) == (sent + 2, late + 1)

    async def broken() -> str | None:
        return "redis: ConnectionError"

    async def fine() -> str | None:
        return None

    app = web.Application()
    add_ops_routes(app, {"redis": broken, "rules": fine})
    async with TestClient(TestServer(app)) as client:
        metrics = await client.get("/metrics")
        text = await metrics.text()
        assert metrics.status == 200 and 'yibao_replies_total{kind="handoff"}' in text
        assert "yibao_reminders_late_total" in text and "yibao_outbound_429_total" in text
        ready = await client.get("/readyz")
        assert ready.status == 503
        assert await ready.json() == {"ready": False, "checks": {"redis": "redis: ConnectionError", "rules": "ok"}}
        assert (await client.get("/healthz")).status == 200
