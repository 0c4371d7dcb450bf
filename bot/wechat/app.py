"""The WeChat message-push endpoint (aiohttp): verify, decrypt, answer within WeChat's 5 seconds.

GET  `path`: server verification - `echostr` back when `signature` matches (else 403), the
`timestamp` is fresh and the signed query was never used before (else 403; bot.wechat.freshness).
POST `path`: a pushed message. Order of checks, each failing before anything is stored:
signature (403), a `timestamp` within 5 minutes of now (403: a recorded request replayed
later; WeChat's own retries come within seconds), body size and XML (400; defusedxml, no DTD
or entities), in safe mode `msg_signature` and decryption (403 / 400), required fields (400),
then the signed query must not have carried another message before (403, bot.wechat.freshness).
Then the user's 48-hour window is noted, the retry record decides whether this delivery is new
(bot.wechat.retries), and the event goes to the conversation service.

The 5-second rule: the reply is awaited for `reply_seconds` (4.5 s). In time, it is the
passive reply (encrypted in safe mode). Late, the request answers "success" (WeChat then
neither retries nor shows an error) and the reply follows as a customer-service message.
When another worker is draining this conversation, the service answers there, through
its sink - also a customer-service message. Nothing a request carries can make the
handler fail: unexpected errors are logged and answered "success" (no retry storm; a
verification is answered unrecorded: it only echoes `echostr`).
Refusals are counted in `yibao_dropped_updates_total` by reason.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from bot.metrics import DROPPED_UPDATES, ERRORS
from bot.ops_http import Check, add_ops_routes
from bot.wechat.crypto import CryptoError, MessageCrypto, signature_ok
from bot.wechat.freshness import VERIFY, SignedOnce, Use, fresh
from bot.wechat.outbox import (
    CHOICES_TTL,
    WINDOW_SECONDS,
    WeChatOutbox,
    conversation_id,
    decode_choices,
    encode_choices,
)
from bot.wechat.reminders import WeChatReminders
from bot.wechat.retries import PushKeys, RetryRecords, Seen
from bot.wechat.translate import NotAMessage, Pushed, to_event
from bot.wechat.xmlmsg import MAX_BODY, BadXml, encrypted_envelope, parse_fields, text_reply
from flows.messages import InEvent, OutMessage

log = logging.getLogger(__name__)

SUCCESS = "success"


def _refuse(status: int, text: str, reason: str) -> web.Response:
    DROPPED_UPDATES.labels(reason).inc()
    return web.Response(status=status, text=text)


class Handler(Protocol):
    """The conversation service (flows.service.ConversationService)."""

    async def handle(self, event: InEvent) -> list[OutMessage]: ...


@dataclass(frozen=True, slots=True)
class WeChatEndpoint:
    """What the endpoint needs to know about the account."""

    token: str
    app_id: str
    crypto: MessageCrypto | None = None  # safe mode when set
    path: str = "/wechat"
    reply_seconds: float = 4.5


class WeChatReceiver:
    """Handles GET verification and POSTed messages for one official account."""

    def __init__(self, endpoint: WeChatEndpoint, service: Handler, outbox: WeChatOutbox,
                 reminders: WeChatReminders | None = None) -> None:
        self.endpoint = endpoint
        self.service = service
        self.outbox = outbox
        self.reminders = reminders  # due reminders are shown with the reply to a follower's message
        self.retries = RetryRecords(outbox.redis)
        self.once = SignedOnce(outbox.redis, outbox.keys.prefix, endpoint.app_id)
        self._background: set[asyncio.Task[None]] = set()

    # --- GET ------------------------------------------------------------------------------
    async def verify(self, request: web.Request) -> web.Response:
        q = request.query
        if not self._signed(request):
            return _refuse(403, "bad signature", "wechat_signature")
        if not fresh(q.get("timestamp", ""), time.time()):
            return _refuse(403, "stale timestamp", "wechat_stale")
        try:
            use = await self._use(request, VERIFY)
        except Exception:  # Redis away: signed and fresh is enough for a verification (it only echoes)
            ERRORS.labels("wechat").inc()
            log.exception("recording a WeChat verification failed; answering it unrecorded")
            use = Use.FIRST
        if use is not Use.FIRST:
            return _refuse(403, "signed query already used", "wechat_replay")
        return web.Response(text=q.get("echostr", ""))

    async def _use(self, request: web.Request, carries: str) -> Use:
        q = request.query
        return await self.once.use(q.get("signature", ""), q.get("timestamp", ""), carries, time.time())

    def _signed(self, request: web.Request) -> bool:
        q = request.query
        return signature_ok(q.get("signature"), self.endpoint.token, q.get("timestamp", ""), q.get("nonce", ""))

    # --- POST -----------------------------------------------------------------------------
    async def receive(self, request: web.Request) -> web.Response:
        started = time.monotonic()
        if not self._signed(request):
            return _refuse(403, "bad signature", "wechat_signature")
        if not fresh(request.query.get("timestamp", ""), time.time()):
            return _refuse(403, "stale timestamp", "wechat_stale")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _refuse(400, "body over 64 KB", "wechat_too_large")
        try:
            fields = parse_fields(body)
            if self.endpoint.crypto is not None:
                fields = self._decrypt(request, fields)
            pushed = Pushed.read(fields)
        except CryptoError:
            return _refuse(403, "bad msg_signature or ciphertext", "wechat_crypto")
        except (BadXml, NotAMessage) as exc:
            return _refuse(400, str(exc), "wechat_malformed")
        try:
            if await self._use(request, f"{pushed.openid}\x00{pushed.dedupe}") is Use.OTHER:
                return _refuse(403, "signed query already used", "wechat_replay")
            reply = await self._answer(pushed, fields, started)
        except Exception:
            ERRORS.labels("wechat").inc()
            log.exception("answering a WeChat push failed")
            return web.Response(text=SUCCESS)
        if reply is None:
            return web.Response(text=SUCCESS)
        return self._reply_response(request, reply)

    def _decrypt(self, request: web.Request, outer: dict[str, str]) -> dict[str, str]:
        crypto = self.endpoint.crypto
        assert crypto is not None
        encrypt = outer.get("Encrypt")
        if not encrypt:
            raise BadXml("safe mode: no Encrypt field")
        q = request.query
        inner = crypto.decrypt_checked(q.get("msg_signature"), q.get("timestamp", ""), q.get("nonce", ""), encrypt)
        return parse_fields(inner)

    def _reply_response(self, request: web.Request, reply: bytes) -> web.Response:
        crypto = self.endpoint.crypto
        if crypto is None:
            return web.Response(body=reply, content_type="application/xml")
        nonce = request.query.get("nonce") or secrets.token_hex(5)
        sealed = crypto.encrypt_reply(reply, str(int(time.time())), nonce)
        return web.Response(body=encrypted_envelope(sealed), content_type="application/xml")

    async def _answer(self, pushed: Pushed, fields: dict[str, str], started: float) -> bytes | None:
        """The passive reply body for this push, or None to answer "success"."""
        cid = conversation_id(self.endpoint.app_id, pushed.openid)
        keys = self.outbox.push_keys(cid, pushed.dedupe)
        arrival = await self.retries.arrive(keys, WINDOW_SECONDS)
        if arrival.seen is Seen.REPLIED:
            return arrival.reply
        if arrival.seen is Seen.BUSY:
            return None
        try:
            event = to_event(self.endpoint.app_id, pushed, fields, decode_choices(arrival.choices))
            if event is None:
                return None
            return await self._run(event, pushed, keys, started)
        except Exception:
            await self.retries.forget(keys)  # let WeChat's retry try again (the core dedupes)
            raise

    async def _run(self, event: InEvent, pushed: Pushed, keys: PushKeys, started: float) -> bytes | None:
        silent = event.text == "/cancel" and pushed.msg_type == "event"  # unsubscribed: nobody to tell
        task = asyncio.create_task(self.service.handle(event))
        remaining = self.endpoint.reply_seconds - (time.monotonic() - started)
        done, _ = await asyncio.wait({task}, timeout=max(0.0, remaining))
        if task in done:
            messages = task.result()
            if not messages or silent:
                return None
            messages = await self._with_reminders(event, messages)
            rendered = await self.outbox.render_turn(event.conversation_id, messages, remember=False)
            body = text_reply(pushed.openid, pushed.account, rendered.text, int(time.time()))
            if await self.retries.finish(keys, body, encode_choices(rendered.choices), CHOICES_TTL):
                return body
            await self.outbox.send_text(pushed.openid, rendered.text)  # WeChat retried meanwhile
            return None
        await self.retries.hand_over(keys)
        if not silent:
            self._finish_later(task, event)
        return None

    async def _with_reminders(self, event: InEvent, messages: list[OutMessage]) -> list[OutMessage]:
        """Due reminders that waited for this follower's message (48-hour window closed), then the reply."""
        if self.reminders is None:
            return messages
        try:
            return [*await self.reminders.due_for(event.conversation_id), *messages]
        except Exception:
            log.exception("reading due reminders failed; the reply goes without them")
            return messages

    def _finish_later(self, task: asyncio.Task[list[OutMessage]], event: InEvent) -> None:
        async def send_when_done() -> None:
            try:
                messages = await task
            except Exception:
                log.exception("a slow WeChat turn failed")
                return
            if messages:
                await self.outbox.deliver(event, await self._with_reminders(event, messages))

        follow = asyncio.create_task(send_when_done())
        self._background.add(follow)
        follow.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Wait for replies still on their way as customer-service messages."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)


def make_app(receiver: WeChatReceiver, checks: Mapping[str, Check] | None = None) -> web.Application:
    """The aiohttp application: the push endpoint plus /healthz, /readyz and /metrics (bot.ops_http)."""
    app = web.Application(client_max_size=MAX_BODY)
    path = receiver.endpoint.path
    app.router.add_get(path, receiver.verify)
    app.router.add_post(path, receiver.receive)
    add_ops_routes(app, checks)

    async def on_shutdown(_app: web.Application) -> None:
        await receiver.drain()

    app.on_shutdown.append(on_shutdown)
    return app
