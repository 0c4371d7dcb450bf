"""Everything the WeChat adapter sends, and the per-conversation facts sending needs.

* `render_turn` lays out a turn (bot.wechat.render), remembers its choices in Redis so
  any worker can read the user's next "2" or label, and builds the details link when
  the turn does not fit one reply.
* `WeChatOutbox` is the conversation service's `Sink` (replies drained by this worker for
  an update another worker received, or for a slow turn): customer-service messages.
* `send_custom_message` is what reminders call: it sends only inside the 48-hour window
  after the user's last message (recorded with every push, bot.wechat.retries) and
  otherwise returns False, so the caller keeps the reminder for the user's next message.

Keys live in the conversation's hash tag (`KeySpace.conversation`), so a conversation's
keys stay in one Redis Cluster slot.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from urllib.parse import quote

import orjson
from redis.asyncio import Redis

from bot.wechat.api import WINDOW_CLOSED, WeChatApi, WeChatApiError
from bot.wechat.render import Rendered, overflows, render
from bot.wechat.retries import PushKeys
from flows.deeplink import DEFAULT_KEY, StartContext, encode_start
from flows.messages import Button, InEvent, OutMessage
from flows.state import ConversationState
from flows.store import ConversationStore
from flows.store.keys import KeySpace

log = logging.getLogger(__name__)

PLATFORM = "wechat"
WINDOW_SECONDS = 48 * 3600  # 客服消息: within 48 hours of the user's last message
CHOICES_TTL = 24 * 3600
_LINK_SLOTS = ("insurance_type", "gap_months", "gap_since", "cause", "monthly_base", "years_paid", "gender")


def conversation_id(app_id: str, openid: str) -> str:
    """The conversation of one follower of one account (a WeChat chat is always one to one)."""
    return f"{PLATFORM}:{app_id}:{openid}:-:{openid}"


def continuation_link(web_base: str, state: ConversationState, key: str = DEFAULT_KEY) -> str | None:
    """A signed link to the web chat page that starts with this conversation's slots.

    The start payload (flows.deeplink) carries the region and the answers given so far,
    signed so it cannot be edited; it never carries the openid. None without a region.
    """
    region = state.slots.get("region")
    if not isinstance(region, str):
        return None
    slots = {name: state.slots[name] for name in _LINK_SLOTS if state.slots.get(name) is not None}
    try:
        payload = encode_start(StartContext(region_code=region, slots=slots), key)
    except ValueError:
        return None
    return f"{web_base.rstrip('/')}/?start={quote(payload)}"


def encode_choices(choices: Sequence[Button]) -> bytes:
    """Choices as stored between turns (b"" for none)."""
    return orjson.dumps([[b.label, b.payload] for b in choices]) if choices else b""


def decode_choices(raw: bytes | None) -> list[Button]:
    """Stored choices back as buttons; [] when absent or unreadable."""
    try:
        rows = orjson.loads(raw) if raw else []
        return [Button(str(label), str(payload)) for label, payload in rows]
    except (ValueError, TypeError):
        return []


class WeChatOutbox:
    """Renders replies for WeChat and sends customer-service messages (the service's Sink)."""

    def __init__(self, api: WeChatApi, store: ConversationStore, *, web_base: str | None = None,
                 link_key: str = DEFAULT_KEY) -> None:
        self.api = api
        self.store = store
        self._web_base = web_base
        self._link_key = link_key

    @property
    def redis(self) -> Redis:
        return self.store.redis

    @property
    def keys(self) -> KeySpace:
        return self.store.keys

    # --- per-conversation facts ---------------------------------------------------------
    def push_keys(self, cid: str, dedupe: str) -> PushKeys:
        """The keys a push of conversation `cid` touches (retry record, window, choices)."""
        conv = self.keys.conversation
        return PushKeys(conv(cid, "wxr:" + dedupe), conv(cid, "wxw"), conv(cid, "wxc"))

    async def window_open(self, cid: str) -> bool:
        """Whether the user wrote within the last 48 hours (the retry records note every push)."""
        raw = await self.redis.get(self.keys.conversation(cid, "wxw"))
        return raw is not None and time.time() - int(raw) < WINDOW_SECONDS

    # --- rendering ------------------------------------------------------------------------
    async def render_turn(self, cid: str, messages: Sequence[OutMessage], *, remember: bool = True) -> Rendered:
        """The reply text of a turn. Its choices are remembered for the user's next message
        (unless `remember` is False: the caller stores them with its own write)."""
        link = None
        if self._web_base and overflows(messages):
            record = await self.store.read(cid)
            link = continuation_link(self._web_base, ConversationState.loads(record.state), self._link_key)
        rendered = render(messages, link)
        if remember:
            key = self.keys.conversation(cid, "wxc")
            if rendered.choices:
                await self.redis.set(key, encode_choices(rendered.choices), ex=CHOICES_TTL)
            else:
                await self.redis.delete(key)
        return rendered

    # --- sending ----------------------------------------------------------------------------
    async def deliver(self, event: InEvent, messages: Sequence[OutMessage]) -> None:
        """Sink: send a turn's replies as one customer-service message."""
        if event.platform != PLATFORM or not messages:
            return
        rendered = await self.render_turn(event.conversation_id, messages)
        await self.send_text(event.user_id, rendered.text)

    async def send_text(self, openid: str, text: str) -> bool:
        """Send a customer-service message; False (logged) when WeChat refuses it."""
        try:
            await self.api.send_text(openid, text)
        except WeChatApiError as exc:
            log.warning("custom/send failed: %s", exc)
            return False
        return True

    async def send_custom_message(self, app_id: str, openid: str, text: str) -> bool:
        """Send `text` now if the 48-hour window is open; False means "hold it for the next message"."""
        if not await self.window_open(conversation_id(app_id, openid)):
            return False
        try:
            await self.api.send_text(openid, text)
        except WeChatApiError as exc:
            if exc.errcode != WINDOW_CLOSED:
                log.warning("custom/send failed: %s", exc)
            return False
        return True
