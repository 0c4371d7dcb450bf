"""The route table: every command, button payload and text intent maps to one handler.

Adding a route is one line here (and, for a new text intent, one pattern in
`flows.nlu.lexicon.INTENT_PATTERNS`). A handler takes a `Ctx` and returns a `Turn`, or None to let
the next route try.

Text is routed in this order: `TEXT_FIRST` intents (they win over anything else the message says),
then the message's slots (filling), then `TEXT_ALONE` intents (for messages that filled nothing),
then `flows.dialog.filling.nothing_read`.
"""

from __future__ import annotations

from collections.abc import Mapping

from flows import reminders_dialog as reminders
from flows.dialog import answering, commands, edges, filling, years
from flows.dialog.context import Handler
from flows.slots import BY_LETTER

COMMANDS: Mapping[str, Handler] = {
    "start": commands.start,
    "help": commands.show_help,
    "cancel": commands.cancel,
    "restart": commands.restart,
    "back": commands.back,
    "reminders": reminders.route_list,
    "stop": reminders.route_stop,
}

# Whole payloads of action buttons.
BUTTONS: Mapping[str, Handler] = {
    "a:restart": commands.restart,
    "a:back": commands.back,
    "a:help": commands.show_help,
    "a:region": filling.other_region,
    "a:base": filling.ask_base,
    "a:remind": reminders.route_offer,
    "a:cost": answering.topic("cost"),
    "a:where": answering.topic("where"),
    "a:when": answering.topic("when"),
    "a:why": answering.topic("why"),
    "a:now": answering.topic("now"),
    "a:both": edges.both_button,
    years.UNSURE_PAYLOAD: filling.years_unsure,
}

# Payloads "<kind>:<arg>" with an argument: slot buttons ("t:flexible", by the slot's letter) and skips.
BUTTON_KINDS: Mapping[str, Handler] = {
    **{letter: filling.fill_from_button for letter in BY_LETTER},
    "skip": filling.skip,
    **{kind: reminders.route_button for kind in reminders.PAYLOAD_KINDS},
}

# Intents that win over whatever else the message says.
TEXT_FIRST: tuple[tuple[str, Handler], ...] = (
    ("own_reminder", reminders.route_own_day),  # "下个月10号提醒我交医保" (None without a day)
    ("cancel", commands.cancel),
    ("restart", commands.restart),
    ("back", commands.back),
    ("off_topic", answering.off_topic),
    ("what_if", answering.what_if),
)

# Intents of messages that filled no slot.
TEXT_ALONE: tuple[tuple[str, Handler], ...] = (
    ("help", commands.show_help),
    ("thanks", answering.thanks),
    ("ack", answering.acknowledged),
    ("human", answering.human),
    ("reminder", reminders.route_intent),
    *((intent, answering.questions) for intent in answering.QUESTION_TOPICS),
)
