"""Process entry points: `python -m bot chat | telegram | web`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import date

from bot.logs import configure_logging


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD，收到：{value!r}") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="医保断缴助手")
    sub = parser.add_subparsers(dest="command", required=True)
    chat = sub.add_parser("chat", help="terminal chat against the same core and store")
    chat.add_argument("--user", default="local", help="user id (each id has its own conversation)")
    chat.add_argument("--today", type=_date, default=None, help="pretend today is YYYY-MM-DD")
    tg = sub.add_parser("telegram", help="run on Telegram (settings from the environment / .env)")
    tg.add_argument("--framework", choices=("aiogram", "ptb"), default="aiogram")
    page = sub.add_parser("web", help="the web chat page and its JSON API (aiohttp)")
    page.add_argument("--listen", default=None, metavar="HOST:PORT", help="default: WEB_LISTEN, else 127.0.0.1:8080")
    page.add_argument("--today", type=_date, default=None, help="pretend today is YYYY-MM-DD")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run the chosen process. Returns the exit status."""
    args = build_parser().parse_args(argv)
    configure_logging(logging.WARNING)
    if args.command == "chat":
        from bot.cli_chat import main_chat

        return main_chat(args.user, args.today)
    if args.command == "telegram":
        from bot.settings import SettingsError, deeplink_key_for, exit_with
        from bot.telegram.runner import load_settings_or_exit, run_telegram

        settings = load_settings_or_exit()
        try:
            deeplink_key_for("telegram", settings.deeplink_key.get_secret_value())
        except SettingsError as exc:
            exit_with(exc)
        logging.getLogger().setLevel(logging.INFO)
        from policies import RuleError

        try:
            asyncio.run(run_telegram(args.framework, settings))
        except RuleError as exc:  # RULES_DIR holds a broken file: say where, and do not start
            print(f"规则文件有误，未启动：{exc}", file=sys.stderr)
            return 2
        return 0
    if args.command == "web":
        from bot.web.server import main_web

        logging.getLogger("bot").setLevel(logging.INFO)
        return main_web(args.listen, args.today)
    return 2


if __name__ == "__main__":
    sys.exit(main())
