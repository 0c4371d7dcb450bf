"""The JSON API behind the page: HTTP JSON in, `InEvent`s to the core, transcript entries out.

    GET  /api/history?since=N   entries after N (a new visitor gets a session cookie)
    POST /api/start   {"region": "650100", "src": "jiedao12"}   start, once per session
    POST /api/message {"text": "..."} | {"payload": "...", "label": "..."}, optional "id", "since"
    POST /api/restart {}          clear the page and start over

Every reply is {"entries": [...], "seq": N} or {"error": "<polite Chinese>"} with a 4xx
status. Nothing here decides what to say: the region link becomes the same signed start
payload a Telegram deep link carries, and the dialog in `flows` does the rest.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from aiohttp import web

from bot.web.session import COOKIE_NAME, SessionSigner
from bot.web.transcript import CURRENT, RESTART_PREFIX, SYSTEM_PREFIX, Exchange, Transcript
from flows.deeplink import StartContext, encode_start
from flows.messages import ChatKind, InEvent
from flows.service import SubmitOutcome, SubmitResult

PLATFORM = "web"
BOT_ID = "web"
MAX_TEXT = 2000  # characters of one message
MAX_PAYLOAD = 64  # bytes of a button payload, as on Telegram
MAX_LABEL = 64  # characters of the pressed button's label the page sends along (shown as the user's words)
QUEUED_WAIT_S = 5.0  # how long a request waits for another request of its session to answer it
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,40}$")
_REGION = re.compile(r"^[0-9]{6}$")
_SOURCE = re.compile(r"^[A-Za-z0-9_]{1,32}$")
_START = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

TOO_LONG = "消息太长了（最多 2000 字），请分几次发，或只说关键信息：地区、医保类型、断缴多久、原因。"
TOO_FAST = "您发得有点快，请稍等几秒再发。"
NOT_JSON = "请求格式不对，请刷新页面后再试。"
EMPTY = "请输入文字，或点一个按钮。"


class ApiError(Exception):
    """A request we answer with `status` and a polite message, changing nothing."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """A JSON response written by orjson (it handles the answer view's dates and dataclasses)."""
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json",
                        headers=headers)


