"""Telegram adapters (aiogram and python-telegram-bot) over the platform-neutral core.

Entry point: `await run_telegram(framework, settings)` with `settings` from
`bot.settings.load_settings_or_exit()`.
"""

from bot.telegram.runner import FRAMEWORKS, run_telegram, running_bot

__all__ = ["FRAMEWORKS", "run_telegram", "running_bot"]
