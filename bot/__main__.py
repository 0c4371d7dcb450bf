"""Process entry points: `python -m bot chat | telegram | web | wechat | reminders send-due|list`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Coroutine, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from bot.logs import configure_logging

T = TypeVar("T")


def run_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` on uvloop's event loop where there is one (not on Windows), else asyncio's.

    libuv's loop spends less CPU per socket event and callback than asyncio's default one;
    signals (SIGTERM, SIGHUP) are handled the same way (`loop.add_signal_handler`)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows has no uvloop build
        return asyncio.run(main)
    return uvloop.run(main)


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
    chat.add_argument("--today", "--on", dest="today", type=_date, default=None, help="pretend today is YYYY-MM-DD")
    tg = sub.add_parser("telegram", help="run on Telegram (settings from the environment / .env)")
    tg.add_argument("--framework", choices=("aiogram", "ptb"), default="aiogram")
    page = sub.add_parser("web", help="the web chat page and its JSON API (aiohttp)")
    page.add_argument("--listen", default=None, metavar="HOST:PORT", help="default: WEB_LISTEN, else 127.0.0.1:8080")
    page.add_argument("--today", "--on", dest="today", type=_date, default=None, help="pretend today is YYYY-MM-DD")
    wx = sub.add_parser("wechat", help="WeChat official-account message push (settings from the environment / .env)")
    wx.add_argument("--listen", default=None, metavar="HOST:PORT", help="address to listen on (default 127.0.0.1:8081)")
    rm = sub.add_parser("reminders", help="send due reminders once, or list what is waiting")
    rm_sub = rm.add_subparsers(dest="action", required=True)
    send = rm_sub.add_parser("send-due", help="one pass: send what is due (safe alongside workers)")
    send.add_argument("--framework", choices=("aiogram", "ptb"), default="aiogram")
    send.add_argument("--now", type=_moment, default=None, help="act as if it were this time (ISO 8601)")
    listing = rm_sub.add_parser("list", help="how many are due, and the next few times (no personal data)")
    listing.add_argument("--due-before", type=_moment, default=None, help="count those due before (ISO 8601)")
    return parser


def _moment(value: str) -> datetime:
    """An ISO 8601 time; without an offset it is China time."""
    from flows.reminders_time import CHINA

    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"时间格式应为 ISO 8601，例如 2027-01-05T09:30:00+08:00，收到：{value!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


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
            run_loop(run_telegram(args.framework, settings))
        except RuleError as exc:  # RULES_DIR holds a broken file: say where, and do not start
            print(f"规则文件有误，未启动：{exc}", file=sys.stderr)
            return 2
        return 0
    if args.command == "web":
        from bot.web.server import main_web

        logging.getLogger("bot").setLevel(logging.INFO)
        return main_web(args.listen, args.today)
    if args.command == "wechat":
        return _wechat(args.listen)
    if args.command == "reminders":
        from bot.reminders.cli import list_due, send_due

        if args.action == "send-due":
            print(run_loop(send_due(args.framework, args.now)))
        else:
            print(run_loop(list_due(args.due_before)))
        return 0
    return 2


def _wechat(listen: str | None) -> int:
    from bot.wechat.runner import DEFAULT_LISTEN, parse_listen, run_wechat
    from bot.wechat.settings import load_wechat_settings_or_exit

    try:
        host, port = parse_listen(listen or DEFAULT_LISTEN)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    settings = load_wechat_settings_or_exit()
    from bot.settings import SettingsError, deeplink_key_for, exit_with
    from policies import RuleError

    try:
        deeplink_key_for("wechat", settings.deeplink_key.get_secret_value())
    except SettingsError as exc:  # the public default would let anyone forge a community's scene
        exit_with(exc)
    logging.getLogger().setLevel(logging.INFO)
    try:
        run_loop(run_wechat(settings, host, port))
    except RuleError as exc:  # RULES_DIR holds a broken file: say where, and do not start
        print(f"规则文件有误，未启动：{exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
