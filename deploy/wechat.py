"""Whether deploy/local.py starts the WeChat worker (`python -m bot wechat`), and why not.

The worker is started when its settings are given: WECHAT_TOKEN, WECHAT_APPID or
WECHAT_APPSECRET set in the environment the bot processes get or in the checkout's
`.env` (which they read too; the environment wins, as in pydantic-settings). None of
them: the worker is skipped, with the reason. Some of them, or malformed ones: the
stack refuses to start, with the worker's own one-line messages (bot.wechat.settings),
rather than run without the account the operator meant to serve.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values

REQUIRED = ("WECHAT_TOKEN", "WECHAT_APPID", "WECHAT_APPSECRET")


class WeChatSettingsError(ValueError):
    """WeChat settings are given but incomplete or malformed; one line per problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("WeChat settings: " + "; ".join(lines))
        self.lines = lines


def wechat_settings_seen(env: Mapping[str, str], env_file: Path) -> dict[str, str]:
    """The WECHAT_* values a bot process started with `env` in the folder of `env_file` would read."""
    from_file = dotenv_values(env_file) if env_file.is_file() else {}
    merged = {k.upper(): v or "" for k, v in from_file.items()}
    merged.update({k.upper(): v for k, v in env.items()})
    return {k: v for k, v in merged.items() if k.startswith("WECHAT_")}


def skip_reason(env: Mapping[str, str], env_file: Path) -> str | None:
    """None when the WeChat worker should start; else why it is skipped.

    Raises WeChatSettingsError when settings are given but would stop the worker."""
    seen = wechat_settings_seen(env, env_file)
    if not any(seen.get(name) for name in REQUIRED):
        return f"{', '.join(REQUIRED)} not set (environment or {env_file.name})"
    from bot.settings import SettingsError
    from bot.wechat.settings import load_wechat_settings

    try:
        load_wechat_settings(_env_file=None, **{k.lower(): v for k, v in seen.items()})
    except SettingsError as exc:
        raise WeChatSettingsError(list(exc.lines)) from None
    return None
