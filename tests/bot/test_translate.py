"""Bot API JSON <-> InEvent / sendMessage parameters (the shared translation helpers)."""

from __future__ import annotations

from typing import Any

from bot.telegram.translate import BotIdentity, render, translate_update
from flows.messages import Button, ChatKind, InEvent, OutMessage
from flows.store.codec import decode_event, encode_event
from tests.bot.fake_bot_api import Chat, FakeBotApi, User

ME = BotIdentity(42, "Yibao_Bot")
ALICE = User(7, "Alice", "alice")
GROUP = Chat(-1005, "supergroup", "群")


def message(chat: Chat, text: str, **extra: Any) -> dict[str, Any]:
    body = FakeBotApi(bot_id=ME.id, bot_username=ME.username).message_update(ALICE, chat, text, **extra)
    return {"update_id": 10, **body}


def event_of(update: dict[str, Any]) -> InEvent:
    incoming = translate_update(update, ME)
    assert incoming is not None
    return incoming.event


def test_private_text_is_addressed_and_identifies_the_conversation() -> None:
    event = event_of(message(Chat(ALICE.id), "我断缴了三个月"))
    assert event.chat_kind is ChatKind.PRIVATE and event.addressed
    assert (event.platform, event.bot_id, event.chat_id, event.user_id, event.update_id) == (
        "telegram", "42", "7", "7", "10")
    assert event.text == "我断缴了三个月" and event.user_name == "Alice" and event.bot_username == "Yibao_Bot"


def test_start_payload_is_split_off() -> None:
    event = event_of(message(Chat(ALICE.id), "/start r650100-sjd-AbCdEf_-"))
    assert event.text == "/start" and event.start_payload == "r650100-sjd-AbCdEf_-"


def test_group_talk_is_not_addressed() -> None:
    event = event_of(message(GROUP, "@other_bot 在吗"))
    assert event.chat_kind is ChatKind.GROUP and not event.addressed and event.text == "@other_bot 在吗"


def test_group_mention_is_addressed_and_stripped_case_insensitively_after_emoji() -> None:
    event = event_of(message(GROUP, "😀 @yibao_bot 断缴怎么补"))
    assert event.addressed and event.text == "😀 断缴怎么补"


def test_group_command_for_us_or_for_everyone_but_not_for_another_bot() -> None:
    assert event_of(message(GROUP, "/help@Yibao_Bot")).text == "/help"
    assert event_of(message(GROUP, "/help")).addressed
    other = event_of(message(GROUP, "/help@other_bot"))
    assert not other.addressed


def test_reply_to_the_bot_is_addressed() -> None:
    bot_message = {"message_id": 3, "date": 0, "chat": GROUP.as_dict(), "from": {"id": ME.id, "is_bot": True}}
    assert event_of(message(GROUP, "那我呢", reply_to=bot_message)).addressed


def test_text_mention_of_the_bot_is_addressed() -> None:
    update = message(GROUP, "医保助手 你好")
    mention = {"type": "text_mention", "offset": 0, "length": 4, "user": {"id": ME.id}}
    update["message"]["entities"] = [mention]
    event = event_of(update)
    assert event.addressed and event.text == "你好"


def test_forum_topic_becomes_thread_but_reply_chains_do_not() -> None:
    assert event_of(message(GROUP, "@yibao_bot 你好", thread_id=5)).thread_id == "5"
    update = message(GROUP, "@yibao_bot 你好")
    update["message"]["message_thread_id"] = 9  # a reply chain in a non-forum group
    assert event_of(update).thread_id is None


def test_button_press_carries_the_pressed_message_and_the_query_to_answer() -> None:
    shown = {"message_id": 77, "date": 0, "chat": GROUP.as_dict(), "text": "参保类型？",
             "from": {"id": ME.id, "is_bot": True}, "message_thread_id": 5, "is_topic_message": True,
             "reply_markup": {"inline_keyboard": [[{"text": "职工", "callback_data": "t:e"}]]}}
    press = FakeBotApi().press_update(ALICE, shown, "t:e")
    incoming = translate_update({"update_id": 11, **press}, ME)
    assert incoming is not None and incoming.query_id == press["callback_query"]["id"]
    event = incoming.event
    assert event.payload == "t:e" and event.addressed and event.thread_id == "5"
    assert (event.chat_id, event.pressed_message_id) == (str(GROUP.id), "77")
    assert decode_event(encode_event(event)) == event  # it survives the conversation's queue


def test_non_talk_updates_are_skipped() -> None:
    assert translate_update({"update_id": 1, "edited_message": message(GROUP, "x")["message"]}, ME) is None
    channel = message(Chat(-1009, "channel"), "公告")
    assert translate_update(channel, ME) is None
    sticker = message(GROUP, "x")
    del sticker["message"]["text"]
    assert translate_update(sticker, ME) is None
    private_sticker = message(Chat(ALICE.id), "x")
    del private_sticker["message"]["text"]
    assert event_of(private_sticker).text is None  # the core answers it politely


def test_render_buttons_handoff_link_suggestions_and_topic() -> None:
    event = event_of(message(GROUP, "@yibao_bot 我的情况", thread_id=5))
    out = OutMessage("请私聊", buttons=((Button("是", "y"), Button("否", "n")),), suggestions=("怎么补缴",),
                     private_payload="r650100-AbCdEfGh", link_label="私聊继续")
    [sent] = render(event, out)
    assert sent.chat_id == GROUP.id and sent.thread_id == 5
    assert "怎么补缴" in sent.text
    rows = sent.reply_markup["inline_keyboard"] if sent.reply_markup else []
    assert rows[0] == [{"text": "是", "callback_data": "y"}, {"text": "否", "callback_data": "n"}]
    assert rows[1] == [{"text": "私聊继续", "url": "https://t.me/Yibao_Bot?start=r650100-AbCdEfGh"}]


def test_long_text_is_split_and_the_keyboard_goes_last() -> None:
    event = event_of(message(Chat(ALICE.id), "hi"))
    text = "\n".join(f"第{i}行：" + "医保" * 40 for i in range(100))
    parts = render(event, OutMessage(text, buttons=((Button("好", "ok"),),)))
    assert len(parts) > 1 and all(len(p.text) <= 4096 for p in parts)
    assert "".join(p.text for p in parts) == text
    assert [p.reply_markup is not None for p in parts] == [False] * (len(parts) - 1) + [True]
