"""WeChat message-push signatures and safe-mode (安全模式) message encryption.

Why our own module: WeChat's own Python sample (WXBizMsgCrypt) is Python 2 era code
on PyCrypto, and wechatpy's implementation is synchronous and barely maintained; the
protocol is small and fully specified, so it is written here (AES from `cryptography`)
and tested against WeChat's worked examples and against wechatpy (tests only).

The protocol, from WeChat's developer documentation:

* 接入指南 / 验证消息来自微信服务器
  https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
  ``signature = sha1(join(sort([token, timestamp, nonce])))``.
* 消息加解密说明 https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
  (the same scheme as WeCom's 加解密方案说明, https://developer.work.weixin.qq.com/document/path/90968):
  ``msg_signature = sha1(join(sort([token, timestamp, nonce, Encrypt])))``;
  AESKey = base64(EncodingAESKey + "="), 32 bytes; AES-256-CBC with IV = AESKey[:16];
  PKCS#7 padding to a multiple of **32** bytes (not AES's 16);
  plaintext = 16 random bytes + 4-byte big-endian length + message + AppID.

Signatures are compared in constant time. Every failure raises `CryptoError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeChat pads to 32 bytes, although AES blocks are 16
_AES_KEY = re.compile(r"^[A-Za-z0-9]{43}$")


class CryptoError(ValueError):
    """A signature does not match, or a ciphertext cannot be decrypted or is not for this AppID."""


def sign(*parts: str) -> str:
    """WeChat's signature: SHA-1 hex of the parts sorted as strings and concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signature_ok(given: str | None, *parts: str) -> bool:
    """Whether `given` is the signature of `parts` (constant-time comparison)."""
    if not given:
        return False
    return hmac.compare_digest(given.lower().encode(), sign(*parts).encode())


def valid_aes_key(encoding_aes_key: str) -> bool:
    """EncodingAESKey is 43 characters of A-Z a-z 0-9 (base64 of 32 bytes without the '=')."""
    return bool(_AES_KEY.match(encoding_aes_key))


def _pad(data: bytes) -> bytes:
    n = BLOCK - len(data) % BLOCK
    return data + bytes([n]) * n


def _unpad(data: bytes) -> bytes:
    n = data[-1] if data else 0
    if not 1 <= n <= BLOCK or n > len(data):
        raise CryptoError("bad padding")
    return data[:-n]


@dataclass(frozen=True, slots=True)
class Encrypted:
    """An encrypted reply: the four fields of WeChat's reply envelope."""

    encrypt: str
    msg_signature: str
    timestamp: str
    nonce: str


class MessageCrypto:
    """Encrypt and decrypt safe-mode messages of one official account."""

    def __init__(self, token: str, encoding_aes_key: str, app_id: str) -> None:
        if not valid_aes_key(encoding_aes_key):
            raise CryptoError("EncodingAESKey must be 43 characters of A-Z a-z 0-9")
        self.token = token
        self.app_id = app_id
        self._key = base64.b64decode(encoding_aes_key + "=")
        self._iv = self._key[:16]

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._iv))

    def encrypt(self, message: bytes, random16: bytes | None = None) -> str:
        """Base64 ciphertext of `message` (random prefix from os.urandom unless given)."""
        prefix = random16 if random16 is not None else os.urandom(16)
        if len(prefix) != 16:
            raise ValueError("the random prefix is 16 bytes")
        plain = prefix + struct.pack(">I", len(message)) + message + self.app_id.encode()
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(_pad(plain)) + encryptor.finalize()).decode()

    def decrypt(self, encrypt: str) -> bytes:
        """The message inside `encrypt`; CryptoError unless it decrypts and names this AppID."""
        try:
            raw = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError):
            raise CryptoError("Encrypt is not base64") from None
        if not raw or len(raw) % 16:
            raise CryptoError("Encrypt is not whole AES blocks")
        decryptor = self._cipher().decryptor()
        plain = _unpad(decryptor.update(raw) + decryptor.finalize())
        if len(plain) < 20:
            raise CryptoError("plaintext too short")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise CryptoError("bad message length")
        message, app_id = plain[20 : 20 + length], plain[20 + length :]
        if not hmac.compare_digest(app_id, self.app_id.encode()):
            raise CryptoError("the message is for another AppID")
        return message

    def decrypt_checked(self, msg_signature: str | None, timestamp: str, nonce: str, encrypt: str) -> bytes:
        """Check `msg_signature` over (token, timestamp, nonce, Encrypt), then decrypt."""
        if not signature_ok(msg_signature, self.token, timestamp, nonce, encrypt):
            raise CryptoError("msg_signature does not match")
        return self.decrypt(encrypt)

    def encrypt_reply(self, message: bytes, timestamp: str, nonce: str,
                      random16: bytes | None = None) -> Encrypted:
        """Encrypt a reply and sign it with its own MsgSignature."""
        encrypt = self.encrypt(message, random16)
        return Encrypted(encrypt, sign(self.token, timestamp, nonce, encrypt), timestamp, nonce)