class Submitter(Protocol):
    """The conversation service (flows.service.ConversationService, maybe metered)."""

    async def submit(self, event: InEvent) -> SubmitResult: ...


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who is asking: the session id, and whether the cookie must be (re)set."""

    session_id: str
    new: bool

    @property
    def conversation_id(self) -> str:
        return self.event("probe").conversation_id

    def event(self, update_id: str, *, text: str | None = None, payload: str | None = None,
              start_payload: str | None = None) -> InEvent:
        # A page cannot be sent anything once it is closed: can_push=False (no reminders promised).
        return InEvent(platform=PLATFORM, bot_id=BOT_ID, chat_id=self.session_id, user_id=self.session_id,
                       chat_kind=ChatKind.PRIVATE, update_id=update_id, text=text, payload=payload,
                       start_payload=start_payload, can_push=False)


class ChatApi:
    """Request handlers; one instance per app, sharing the core's service and store."""

    def __init__(self, service: Submitter, transcript: Transcript, signer: SessionSigner,
                 deeplink_key: str) -> None:
        # The service's store counts each session's messages against the web's rate (its flood
        # limit, see bot.web.limits): a message over it is refused in the call that would queue it.
        self.service = service
        self.transcript = transcript
        self.signer = signer
        self.deeplink_key = deeplink_key

    # ------------------------------------------------------------------ routes
    async def history(self, request: web.Request) -> web.Response:
        visitor = self._visitor(request)
        since = _int(request.query.get("since"), 0)
        return await self._reply(request, visitor, since)

    async def start(self, request: web.Request) -> web.Response:
        visitor = self._visitor(request)
        body = await _json_body(request)
        # A reload or a second tab of a started conversation starts nothing (a new session has nothing yet).
        entries = [] if visitor.new else await self.transcript.since(visitor.conversation_id, 0)
        if entries:
            return self._respond(request, visitor, entries, 0)
        payload = _signed_start(body.get("start")) or self._start_payload(body.get("region"), body.get("src"))
        event = visitor.event(f"{SYSTEM_PREFIX}start-{self.signer.new_id()}", text="/start", start_payload=payload)
        return await self._turn(request, visitor, event, 0)

    async def message(self, request: web.Request) -> web.Response:
        visitor = self._visitor(request)
        body = await _json_body(request)
        text, payload = body.get("text"), body.get("payload")
        if payload is not None:
            if not isinstance(payload, str) or not payload or len(payload.encode()) > MAX_PAYLOAD:
                raise ApiError(400, NOT_JSON)
            text = None
        elif not isinstance(text, str) or not text.strip():
            raise ApiError(400, EMPTY)
        elif len(text) > MAX_TEXT:
            raise ApiError(422, TOO_LONG)
        client_id = body.get("id")
        if not (isinstance(client_id, str) and _CLIENT_ID.match(client_id)):
            client_id = self.signer.new_id()
        event = visitor.event(f"m-{client_id}", text=text, payload=payload)
        label = body.get("label") if payload is not None else None
        label = label.strip()[:MAX_LABEL] if isinstance(label, str) else None
        return await self._turn(request, visitor, event, _int(body.get("since"), 0), label)

    async def restart(self, request: web.Request) -> web.Response:
        visitor = self._visitor(request)
        await _json_body(request)
        # The page is emptied by the write of the restart's own reply (see TranscriptSink): a
        # refused restart (429) leaves it as it was.
        event = visitor.event(f"{RESTART_PREFIX}{self.signer.new_id()}", text="/restart")
        return await self._turn(request, visitor, event, 0)

    # ----------------------------------------------------------------- helpers
    def _visitor(self, request: web.Request) -> Visitor:
        session_id = self.signer.verify(request.cookies.get(COOKIE_NAME))
        if session_id is None:
            return Visitor(self.signer.new_id(), new=True)
        return Visitor(session_id, new=False)

    async def _turn(self, request: web.Request, visitor: Visitor, event: InEvent, since: int,
                    label: str | None = None) -> web.Response:
        """Submit the event; reply with the page's new entries (`since`: what the page has)."""
        exchange = Exchange(event.update_id, since, label)
        token = CURRENT.set(exchange)
        try:
            result = await self.service.submit(event)
        finally:
            CURRENT.reset(token)
        if result.outcome is SubmitOutcome.THROTTLED:  # over the session's rate: nothing was queued
            raise ApiError(429, TOO_FAST, {"Retry-After": str(max(1, math.ceil(result.retry_after)))})
        if exchange.entries is not None:  # delivered in this request: the entries came back with the write
            return self._respond(request, visitor, exchange.entries, since)
        if result.outcome is SubmitOutcome.QUEUED:
            await self._await_answer(event)
        return await self._reply(request, visitor, since)

    async def _await_answer(self, event: InEvent) -> None:
        """Another request of this session is draining: wait (a little) until it has answered ours."""
        cid, loop = event.conversation_id, asyncio.get_running_loop()
        deadline = loop.time() + QUEUED_WAIT_S
        while loop.time() < deadline:
            entries = await self.transcript.since(cid, 0)
            if any(e.get("uid") == event.update_id for e in entries):
                return
            await asyncio.sleep(0.05)

    def _start_payload(self, region: Any, source: Any) -> str | None:
        """The link's region and source as a start payload; a malformed part is left out."""
        ctx = StartContext(
            region_code=region if isinstance(region, str) and _REGION.match(region) else None,
            source=source if isinstance(source, str) and _SOURCE.match(source) else None,
        )
        if ctx.region_code is None and ctx.source is None:
            return None
        return encode_start(ctx, self.deeplink_key)

    async def _reply(self, request: web.Request, visitor: Visitor, since: int) -> web.Response:
        entries = await self.transcript.since(visitor.conversation_id, since)
        return self._respond(request, visitor, entries, since)

    def _respond(self, request: web.Request, visitor: Visitor, entries: list[dict[str, Any]],
                 since: int) -> web.Response:
        seq = entries[-1]["seq"] if entries else since
        response = json_response({"entries": entries, "seq": seq})
        if visitor.new:
            set_session_cookie(request, response, self.signer.sign(visitor.session_id))
        return response


def set_session_cookie(request: web.Request, response: web.StreamResponse, value: str) -> None:
    """HttpOnly, SameSite=Strict, Secure when the page is served over HTTPS, 30 days."""
    secure = request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"
    response.set_cookie(COOKIE_NAME, value, max_age=30 * 86400, path="/", httponly=True,
                        samesite="Strict", secure=secure)


async def _json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object; ApiError 400 for anything else (413 comes from aiohttp)."""
    if request.content_type != "application/json":
        raise ApiError(400, NOT_JSON)
    raw = await request.read()
    try:
        body = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        raise ApiError(400, NOT_JSON) from None
    if not isinstance(body, dict):
        raise ApiError(400, NOT_JSON)
    return body


def _signed_start(value: Any) -> str | None:
    """A signed start payload from the link (`?start=`, e.g. the WeChat adapter's "details" link);
    the dialog checks its signature, so a forged one starts a normal conversation."""
    return value if isinstance(value, str) and _START.match(value) else None


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return max(0, value)
    if isinstance(value, str) and value.isdigit() and len(value) < 16:
        return int(value)
    return default
