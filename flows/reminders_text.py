"""Everything a person reads about reminders, and the buttons that go with it (pure).

Button payloads (at most 64 bytes, Telegram's callback_data limit):
    rp:<kind> / rp:*      set the offered reminder of that kind / all offered
    rc:<ref> / rc:*       cancel one reminder / all of them
    rz:<kind>|<arg>       "再提醒我": the same again in a week
    rd:<kind>|<arg>       "已办好": done, no more of that one
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from flows.messages import Button, OutMessage
from flows.reminders import Kind, Reminder
from flows.reminders_time import CHINA

HOTLINE = "医保服务热线 12393"
_WEEKDAY = "一二三四五六日"

CANNOT_SEND = "这里没法到时主动通知您（网页关掉后就收不到消息），请把这些日子记到手机日历或备忘录里："
PRIVATE_ONLY = "提醒只能在私聊里设置（机器人不能主动私信没找过它的人）。请点下面的按钮私聊我，在那里设置。"
NEEDS_ANSWER = (
    "我可以在日子快到时提醒您，比如补缴期限、等待期结束、每月缴费。"
    "先告诉我地区和医保类型，算出结果后我会列出可以设的提醒；"
    "也可以直接说“下个月10号提醒我交医保”。"
)
NOTHING_TO_OFFER = (
    "根据目前的结果，没有需要提醒的日期（比如补缴期限或等待期）。"
    "如需要，可以直接说哪天提醒您，例如“下个月10号提醒我交医保”。"
)
ASK_DAY = "您想哪天提醒？直接说日期就行，例如“下个月10号提醒我交医保”“3月1号提醒我”。"
BAD_DAY = {
    "impossible": "这个日期不存在，请再说一次，例如“3月1号提醒我”。",
    "past": "这个日期已经过去了，请说一个以后的日期，例如“下个月10号提醒我”。",
    "too_far": "只能设三年以内的提醒，请换个近一点的日期。",
}
NONE_SET = "您目前没有设置提醒。算出结果后点“⏰ 设个提醒”，或直接说“下个月10号提醒我交医保”。"
FULL = "您的提醒已经够多了（最多12条），请先发 /reminders 取消一些不需要的。"
GONE = "这条提醒已经不在了（可能已经发过或取消了）。发 /reminders 查看现有的提醒。"
STOPPED = "好的，已停止您的全部 {n} 条提醒，以后不会再发。需要时可以随时重新设置。"
STOPPED_NONE = "您目前没有提醒，不会再收到提醒消息。"
DONE = "太好了，这条提醒已结束，不会再发。有新情况随时告诉我。"
DONE_REPEATING = "好的，这个月的已记下。下个月{day}日还会提醒您；不需要的话发 /reminders 取消。"
ALSO_CANCELLED = "（已同时取消您的 {n} 条提醒。）"
BTN_SNOOZE = "⏰ 再提醒我（一周后）"
BTN_DONE = "✅ 已办好"
BTN_CANCEL_ALL = "全部取消"
BTN_SET_ALL = "全部设置"


def when(moment: datetime) -> str:
    """"2026年12月10日（周四）上午9点" in China time."""
    local = moment.astimezone(CHINA)
    hour = local.hour
    part = "上午" if hour < 12 else ("下午" if hour < 18 else "晚上")
    shown = hour if hour <= 12 else hour - 12
    minute = f"{local.minute}分" if local.minute else ""
    return f"{day(local.date())}（周{_WEEKDAY[local.weekday()]}）{part}{shown}点{minute}"


def day(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def title(reminder: Reminder) -> str:
    """A short label: what the reminder is about."""
    kind, arg = reminder.kind, reminder.arg
    if kind is Kind.WINDOW:
        return f"补缴（{_iso_day(arg)}前按现在的规定办）"
    if kind is Kind.WAITING:
        return f"等待期结束（{_iso_day(arg)}起可报销）"
    if kind is Kind.ENROLMENT:
        return f"居民医保参保缴费（{_iso_day(arg)}截止）"
    if kind is Kind.DECLARATION:
        return f"每月{arg}日申报缴费"
    if kind is Kind.MONTHLY:
        return f"每月{arg}日按月缴费"
    return arg or "您设的提醒"


def offer(reasons: Sequence[tuple[Kind, str, datetime]]) -> OutMessage:
    """The reminders an answer supports, each with its date and why; a button sets each."""
    lines = ["可以为您设这些提醒（到时在这里发消息给您）："]
    buttons: list[tuple[Button, ...]] = []
    for kind, reason, due in reasons:
        lines.append(f"• {when(due)}：{reason}")
        buttons.append((Button(f"提醒我：{due.month}月{due.day}日", f"rp:{kind.value}"),))
    if len(reasons) > 1:
        buttons.append((Button(BTN_SET_ALL, "rp:*"),))
    lines.append("点按钮设置；也可以说“下个月10号提醒我交医保”设自己的日子。")
    return OutMessage("\n".join(lines), buttons=tuple(buttons))


def confirmed(stored: Sequence[Reminder], reasons: dict[str, str], full: bool) -> OutMessage:
    """Plain-words confirmation of what was really stored."""
    if not stored:
        return OutMessage(FULL if full else NONE_SET)
    lines = ["好的，已设好提醒："]
    for r in stored:
        why = reasons.get(r.kind.value) or title(r)
        repeat = "（每月）" if r.kind.repeats else ""
        lines.append(f"• {when(r.due)}{repeat}：{why}")
    lines.append("到时我会在这里发消息给您（晚9点到早8点不打扰）。发 /reminders 查看或取消，发 /stop 全部停止。")
    if full:
        lines.append(FULL)
    return OutMessage("\n".join(lines))


def listing(reminders: Sequence[Reminder]) -> OutMessage:
    """/reminders: each reminder with its date, and a cancel button each."""
    if not reminders:
        return OutMessage(NONE_SET)
    lines = [f"您有 {len(reminders)} 条提醒："]
    buttons: list[tuple[Button, ...]] = []
    for i, r in enumerate(reminders, 1):
        repeat = "（每月）" if r.kind.repeats else ""
        lines.append(f"{i}. {when(r.due)}{repeat}：{title(r)}")
        buttons.append((Button(f"取消第{i}条", f"rc:{r.ref}"),))
    buttons.append((Button(BTN_CANCEL_ALL, "rc:*"),))
    return OutMessage("\n".join(lines), buttons=tuple(buttons))


def cancelled(reminder: Reminder) -> OutMessage:
    return OutMessage(f"已取消：{when(reminder.due)} 的提醒（{title(reminder)}）。")


def reminder_message(reminder: Reminder, days_late: int) -> OutMessage:
    """The reminder itself: why it was set, what to do now, the hotline; snooze and done buttons."""
    late = f"（晚了{days_late}天）" if days_late >= 1 else ""
    head, todo = _body(reminder)
    text = f"⏰ 提醒{late}：{head}\n现在该做：{todo}\n不清楚的可以问我，或拨打{HOTLINE}。"
    tail = f"{reminder.kind.value}|{reminder.arg}"
    buttons = ((Button(BTN_SNOOZE, f"rz:{tail}"), Button(BTN_DONE, f"rd:{tail}")),)
    return OutMessage(text, buttons=buttons)


def _body(r: Reminder) -> tuple[str, str]:
    arg = r.arg
    if r.kind is Kind.WINDOW:
        return (f"您断缴的医保，{_iso_day(arg)}前补缴还按现在的规定办理；过了这天断缴时间更长，"
                "补缴的规定会不同（您之前让我提前提醒您）。",
                "尽快到当地医保经办窗口或线上渠道（国家医保服务平台 App、当地政务服务）办理补缴，带好身份证件。")
    if r.kind is Kind.WAITING:
        return (f"按您设提醒时的情况，如果当时就补缴了，医保待遇从{_iso_day(arg)}起可以恢复"
                "（您之前让我提醒您等待期结束）。",
                "在国家医保服务平台 App 或当地医保窗口确认参保状态正常，再去看病报销。")
    if r.kind is Kind.ENROLMENT:
        return (f"居民医保集中参保缴费{_iso_day(arg)}截止（您之前让我提醒您）。",
                "在截止前通过当地税务或医保缴费渠道交上居民医保费，避免断保。")
    if r.kind is Kind.DECLARATION:
        return (f"今天是每月{arg}日，个人缴费的申报期开始了（您设了每月提醒）。",
                "在申报期内办理本月的申报缴费，避免断缴。")
    if r.kind is Kind.MONTHLY:
        return ("本月的医保费该交了（您设了每月提醒）。", "按时缴费，避免再次断缴。")
    return (f"{arg or '您设的日子到了'}（这是您在对话里让我到时提醒的）。", f"{arg or '办理您要办的事'}。")


def _iso_day(arg: str) -> str:
    try:
        return day(date.fromisoformat(arg))
    except ValueError:
        return arg
