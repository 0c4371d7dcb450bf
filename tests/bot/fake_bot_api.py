"""A local HTTP server that speaks enough of the Telegram Bot API for end-to-end tests.

It runs on 127.0.0.1 on a random port (aiohttp.web), records every call, keeps the
messages the bot sent (so edits can be checked), serves getUpdates with real long
polling (offset/limit/timeout honoured), can push updates to a registered webhook
(one at a time, like Telegram, with the secret-token header), and answers 429 on
demand. Test helpers build user messages and button presses and wait for replies.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.redis_servers import free_port, port_range

# Parameters that clients send JSON-encoded inside form fields.
_JSON_FIELDS = {"reply_markup", "allowed_updates", "commands", "entities", "reply_parameters",
                "link_preview_options", "scope"}
_INT_FIELDS = {"chat_id", "message_id", "message_thread_id", "offset", "limit", "timeout",
               "reply_to_message_id", "max_connections"}


@dataclass(slots=True)
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    at: float  # time.monotonic()
    status: int = 200


@dataclass(slots=True)
class _Failure:
    method: str
    chat_id: int | None
    retry_after: int
    remaining: int


@dataclass(slots=True)
class User:
    """A Telegram user the tests act as."""

    id: int
    first_name: str
    username: str | None = None

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            doc["username"] = self.username
        return doc


@dataclass(slots=True)
class Chat:
    """A chat the tests talk in: private (id == user id) or a (forum) supergroup."""

    id: int
    type: str = "private"
    title: str | None = None
    is_forum: bool = False

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.title:
            doc["title"] = self.title
        if self.is_forum:
            doc["is_forum"] = True
        return doc


@dataclass
class FakeBotApi:
    """The server; use `async with FakeBotApi(...) as api:`; `api.base` is its base URL."""

    token: str = "123456789:AAFakeTokenForTestsOnly_abcdefghijk"
    bot_id: int = 123456789
    bot_username: str = "yibao_test_bot"
    calls: list[Call] = field(default_factory=list)
    base: str = ""
    webhook: dict[str, Any] | None = None
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _update_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _message_ids: itertools.count = field(default_factory=lambda: itertools.count(1000))
    _messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    _failures: list[_Failure] = field(default_factory=list)
    _holds: list[tuple[str, float]] = field(default_factory=list)
    _polls_released: bool = False
    on_call: Callable[[Call], None] | None = None  # benchmarks: told of every successful call
    blocked: set[int] = field(default_factory=set)  # chats whose user blocked the bot: sendMessage -> 403
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _runner: web.AppRunner | None = None
    _push_task: asyncio.Task[None] | None = None

    # --- lifecycle -------------------------------------------------------------------
    async def __aenter__(self) -> FakeBotApi:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", free_port() if port_range() else 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._push_task:
            self._push_task.cancel()
        async with self._changed:
            self._changed.notify_all()
        if self._runner:
            await self._runner.cleanup()

    @property
    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "医保助手", "username": self.bot_username,
                "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    # --- test controls ---------------------------------------------------------------
    def fail_next(self, method: str, *, retry_after: int = 1, chat_id: int | None = None,
                  times: int = 1) -> None:
        """Answer the next `times` calls of `method` (for `chat_id`, if given) with a 429."""
        self._failures.append(_Failure(method, chat_id, retry_after, times))

    async def release_polls(self) -> None:
        """Answer pending and future getUpdates at once (a bot shutting down need not wait)."""
        self._polls_released = True
        await self._notify()

    def hold_next(self, method: str, seconds: float) -> None:
        """Answer the next call of `method` only after `seconds` (a slow Bot API)."""
        self._holds.append((method, seconds))

    async def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update (getUpdates serves it, or it is pushed to the webhook)."""
        update = {"update_id": next(self._update_ids), **update}
        async with self._changed:
            self._updates.append(update)
            self._changed.notify_all()
        return update

    async def push_raw(self, update: dict[str, Any]) -> None:
        """Queue an update as is (same update_id: Telegram delivering it again)."""
        async with self._changed:
            self._updates.append(dict(update))
            self._changed.notify_all()

    @property
    def pending(self) -> int:
        """Updates not yet confirmed by getUpdates' offset or delivered to the webhook."""
        return len(self._updates)

    def message_update(self, user: User, chat: Chat, text: str, *, thread_id: int | None = None,
                       reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
        """A `message` update body as Telegram would send it (entities for /commands, @mentions)."""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids), "date": int(time.time()),
            "chat": chat.as_dict(), "from": user.as_dict(), "text": text,
        }
        entities = _entities(text)
        if entities:
            message["entities"] = entities
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        return {"message": message}

    async def say(self, user: User, chat: Chat, text: str, **kwargs: Any) -> dict[str, Any]:
        """A user writes `text` in `chat`; returns the queued update."""
        return await self.push(self.message_update(user, chat, text, **kwargs))

    def press_update(self, user: User, message: dict[str, Any], payload: str) -> dict[str, Any]:
        """A `callback_query` update: `user` presses the button with `payload` under `message`."""
        return {"callback_query": {
            "id": str(next(self._message_ids)), "from": user.as_dict(), "chat_instance": "ci",
            "message": message, "data": payload,
        }}

    async def press(self, user: User, message: dict[str, Any], payload: str) -> dict[str, Any]:
        """A user presses a button of a message the bot sent."""
        return await self.push(self.press_update(user, message, payload))

    def sent(self, chat_id: int | None = None, thread_id: int | None = None) -> list[dict[str, Any]]:
        """Messages the bot has sent (current content, after edits), oldest first."""
        out = [m for (cid, _), m in sorted(self._messages.items(), key=lambda kv: kv[0][1])
               if m["from"]["id"] == self.bot_id and (chat_id is None or cid == chat_id)]
        if thread_id is not None:
            out = [m for m in out if m.get("message_thread_id") == thread_id]
        return out

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.status == 200]

    async def wait_for(self, predicate: Callable[[], Any], within: float = 10.0) -> Any:
        """Wait until `predicate()` is truthy (re-checked on every call); returns its value."""
        async with asyncio.timeout(within):
            async with self._changed:
                while not (result := predicate()):
                    await self._changed.wait()
                return result

    async def replies(self, chat_id: int, count: int, *, after: int = 0, thread_id: int | None = None,
                      within: float = 10.0) -> list[dict[str, Any]]:
        """Wait until the bot has sent at least `after + count` messages to the chat; return the new ones."""
        def ready() -> list[dict[str, Any]] | None:
            got = self.sent(chat_id, thread_id)
            return got[after:] if len(got) >= after + count else None
        try:
            return await self.wait_for(ready, within)
        except TimeoutError:
            got = [m.get("text") for m in self.sent(chat_id, thread_id)[after:]]
            raise AssertionError(f"expected {count} replies in chat {chat_id}, got {got}") from None

    # --- HTTP ------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            raw: dict[str, Any] = await request.json()
        elif request.can_read_body:
            raw = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        else:
            raw = dict(request.query)
        params: dict[str, Any] = {}
        for key, value in raw.items():
            if isinstance(value, str) and key in _JSON_FIELDS:
                value = json.loads(value)
            elif isinstance(value, str) and key in _INT_FIELDS:
                value = int(value) if value.lstrip("-").isdigit() else value
            elif isinstance(value, str) and value in ("true", "false", "True", "False"):
                value = value.lower() == "true"
            params[key] = value
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        call = Call(method, params, time.monotonic())
        if request.match_info["token"] != self.token:
            call.status = 401
            self.calls.append(call)
            return _error(401, "Unauthorized")
        failure = next((f for f in self._failures if f.method == method and f.remaining > 0
                        and (f.chat_id is None or f.chat_id == params.get("chat_id"))), None)
        if failure is not None:
            failure.remaining -= 1
            call.status = 429
            self.calls.append(call)
            await self._notify()
            return _error(429, f"Too Many Requests: retry after {failure.retry_after}",
                          {"retry_after": failure.retry_after})
        self.calls.append(call)
        hold = next((h for h in self._holds if h[0] == method), None)
        if hold is not None:
            self._holds.remove(hold)
            await self._notify()
            await asyncio.sleep(hold[1])
        handler = getattr(self, f"_m_{method.lower()}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        result = await handler(params)
        if self.on_call is not None:
            self.on_call(call)
        await self._notify()
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- methods ---------------------------------------------------------------------
    async def _m_getme(self, params: dict[str, Any]) -> Any:
        return self.bot_user

    async def _m_getupdates(self, params: dict[str, Any]) -> Any:
        if self.webhook:
            return _error(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        async with self._changed:
            if offset:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            try:
                async with asyncio.timeout(timeout):
                    while not self._updates and not self._polls_released:
                        await self._changed.wait()
            except TimeoutError:
                pass
            return self._updates[:limit]

    async def _m_sendmessage(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        if chat_id in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        message: dict[str, Any] = {
            "message_id": next(self._message_ids), "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "from": self.bot_user, "text": params["text"],
        }
        if params.get("message_thread_id") is not None:
            message["message_thread_id"] = params["message_thread_id"]
            message["is_topic_message"] = True
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self._messages[(chat_id, message["message_id"])] = message
        return message

    def _stored(self, params: dict[str, Any]) -> dict[str, Any] | web.Response:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self._messages:
            return _error(400, "Bad Request: message to edit not found")
        return self._messages[key]

    async def _m_editmessagetext(self, params: dict[str, Any]) -> Any:
        message = self._stored(params)
        if isinstance(message, web.Response):
            return message
        markup = params.get("reply_markup") or None
        if message["text"] == params["text"] and message.get("reply_markup") == markup:
            return _error(400, "Bad Request: message is not modified")
        message["text"] = params["text"]
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        return message

    async def _m_editmessagereplymarkup(self, params: dict[str, Any]) -> Any:
        message = self._stored(params)
        if isinstance(message, web.Response):
            return message
        markup = params.get("reply_markup") or None
        if message.get("reply_markup") == markup:
            return _error(400, "Bad Request: message is not modified")
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        return message

    async def _m_answercallbackquery(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_setmycommands(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_deletewebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        if self._push_task:
            self._push_task.cancel()
            self._push_task = None
        return True

    async def _m_setwebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = params
        if self._push_task is None:
            self._push_task = asyncio.create_task(self._push_loop())
        return True

    async def _m_getwebhookinfo(self, params: dict[str, Any]) -> Any:
        return {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}

    async def _m_close(self, params: dict[str, Any]) -> Any:
        return True

    async def _push_loop(self) -> None:
        """Deliver queued updates to the webhook one at a time, retrying on failure (as Telegram)."""
        async with aiohttp.ClientSession() as session:
            while True:
                async with self._changed:
                    while not self._updates or not self.webhook:
                        await self._changed.wait()
                    update, hook = self._updates[0], dict(self.webhook)
                headers = {}
                if hook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
                try:
                    async with session.post(hook["url"], json=update, headers=headers) as resp:
                        delivered = resp.status == 200
                except aiohttp.ClientError:
                    delivered = False
                if delivered:
                    async with self._changed:
                        self._updates.remove(update)
                else:
                    await asyncio.sleep(0.1)


def _error(code: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=code)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _entities(text: str) -> list[dict[str, Any]]:
    """bot_command and mention entities, with offsets in UTF-16 code units as Telegram counts."""
    entities: list[dict[str, Any]] = []
    position = 0
    for word in text.split(" "):
        kind = "bot_command" if word.startswith("/") and position == 0 else (
            "mention" if word.startswith("@") and len(word) > 1 else None)
        if kind and len(word) > 1:
            entities.append({"type": kind, "offset": _utf16_len(text[:position]), "length": _utf16_len(word)})
        position += len(word) + 1
    return entities
