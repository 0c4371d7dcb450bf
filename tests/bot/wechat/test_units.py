"""The adapter's pure parts: XML parsing and replies, translation, layout of a turn, choices, settings."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.settings import SettingsError
from bot.wechat.render import MAX_BYTES, render
from bot.wechat.settings import load_wechat_settings
from bot.wechat.translate import NotAMessage, Pushed, to_event
from bot.wechat.xmlmsg import BadXml, parse_fields, text_reply
from flows.choices import choice_lines, resolve_choice
from flows.deeplink import DEFAULT_KEY
from flows.messages import Button, OutMessage
from flows.slots import SLOT_SPECS

ROOT = Path(__file__).resolve().parents[3]
TYPE_BUTTONS = tuple(b for row in SLOT_SPECS["insurance_type"].buttons for b in row)
GAP_BUTTONS = tuple(b for row in SLOT_SPECS["gap_months"].buttons for b in row)


def test_parse_refuses_dtds_entities_and_oversize() -> None:
    assert parse_fields(b"<xml><MsgType><![CDATA[text]]></MsgType><Content>hi</Content></xml>") == {
        "MsgType": "text", "Content": "hi"}
    billion_laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                      b'<!ENTITY lol2 "&lol;&lol;&lol;">]><xml><a>&lol2;</a></xml>')
    external = b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml>&x;</xml>'
    for body in (billion_laughs, external, b"<!DOCTYPE xml><xml/>", b"<xml>", b"", b"<other/>",
                 b"<xml>" + b" " * (64 * 1024) + b"</xml>"):
        with pytest.raises(BadXml):
            parse_fields(body)


@given(st.text(max_size=300))
def test_text_reply_round_trips_any_text(content: str) -> None:
    root = ET.fromstring(text_reply("oUser", "gh_acct", content, 1409659813))
    allowed = "".join(ch for ch in content if ch in "\t\n\r" or (ch >= " " and ch not in "\ufffe\uffff"))
    assert root.findtext("Content") == allowed.replace("\r\n", "\n").replace("\r", "\n")
    assert (root.findtext("ToUserName"), root.findtext("FromUserName")) == ("oUser", "gh_acct")


def test_pushed_requires_the_common_fields() -> None:
    fields = {"ToUserName": "gh_a", "FromUserName": "o1", "CreateTime": "1409659813", "MsgType": "text",
              "MsgId": "1234567890123456"}
    assert Pushed.read(fields).dedupe == "m1234567890123456"
    event = {**fields, "MsgType": "event", "Event": "CLICK"}
    del event["MsgId"]
    assert Pushed.read(event).dedupe == "e1409659813-click"
    for missing in ("ToUserName", "FromUserName", "CreateTime", "MsgType"):
        with pytest.raises(NotAMessage):
            Pushed.read({k: v for k, v in fields.items() if k != missing})


def _event(fields: dict[str, str], choices: tuple[Button, ...] = ()):  # type: ignore[no-untyped-def]
    base = {"ToUserName": "gh_a", "FromUserName": "o1", "CreateTime": "1409659813"}
    merged = {**base, **fields}
    return to_event("wx5823bf96d3bd56c7", Pushed.read(merged), merged, choices)


def test_translation_of_events_and_messages() -> None:
    scene = _event({"MsgType": "event", "Event": "subscribe", "EventKey": "qrscene_r650100-sjiedao12-abcdefgh"})
    assert (scene.text, scene.start_payload) == ("/start", "r650100-sjiedao12-abcdefgh")
    assert _event({"MsgType": "event", "Event": "subscribe", "EventKey": ""}).start_payload is None
    assert _event({"MsgType": "event", "Event": "SCAN", "EventKey": "r650100-x"}).start_payload == "r650100-x"
    assert _event({"MsgType": "event", "Event": "CLICK", "EventKey": "help"}).text == "/help"
    assert _event({"MsgType": "event", "Event": "unsubscribe"}).text == "/cancel"
    assert _event({"MsgType": "event", "Event": "VIEW", "EventKey": "https://x"}) is None
    assert _event({"MsgType": "event", "Event": "LOCATION"}) is None
    image = _event({"MsgType": "image", "MsgId": "1"})
    assert (image.text, image.payload) == (None, None)
    voice = _event({"MsgType": "voice", "MsgId": "2", "Recognition": "北京"})
    assert voice.text == "北京"
    picked = _event({"MsgType": "text", "MsgId": "3", "Content": "２"}, TYPE_BUTTONS)
    assert (picked.text, picked.payload) == (None, "t:flexible")
    typed = _event({"MsgType": "text", "MsgId": "4", "Content": "4"}, GAP_BUTTONS)
    assert (typed.text, typed.payload) == ("4", None)  # "4" answers "how many months", not choice 4
    assert typed.conversation_id == "wechat:wx5823bf96d3bd56c7:o1:-:o1"


def test_choices_by_number_or_label() -> None:
    assert resolve_choice("1", TYPE_BUTTONS) == "t:employee"
    assert resolve_choice(" 城乡居民医保/新农合 ", TYPE_BUTTONS) == "t:resident"
    assert resolve_choice("设个提醒", (Button("⏰ 设个提醒", "a:remind"),)) == "a:remind"
    assert resolve_choice("9", TYPE_BUTTONS) is None
    assert resolve_choice("灵活就业断了4个月", TYPE_BUTTONS) is None
    assert resolve_choice("1", ()) is None
    assert resolve_choice("1个月", GAP_BUTTONS) == "g:1"
    assert resolve_choice("1", GAP_BUTTONS) is None
    assert choice_lines(TYPE_BUTTONS)[0] == "1. 单位职工医保"
    assert choice_lines(GAP_BUTTONS)[0].startswith("可以直接回复：1个月 / 2个月")


def test_long_turn_is_cut_under_the_limit_with_the_link() -> None:
    card = OutMessage("结论：可以补缴\n" + "线上办理：国家医保服务平台\n" * 10,
                      buttons=((Button("⏰ 设个提醒", "a:remind"),),))
    details = OutMessage("📚 依据：\n" + "• 某地医保局关于补缴的通知（法规/官方文件）\n" * 80)
    rendered = render([card, details], "https://bot.example.cn/?start=r650100-abcdefgh")
    assert rendered.cut and len(rendered.text.encode()) <= MAX_BYTES
    assert rendered.text.startswith("结论：可以补缴")
    assert "请点：https://bot.example.cn/?start=r650100-abcdefgh" in rendered.text
    assert rendered.text.endswith("1. ⏰ 设个提醒\n（回复编号或文字即可）")
    short = render([OutMessage("你好")], None)
    assert (short.text, short.cut) == ("你好", False)


@settings(max_examples=60)
@given(st.lists(st.text(min_size=1, max_size=900), min_size=1, max_size=5), st.booleans())
def test_any_turn_fits_one_reply(texts: list[str], with_link: bool) -> None:
    messages = [OutMessage(t, buttons=((Button("换个地区", "a:region"), Button("重新开始", "a:restart")),))
                for t in texts]
    rendered = render(messages, "https://bot.example.cn/?start=x" if with_link else None)
    assert len(rendered.text.encode()) <= MAX_BYTES
    assert "2. 重新开始" in rendered.text  # the choices always survive the cut


def test_settings_report_every_problem_on_its_own_line(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WECHAT_TOKEN", "WECHAT_APPID", "WECHAT_APPSECRET", "WECHAT_AES_KEY", "WECHAT_PATH", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SettingsError) as caught:
        load_wechat_settings(_env_file=None, wechat_token="no spaces!", wechat_appid="wxNOTHEX",
                             wechat_aes_key="tooshort", wechat_path="wechat", redis_url="http://x")
    lines = caught.value.lines
    assert len(lines) == 6 and all("\n" not in line for line in lines)
    joined = "\n".join(lines)
    for name in ("WECHAT_TOKEN", "WECHAT_APPID", "WECHAT_APPSECRET", "WECHAT_AES_KEY", "WECHAT_PATH",
                 "REDIS_URL"):
        assert name in joined
    ok = load_wechat_settings(_env_file=None, wechat_token="QDG6eK", wechat_appid="wx5823bf96d3bd56c7",
                              wechat_appsecret="0123456789abcdef0123456789abcdef", wechat_aes_key="")
    assert (ok.aes_key, ok.wechat_path, ok.wechat_api_base) == (None, "/wechat", "https://api.weixin.qq.com")


def test_cli_stops_with_one_line_per_missing_setting(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "bot", "wechat", "--listen", "127.0.0.1:18100"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert [line.split()[0] for line in lines] == ["WECHAT_TOKEN", "WECHAT_APPID", "WECHAT_APPSECRET"]
    bad = subprocess.run([sys.executable, "-m", "bot", "wechat", "--listen", "nope"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 2 and bad.stderr.strip().startswith("--listen")


def test_cli_refuses_the_public_default_deeplink_key(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "WECHAT_TOKEN": "QDG6eK",
           "WECHAT_APPID": "wx5823bf96d3bd56c7", "WECHAT_APPSECRET": "0123456789abcdef0123456789abcdef"}
    for key in (None, DEFAULT_KEY, "short"):
        done = subprocess.run([sys.executable, "-m", "bot", "wechat", "--listen", "127.0.0.1:18100"], cwd=tmp_path,
                              env=env if key is None else {**env, "DEEPLINK_KEY": key},
                              capture_output=True, text=True, timeout=60, check=False)
        assert (done.returncode, done.stdout) == (2, "")
        [line] = done.stderr.strip().splitlines()
        assert line.startswith("DEEPLINK_KEY")
