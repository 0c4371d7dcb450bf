"""WeChat's XML messages: parse a pushed message, build a passive reply.

Parsing uses defusedxml with DTDs, entities and external references all refused
(a pushed body is attacker-controlled until its signature is checked, and even a
signed one is parsed defensively). Bodies over `MAX_BODY` bytes are refused before
parsing. A message is a flat `<xml>` of simple fields (接收普通消息 / 接收事件推送,
https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html);
nested fields (e.g. a link's or a card's children) are read as their text, never interpreted.

Passive replies (被动回复用户消息,
https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html):
ToUserName and FromUserName swapped, CreateTime, MsgType text, Content - each in CDATA.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from bot.wechat.crypto import Encrypted

MAX_BODY = 64 * 1024  # bytes; WeChat's own messages are a few hundred bytes
MAX_FIELDS = 64


class BadXml(ValueError):
    """The body is not a message we accept (too large, malformed, DTD/entities, not <xml>)."""


def parse_fields(body: bytes) -> dict[str, str]:
    """The `<xml>` root's child elements as {tag: text}; BadXml for anything else."""
    if len(body) > MAX_BODY:
        raise BadXml("body over 64 KB")
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, ET.ParseError, ValueError) as exc:
        raise BadXml(f"unreadable XML: {type(exc).__name__}") from None
    if root.tag != "xml":
        raise BadXml("root element is not <xml>")
    fields: dict[str, str] = {}
    for child in root:
        if len(fields) >= MAX_FIELDS:
            raise BadXml("too many fields")
        if isinstance(child.tag, str) and child.tag not in fields:
            fields[child.tag] = "".join(child.itertext()).strip()
    return fields


# Characters XML 1.0 does not allow at all (a reply holding one would be refused by WeChat).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _cdata(text: str) -> str:
    # "]]>" cannot appear inside CDATA: split it across two sections.
    return "<![CDATA[" + _NOT_XML.sub("", text).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(to_user: str, from_user: str, content: str, create_time: int) -> bytes:
    """A passive text reply (to_user is the follower's openid, from_user the account)."""
    return (
        "<xml>"
        f"<ToUserName>{_cdata(to_user)}</ToUserName>"
        f"<FromUserName>{_cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(create_time)}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{_cdata(content)}</Content>"
        "</xml>"
    ).encode()


def encrypted_envelope(encrypted: Encrypted) -> bytes:
    """The safe-mode reply body: Encrypt, MsgSignature, TimeStamp, Nonce."""
    return (
        "<xml>"
        f"<Encrypt>{_cdata(encrypted.encrypt)}</Encrypt>"
        f"<MsgSignature>{_cdata(encrypted.msg_signature)}</MsgSignature>"
        f"<TimeStamp>{int(encrypted.timestamp)}</TimeStamp>"
        f"<Nonce>{_cdata(encrypted.nonce)}</Nonce>"
        "</xml>"
    ).encode()
