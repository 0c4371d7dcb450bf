"""A local fake of WeChat's side of an official account, for end-to-end tests.

Both directions, over real HTTP on 127.0.0.1 (random ports):

* as WeChat's servers (aiohttp.web): `/cgi-bin/stable_token` hands out tokens,
  `/cgi-bin/message/custom/send` takes customer-service messages. Tokens can be
  expired on demand (42001 for the old one, like WeChat); an unknown token gets 40001.
  Every call is recorded.
* as WeChat pushing to the bot: `push` signs (and in safe mode encrypts, with
  wechatpy's implementation, a second one next to ours) a message, POSTs it, and
  like WeChat drops a request with no answer within `drop_after` seconds and sends it
  again, up to three retries. Passive replies are checked (MsgSignature, AppID) and
  decrypted.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import secrets
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from wechatpy.crypto import WeChatCrypto

TOKEN = "QDG6eK"
APP_ID = "wx5823bf96d3bd56c7"
APP_SECRET = "0123456789abcdef0123456789abcdef"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
ACCOUNT = "gh_7f083739789a"


def sign(*parts: str) -> str:
    """WeChat's signature, written independently of bot.wechat.crypto."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _cdata(value: Any) -> str:
    return f"<![CDATA[{value}]]>" if isinstance(value, str) else str(value)


def message_xml(fields: dict[str, Any]) -> str:
    return "<xml>" + "".join(f"<{k}>{_cdata(v)}</{k}>" for k, v in fields.items()) + "</xml>"


@dataclass(slots=True)
class Reply:
    """What the bot answered to one push (after retries, if any)."""

    status: int
    body: str  # the raw body (the envelope in safe mode)
    attempts: int
    fields: dict[str, str] = field(default_factory=dict)  # the (decrypted) reply's fields

    @property
    def content(self) -> str | None:
        return self.fields.get("Content")


@dataclass(slots=True)
class Sent:
    openid: str
    text: str
    token: str


