"""The few WeChat server APIs the adapter calls: the access token and customer-service messages.

The access token is shared by every worker through Redis. It is fetched with
`stable_token` (获取稳定版接口调用凭据,
https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/getStableAccessToken.html)
under a Redis lock, so one worker fetches while the others wait and then read it, and
cached for its lifetime minus a margin: WeChat hands out the next token in the last
five minutes of the old one (normal mode), so it is renewed before it expires.
A call rejected with 40001 / 42001 / 40014 (invalid, expired, malformed token) refreshes
once: under the lock, only if the cache still holds the rejected token (otherwise
another worker already refreshed), then the call is retried once. Force-refresh mode
(20 a day, meant for leaked tokens) is never used.

客服消息 (https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html):
POST /cgi-bin/message/custom/send, allowed within 48 hours of the user's last message.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
from redis.asyncio import Redis

log = logging.getLogger(__name__)

OFFICIAL_API_BASE = "https://api.weixin.qq.com"
TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # invalid / malformed / expired access_token
WINDOW_CLOSED = 45015  # "response out of time limit": the 48-hour window is closed
_MARGIN = 300  # seconds before expiry to stop using a token
_LOCK_TIMEOUT = 10.0
_TIMEOUT = aiohttp.ClientTimeout(total=10)


class WeChatApiError(Exception):
    """WeChat answered with a non-zero errcode (or not at all)."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatApi:
    """Calls WeChat's server API for one official account, sharing its token through Redis."""

    def __init__(self, session: aiohttp.ClientSession, redis: Redis, app_id: str, app_secret: str, *,
                 api_base: str = OFFICIAL_API_BASE, key_prefix: str = "yb") -> None:
        self._session = session
        self._redis = redis
        self._app_id = app_id
        self._secret = app_secret
        self._base = api_base.rstrip("/")
        tag = f"{key_prefix}:{{wx:{app_id}}}"
        self.token_key = f"{tag}:token"
        self._lock_key = f"{tag}:token-lock"

    async def access_token(self) -> str:
        """The shared token: from Redis, or fetched by one worker under the lock."""
        cached = await self._redis.get(self.token_key)
        if cached:
            return cached.decode() if isinstance(cached, bytes) else str(cached)
        return await self.refresh(None)

    async def refresh(self, rejected: str | None) -> str:
        """Fetch a new token unless another worker already replaced `rejected` (or filled an empty cache)."""
        async with self._redis.lock(self._lock_key, timeout=_LOCK_TIMEOUT, blocking_timeout=_LOCK_TIMEOUT,
                                    sleep=0.02):
            raw = await self._redis.get(self.token_key)
            current = raw.decode() if isinstance(raw, bytes) else raw
            if current and current != rejected:
                return str(current)
            doc = await self._post("/cgi-bin/stable_token", {
                "grant_type": "client_credential", "appid": self._app_id, "secret": self._secret,
                "force_refresh": False,
            })
            token = doc.get("access_token")
            if not isinstance(token, str) or not token:
                raise WeChatApiError(-1, "stable_token answered without access_token")
            expires_in = int(doc.get("expires_in") or 7200)
            ttl = max(1, expires_in - min(_MARGIN, expires_in // 2))
            await self._redis.set(self.token_key, token, ex=ttl)
            log.info("WeChat access token refreshed (valid %ss, cached %ss)", expires_in, ttl)
            return token

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST `body` to `path` with the access token; one refresh and retry on a token error."""
        token = await self.access_token()
        try:
            return await self._post(path, body, token)
        except WeChatApiError as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            log.warning("access token rejected (%s); refreshing once", exc.errcode)
        token = await self.refresh(token)
        return await self._post(path, body, token)

    async def send_text(self, openid: str, text: str) -> None:
        """A customer-service text message; WeChatApiError(45015) when the 48-hour window is closed."""
        await self.call("/cgi-bin/message/custom/send",
                        {"touser": openid, "msgtype": "text", "text": {"content": text}})

    async def _post(self, path: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        params = {"access_token": token} if token else None
        # WeChat reads UTF-8 JSON; keep Chinese unescaped like its own samples.
        data = json.dumps(body, ensure_ascii=False).encode()
        try:
            async with self._session.post(self._base + path, params=params, data=data, timeout=_TIMEOUT,
                                          headers={"Content-Type": "application/json"}) as resp:
                doc = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise WeChatApiError(-1, f"{path}: {type(exc).__name__}") from None
        if not isinstance(doc, dict):
            raise WeChatApiError(-1, f"{path}: not a JSON object")
        errcode = int(doc.get("errcode") or 0)
        if errcode:
            raise WeChatApiError(errcode, str(doc.get("errmsg", "")))
        return doc
