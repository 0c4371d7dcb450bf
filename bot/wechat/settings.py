"""Settings of `python -m bot wechat` from the environment and `.env` (pydantic-settings).

Every missing or malformed setting is reported at start, one line each (Simplified
Chinese, like the Telegram settings), and the process exits with status 2.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.settings import SettingsError, _line, check_redis_url, check_rules_dir, or_exit
from bot.wechat.api import OFFICIAL_API_BASE
from bot.wechat.crypto import valid_aes_key
from flows.deeplink import DEFAULT_KEY

_TOKEN = re.compile(r"^[A-Za-z0-9]{3,32}$")  # WeChat: 3-32 letters or digits
_APPID = re.compile(r"^wx[0-9a-f]{16}$")
_SECRET = re.compile(r"^[A-Za-z0-9]{16,64}$")

_MISSING = {
    "wechat_token": "WECHAT_TOKEN 未设置：请填写公众号后台“服务器配置”里的令牌(Token)",
    "wechat_appid": "WECHAT_APPID 未设置：请填写公众号的 AppID（wx 开头）",
    "wechat_appsecret": "WECHAT_APPSECRET 未设置：请填写公众号的 AppSecret（发客服消息要用）",
}


class WeChatSettings(BaseSettings):
    """What `python -m bot wechat` needs. Safe mode is on when WECHAT_AES_KEY is set."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      case_sensitive=False)

    wechat_token: SecretStr
    wechat_appid: str
    wechat_appsecret: SecretStr
    wechat_aes_key: SecretStr | None = None
    wechat_path: str = "/wechat"
    wechat_api_base: str = OFFICIAL_API_BASE
    wechat_web_base: str | None = None  # the web chat page, for "details" links
    wechat_reply_seconds: float = Field(default=4.5, ge=0, lt=5)
    redis_url: str | None = None
    deeplink_key: SecretStr = SecretStr(DEFAULT_KEY)  # refused at start (bot.settings.deeplink_key_for)
    rules_dir: Path | None = None  # rule files to load (and reload on SIGHUP); default: the packaged ones
    # Reminders: each worker runs a pass every REMINDERS_EVERY seconds unless REMINDERS=off (as on Telegram).
    reminders: str = Field(default="on", pattern="^(on|off)$")
    reminders_every: float = Field(default=30.0, gt=0, le=3600)

    @field_validator("wechat_token")
    @classmethod
    def _token(cls, value: SecretStr) -> SecretStr:
        if not _TOKEN.match(value.get_secret_value()):
            raise ValueError("WECHAT_TOKEN 格式不对：应为 3–32 位英文字母或数字")
        return value

    @field_validator("wechat_appid")
    @classmethod
    def _appid(cls, value: str) -> str:
        if not _APPID.match(value.strip()):
            raise ValueError(f"WECHAT_APPID 格式不对：应为 wx 加 16 位十六进制字符，收到 {value!r}")
        return value.strip()

    @field_validator("wechat_appsecret")
    @classmethod
    def _secret(cls, value: SecretStr) -> SecretStr:
        if not _SECRET.match(value.get_secret_value().strip()):
            raise ValueError("WECHAT_APPSECRET 格式不对：应为 16–64 位英文字母或数字（公众号后台的 AppSecret）")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("wechat_aes_key")
    @classmethod
    def _aes(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not valid_aes_key(value.get_secret_value().strip()):
            raise ValueError("WECHAT_AES_KEY 格式不对：EncodingAESKey 应为 43 位英文字母或数字")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("wechat_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"WECHAT_PATH 必须以 / 开头，收到 {value!r}")
        return value

    @field_validator("wechat_api_base", "wechat_web_base")
    @classmethod
    def _url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value:
            return OFFICIAL_API_BASE if info.field_name == "wechat_api_base" else None
        url = urlparse(value)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise ValueError(f"{str(info.field_name).upper()} 不是有效的 http(s) 地址：{value!r}")
        return value.rstrip("/")

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, value: str | None) -> str | None:
        return check_redis_url(value)

    @field_validator("rules_dir")
    @classmethod
    def _rules_dir(cls, value: Path | None) -> Path | None:
        return check_rules_dir(value)

    @property
    def token(self) -> str:
        return self.wechat_token.get_secret_value()

    @property
    def aes_key(self) -> str | None:
        return self.wechat_aes_key.get_secret_value() if self.wechat_aes_key else None


def _message(error: dict[str, Any]) -> str:
    field = str(error["loc"][0]) if error.get("loc") else ""
    if error.get("type") == "missing" and field in _MISSING:
        return _MISSING[field]
    return _line(error)


def load_wechat_settings(**overrides: Any) -> WeChatSettings:
    """Read the settings; SettingsError lists every problem, one line each."""
    try:
        return WeChatSettings(**overrides)
    except ValidationError as exc:
        raise SettingsError([_message(dict(e)) for e in exc.errors()]) from None


def load_wechat_settings_or_exit(**overrides: Any) -> WeChatSettings:
    """Like `load_wechat_settings`, but print each problem on its own line to stderr and exit 2."""
    return or_exit(load_wechat_settings, **overrides)
