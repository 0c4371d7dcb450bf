"""Telegram bot settings from the environment and a `.env` file (pydantic-settings).

Every problem is reported at start, one clear line each (Simplified Chinese, since the
operator reads them next to the bot's own texts), and the process exits with status 2.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlparse

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.outbound import OutboundLimits
from bot.reminders.config import DispatchConfig
from flows.deeplink import DEFAULT_KEY

_TOKEN = re.compile(r"^[0-9]{3,20}:[A-Za-z0-9_-]{30,60}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
S = TypeVar("S")

# Field name -> message when it is missing.
_MISSING = {
    "telegram_bot_token": "TELEGRAM_BOT_TOKEN 未设置：请在环境变量或 .env 中提供 BotFather 给的令牌",
}


class SettingsError(Exception):
    """Settings are missing or malformed; `lines` holds one message per problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class TelegramSettings(BaseSettings):
    """What `python -m bot telegram` needs. Webhook mode is on when WEBHOOK_LISTEN is set."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      case_sensitive=False)

    telegram_bot_token: SecretStr
    telegram_api_base: str = "https://api.telegram.org"
    redis_url: str | None = None
    webhook_listen: str | None = None
    webhook_path: str = "/telegram/webhook"
    webhook_secret: SecretStr | None = Field(default=None, validate_default=True)
    webhook_url: str | None = None
    webhook_max_body: int = Field(default=1_048_576, ge=1024)
    polling_timeout: int = Field(default=30, ge=0, le=50)
    deeplink_key: SecretStr = SecretStr(DEFAULT_KEY)
    rules_dir: Path | None = None  # rule files to load (and reload on SIGHUP); default: the packaged ones
    admin_ids: str = ""  # Telegram user ids allowed to send /reload_rules, comma-separated
    outbound_global_per_second: float = Field(default=30.0, gt=0)
    outbound_chat_per_second: float = Field(default=1.0, gt=0)
    outbound_chat_burst: int = Field(default=3, ge=1)
    outbound_group_per_minute: int = Field(default=20, ge=1)
    # Reminders: each worker runs a dispatcher pass every REMINDERS_EVERY seconds unless REMINDERS=off.
    reminders: str = Field(default="on", pattern="^(on|off)$")
    reminders_every: float = Field(default=30.0, gt=0, le=3600)
    reminders_lease: float = Field(default=60.0, ge=1, le=3600)  # a dead dispatcher's claims return after this

    def dispatch_config(self) -> DispatchConfig:
        """The reminder dispatcher's settings."""
        return DispatchConfig(lease=timedelta(seconds=self.reminders_lease))

    @field_validator("telegram_bot_token")
    @classmethod
    def _token(cls, value: SecretStr) -> SecretStr:
        if not _TOKEN.match(value.get_secret_value().strip()):
            raise ValueError(
                "TELEGRAM_BOT_TOKEN 格式不对：应形如 123456789:AAE...（数字、冒号、30 位以上字母数字）"
            )
        return SecretStr(value.get_secret_value().strip())

    @field_validator("telegram_api_base")
    @classmethod
    def _api_base(cls, value: str) -> str:
        url = urlparse(value)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise ValueError(f"TELEGRAM_API_BASE 不是有效的 http(s) 地址：{value!r}")
        return value.rstrip("/")

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, value: str | None) -> str | None:
        return check_redis_url(value)

    @field_validator("webhook_listen")
    @classmethod
    def _listen(cls, value: str | None) -> str | None:
        if not value:
            return None
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"WEBHOOK_LISTEN 格式不对：应为 host:port，例如 0.0.0.0:8080，收到 {value!r}")
        return value

    @field_validator("webhook_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"WEBHOOK_PATH 必须以 / 开头，收到 {value!r}")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None and info.data.get("webhook_listen"):
            raise ValueError("WEBHOOK_SECRET 未设置：webhook 模式（已设置 WEBHOOK_LISTEN）必须配置密钥")
        if value is not None and not _SECRET.match(value.get_secret_value()):
            raise ValueError("WEBHOOK_SECRET 格式不对：只能用 1–256 个 A-Z a-z 0-9 _ - 字符")
        return value

    @field_validator("admin_ids")
    @classmethod
    def _admins(cls, value: str) -> str:
        if value and not re.fullmatch(r"\s*[0-9]+(\s*,\s*[0-9]+)*\s*", value):
            raise ValueError(f"ADMIN_IDS 格式不对：应为逗号分隔的 Telegram 用户 id，例如 12345,67890，收到 {value!r}")
        return value

    @field_validator("rules_dir")
    @classmethod
    def _rules_dir(cls, value: Path | None) -> Path | None:
        return check_rules_dir(value)

    @field_validator("webhook_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if not value:
            return None
        url = urlparse(value)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise ValueError(f"WEBHOOK_URL 不是有效的地址（Telegram 要求 https）：{value!r}")
        return value

    # --- derived -----------------------------------------------------------------------
    @property
    def token(self) -> str:
        return self.telegram_bot_token.get_secret_value()

    @property
    def webhook_mode(self) -> bool:
        return self.webhook_listen is not None

    @property
    def listen(self) -> tuple[str, int]:
        """(host, port) of WEBHOOK_LISTEN; only in webhook mode."""
        assert self.webhook_listen is not None
        host, _, port = self.webhook_listen.rpartition(":")
        return host.strip("[]"), int(port)

    @property
    def secret(self) -> str:
        return self.webhook_secret.get_secret_value() if self.webhook_secret else ""

    @property
    def admins(self) -> frozenset[int]:
        return frozenset(int(part) for part in self.admin_ids.split(",") if part.strip())

    def outbound_limits(self) -> OutboundLimits:
        return OutboundLimits(
            global_per_second=self.outbound_global_per_second,
            global_burst=max(1, int(self.outbound_global_per_second)),
            chat_per_second=self.outbound_chat_per_second,
            chat_burst=self.outbound_chat_burst,
            group_per_minute=self.outbound_group_per_minute,
        )


def _line(error: dict[str, Any]) -> str:
    field = str(error["loc"][0]) if error.get("loc") else ""
    if error.get("type") == "missing" and field in _MISSING:
        return _MISSING[field]
    if error.get("type") == "missing":
        return f"{field.upper()} 未设置"
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    if field and not message.startswith(field.upper()):
        return f"{field.upper()} 取值不对：{message}"
    return message


# Processes that face the public: a forged start payload there would fake a referral source.
KEYED_PROCESSES = frozenset({"telegram", "wechat", "webhook"})
MIN_DEEPLINK_KEY = 16


def deeplink_key_problem(key: str) -> str | None:
    """Why `key` may not sign start links of a public bot, or None when it may."""
    if key == DEFAULT_KEY:
        return ("DEEPLINK_KEY 未设置（或仍是公开的默认值）：对外服务的进程必须用自己的密钥签发深度链接，"
                "否则任何人都能伪造来源；生成一个：python -c \"import secrets; print(secrets.token_urlsafe(32))\"")
    if len(key) < MIN_DEEPLINK_KEY:
        return f"DEEPLINK_KEY 太短：至少 {MIN_DEEPLINK_KEY} 个字符，才猜不出来"
    return None


def deeplink_key_for(process: str, configured: str | None) -> str:
    """The key a process signs and checks start links with.

    telegram, wechat and webhook workers need their own key (SettingsError otherwise);
    the terminal chat may use the public default; the web chat started locally without
    settings gets a random key of its own (its links then work only until it restarts).
    """
    key = configured or DEFAULT_KEY
    if process in KEYED_PROCESSES:
        problem = deeplink_key_problem(key)
        if problem:
            raise SettingsError([problem])
        return key
    if process == "web" and key == DEFAULT_KEY:
        import secrets

        return secrets.token_urlsafe(32)
    return key


def load_settings(**overrides: Any) -> TelegramSettings:
    """Read settings from the environment and `.env`; raises SettingsError listing every problem."""
    try:
        return TelegramSettings(**overrides)
    except ValidationError as exc:
        raise SettingsError([_line(e) for e in exc.errors()]) from None


def load_settings_or_exit(**overrides: Any) -> TelegramSettings:
    """Like `load_settings`, but print each problem on its own line to stderr and exit 2."""
    return or_exit(load_settings, **overrides)


def check_redis_url(value: str | None) -> str | None:
    """REDIS_URL must be redis://, rediss:// or unix:// (empty means the embedded server)."""
    if value and urlparse(value).scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"REDIS_URL 格式不对：应以 redis://、rediss:// 或 unix:// 开头，收到 {value!r}")
    return value or None


def check_rules_dir(value: Path | None) -> Path | None:
    """RULES_DIR, when set, must be a directory."""
    if value is not None and not value.is_dir():
        raise ValueError(f"RULES_DIR 不是一个目录：{value}")
    return value


def or_exit(load: Callable[..., S], **overrides: Any) -> S:
    """Run a settings loader; on SettingsError print each problem on its own line to stderr and exit 2."""
    try:
        return load(**overrides)
    except SettingsError as exc:
        exit_with(exc)


def exit_with(exc: SettingsError) -> NoReturn:
    """Print each problem on its own line to stderr and exit with status 2."""
    for line in exc.lines:
        print(line, file=sys.stderr)
    raise SystemExit(2) from None
