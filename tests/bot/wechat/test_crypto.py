"""bot.wechat.crypto against WeChat's worked examples and against wechatpy (a second implementation)."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wechatpy.crypto import WeChatCrypto

from bot.wechat.crypto import CryptoError, MessageCrypto, sign, signature_ok

# WeCom's 加解密方案说明 「举例说明」 (https://developer.work.weixin.qq.com/document/path/90968), the
# same scheme as the official-account one; also the values of WeChat's sample code (Sample.py/.java).
DOC_TOKEN = "QDG6eK"
DOC_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
DOC_ID = "wx5823bf96d3bd56c7"
DOC_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
)
# The official-account sample's unit test (WXBizMsgCryptTest.java): a fixed random prefix, so the
# ciphertext is known exactly.
MP_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
MP_APPID = "wxb11529c136998cb6"
MP_ENCRYPTED = "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="


def test_worked_example_message_decrypts_with_its_signature() -> None:
    crypto = MessageCrypto(DOC_TOKEN, DOC_KEY, DOC_ID)
    plain = crypto.decrypt_checked("477715d11cdb4164915debcba66cb864d751f3e6", "1409659813", "1372623149",
                                   DOC_ENCRYPT)
    assert b"<Content><![CDATA[hello]]></Content>" in plain
    assert b"<MsgId>4561255354251345929</MsgId>" in plain


def test_worked_example_url_verification() -> None:
    crypto = MessageCrypto(DOC_TOKEN, DOC_KEY, DOC_ID)
    echo = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
    assert crypto.decrypt_checked("5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "1409659589", "263014780",
                                  echo) == b"1616140317555161061"


def test_official_sample_ciphertext_is_reproduced_exactly() -> None:
    crypto = MessageCrypto("pamtest", MP_KEY, MP_APPID)
    assert crypto.encrypt("我是中文abcd123".encode(), b"aaaabbbbccccdddd") == MP_ENCRYPTED
    assert crypto.decrypt(MP_ENCRYPTED) == "我是中文abcd123".encode()


def test_wrong_appid_signature_or_ciphertext_is_refused() -> None:
    other = MessageCrypto(DOC_TOKEN, DOC_KEY, "wx0000000000000000")
    with pytest.raises(CryptoError):
        other.decrypt(DOC_ENCRYPT)
    crypto = MessageCrypto(DOC_TOKEN, DOC_KEY, DOC_ID)
    with pytest.raises(CryptoError):
        crypto.decrypt_checked("0" * 40, "1409659813", "1372623149", DOC_ENCRYPT)
    for bad in ("not base64!!", "", base64.b64encode(b"x" * 15).decode(), base64.b64encode(b"x" * 32).decode()):
        with pytest.raises(CryptoError):
            crypto.decrypt(bad)
    with pytest.raises(CryptoError):
        MessageCrypto(DOC_TOKEN, "short", DOC_ID)


def test_plain_signature_is_the_sorted_sha1() -> None:
    # WeChat's 接入指南 algorithm; the order of the arguments does not matter.
    assert sign("QDG6eK", "1409659589", "263014780") == sign("263014780", "QDG6eK", "1409659589")
    assert signature_ok(sign("t", "1", "2"), "t", "1", "2")
    assert signature_ok(sign("t", "1", "2").upper(), "t", "1", "2")
    assert not signature_ok(None, "t", "1", "2")
    assert not signature_ok("", "t", "1", "2")
    assert not signature_ok(sign("t", "1", "3"), "t", "1", "2")


@settings(max_examples=40, deadline=None)
@given(text=st.text(max_size=600), nonce=st.from_regex(r"[0-9]{1,10}", fullmatch=True))
def test_interoperates_with_wechatpy(text: str, nonce: str) -> None:
    """Replies we seal open with wechatpy, and messages wechatpy seals open with ours."""
    ours = MessageCrypto(DOC_TOKEN, MP_KEY, DOC_ID)
    theirs = WeChatCrypto(DOC_TOKEN, MP_KEY, DOC_ID)
    message = f"<xml><Content><![CDATA[{text}]]></Content></xml>"
    sealed = ours.encrypt_reply(message.encode(), "1409659813", nonce)
    envelope = (f"<xml><Encrypt><![CDATA[{sealed.encrypt}]]></Encrypt></xml>")
    assert theirs.decrypt_message(envelope, sealed.msg_signature, sealed.timestamp, sealed.nonce) == message
    from_them = theirs.encrypt_message(message, nonce, "1409659813")
    encrypt = from_them.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    signature = from_them.split("<MsgSignature><![CDATA[")[1].split("]]>")[0]
    assert ours.decrypt_checked(signature, "1409659813", nonce, encrypt).decode() == message