class FakeWeChat:
    """WeChat's servers (token, custom/send) and its message push, in one object."""

    def __init__(self, token: str = TOKEN, app_id: str = APP_ID, secret: str = APP_SECRET,
                 aes_key: str | None = None) -> None:
        self.token, self.app_id, self.secret, self.aes_key = token, app_id, secret, aes_key
        self.crypto = WeChatCrypto(token, aes_key, app_id) if aes_key else None
        self.token_calls: list[dict[str, Any]] = []
        self.sent: list[Sent] = []
        self.pushes: list[tuple[str, int | None]] = []  # (MsgId or event, HTTP status or None = dropped)
        self.valid: set[str] = set()
        self.expired: set[str] = set()
        self._counter = itertools.count(1)
        self._msg_ids = itertools.count(6054768590064713728)
        self._sent_event = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base = ""

    # --- server side ------------------------------------------------------------------------
    async def __aenter__(self) -> FakeWeChat:
        app = web.Application()
        app.router.add_post("/cgi-bin/stable_token", self._stable_token)
        app.router.add_post("/cgi-bin/message/custom/send", self._custom_send)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"
        self.session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _stable_token(self, request: web.Request) -> web.Response:
        doc = await request.json()
        self.token_calls.append(doc)
        if doc.get("appid") != self.app_id or doc.get("secret") != self.secret:
            return web.json_response({"errcode": 40013, "errmsg": "invalid appid"})
        if not doc.get("force_refresh") and self.valid:
            current = sorted(self.valid)[-1]
            return web.json_response({"access_token": current, "expires_in": 7200})
        token = f"TOKEN{next(self._counter):04d}"
        self.valid.add(token)
        return web.json_response({"access_token": token, "expires_in": 7200})

    def expire_tokens(self) -> None:
        """Every token handed out so far now answers 42001 (the next stable_token gives a new one)."""
        self.expired |= self.valid
        self.valid.clear()

    async def _custom_send(self, request: web.Request) -> web.Response:
        token = request.query.get("access_token", "")
        if token in self.expired:
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        if token not in self.valid:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        doc = await request.json()
        self.sent.append(Sent(doc["touser"], doc["text"]["content"], token))
        self._sent_event.set()
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def wait_sent(self, count: int, within: float = 10.0) -> list[Sent]:
        """Wait until `count` customer-service messages arrived (in total)."""
        deadline = time.monotonic() + within
        while len(self.sent) < count:
            self._sent_event.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"expected {count} customer-service messages, got {len(self.sent)}")
            try:
                await asyncio.wait_for(self._sent_event.wait(), remaining)
            except TimeoutError:
                pass
        return self.sent

    # --- pushing to the bot -----------------------------------------------------------------
    def text(self, openid: str, content: str, msg_id: int | None = None) -> dict[str, Any]:
        return {"ToUserName": ACCOUNT, "FromUserName": openid, "CreateTime": int(time.time()),
                "MsgType": "text", "Content": content, "MsgId": msg_id or next(self._msg_ids)}

    def event(self, openid: str, event: str, key: str | None = None, create_time: int | None = None
              ) -> dict[str, Any]:
        doc: dict[str, Any] = {"ToUserName": ACCOUNT, "FromUserName": openid,
                               "CreateTime": create_time or int(time.time()), "MsgType": "event",
                               "Event": event}
        if key is not None:
            doc["EventKey"] = key
        return doc

    def other(self, openid: str, msg_type: str, **extra: Any) -> dict[str, Any]:
        return {"ToUserName": ACCOUNT, "FromUserName": openid, "CreateTime": int(time.time()),
                "MsgType": msg_type, **extra, "MsgId": next(self._msg_ids)}

    def signed_query(self, encrypt: str | None = None, openid: str = "", at: float | None = None
                     ) -> dict[str, str]:
        """A signed query, stamped now (like WeChat, each attempt anew) or at `at` (Unix seconds)."""
        timestamp, nonce = str(int(time.time() if at is None else at)), str(secrets.randbelow(10**9))
        query = {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
        if encrypt is not None:
            query.update(encrypt_type="aes", msg_signature=sign(self.token, timestamp, nonce, encrypt),
                         openid=openid)
        return query

    def sealed_body(self, fields: dict[str, Any], at: float | None = None) -> tuple[bytes, dict[str, str]]:
        """The POST body and query for `fields`, encrypted in safe mode, stamped now or at `at`."""
        plain = message_xml(fields)
        if self.crypto is None:
            return plain.encode(), self.signed_query(at=at)
        timestamp, nonce = str(int(time.time() if at is None else at)), str(secrets.randbelow(10**9))
        envelope = ET.fromstring(self.crypto.encrypt_message(plain, nonce, timestamp))
        encrypt = envelope.findtext("Encrypt") or ""
        body = message_xml({"ToUserName": ACCOUNT, "Encrypt": encrypt})
        query = {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
                 "encrypt_type": "aes", "msg_signature": sign(self.token, timestamp, nonce, encrypt),
                 "openid": str(fields.get("FromUserName", ""))}
        return body.encode(), query

    async def push(self, url: str, fields: dict[str, Any], *, drop_after: float = 5.0, retries: int = 3) -> Reply:
        """POST a message like WeChat: a request unanswered within `drop_after` seconds is dropped and sent again."""
        label = str(fields.get("MsgId") or fields.get("Event"))
        for attempt in range(1, retries + 2):
            body, query = self.sealed_body(fields)
            try:
                async with self.session.post(url, params=query, data=body,
                                             timeout=aiohttp.ClientTimeout(total=drop_after)) as resp:
                    text = await resp.text()
                    self.pushes.append((label, resp.status))
                    return Reply(resp.status, text, attempt, self._open(resp.status, text))
            except TimeoutError:
                self.pushes.append((label, None))
        return Reply(0, "", retries + 1)

    def _open(self, status: int, text: str) -> dict[str, str]:
        if status != 200 or not text.startswith("<xml>"):
            return {}
        root = ET.fromstring(text)
        if self.crypto is not None:
            signature = root.findtext("MsgSignature") or ""
            plain = self.crypto.decrypt_message(text, signature, root.findtext("TimeStamp"), root.findtext("Nonce"))
            root = ET.fromstring(plain)
        return {child.tag: child.text or "" for child in root}
