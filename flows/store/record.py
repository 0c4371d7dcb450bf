"""The stored record of one conversation: one Redis STRING, small on purpose.

    <version> [~<floor>] @<generation> <older update ids> | <recent update ids>\\n<body>

The header is ASCII so the Lua scripts can check the version and the seen ids (every
decimal id at or below the floor counts as seen, see flows.store.lua); the
body is the state JSON (`ConversationState.dumps`), deflated against a preset
dictionary of the strings every state repeats - a typical finished conversation's
257-byte state becomes about 60 bytes. A STRING rather than a HASH because a hash
with any value over 64 bytes leaves Redis's compact encoding and costs several
hundred bytes more. An empty body is a forgotten conversation (version and seen ids
are kept a short while so a redelivered update is still recognised).

Body formats, told apart by the first byte: 0x01 = raw deflate with dictionary v1;
anything else is stored as is (plain JSON). A body that cannot be inflated reads as
no state, so the conversation starts afresh rather than failing.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

_DEFLATE_V1 = b"\x01"
# Preset dictionary: fragments of ConversationState JSON, most frequent last (deflate
# reaches the end of the dictionary with the shortest distances). Changing it needs a
# new marker byte; old records must stay readable.
_ZDICT_V1 = (
    b'"source":"gender":"female""gender":"male""years_paid":"gap_since":"cause":"personal"'
    b'"cause":"employer""insurance_type":"retiree""insurance_type":"unemployed"'
    b'"insurance_type":"resident""insurance_type":"employee""p":{"candidates":["ask:years_paid"'
    b'"ask:cause""ask:monthly_base""ask:gap_months""ask:insurance_type""ask:region"'
    b'"monthly_base":"gap_months":"insurance_type":"flexible"},"a":1}'
    b'{"s":1,"t":"answered","v":{"region":"'
    b'"h":[{},{"region":"'
)
_MIN_TO_COMPRESS = 48  # shorter bodies do not shrink enough to be worth it


@dataclass(frozen=True, slots=True)
class StoredRecord:
    version: int
    recent_ids: tuple[str, ...]
    state: bytes | None  # the state JSON, None when absent or forgotten
    floor: str = ""  # decimal update ids at or below it count as applied ("" = none)


def pack_state(state_json: bytes) -> bytes:
    """The body to store for `state_json` (deflated when that makes it smaller)."""
    if len(state_json) < _MIN_TO_COMPRESS:
        return state_json
    # memLevel 1: the smallest hash tables; states are a few hundred bytes, so no size is lost.
    deflater = zlib.compressobj(6, zlib.DEFLATED, -15, 1, zdict=_ZDICT_V1)
    packed = _DEFLATE_V1 + deflater.compress(state_json) + deflater.flush()
    return packed if len(packed) < len(state_json) else state_json


def unpack_state(body: bytes | None) -> bytes | None:
    """The state JSON stored in `body`; None for no state or an unreadable body."""
    if not body:
        return None
    if body[:1] == _DEFLATE_V1:
        try:
            return zlib.decompressobj(-15, zdict=_ZDICT_V1).decompress(body[1:])
        except zlib.error:
            return None
    return body


def parse_record(raw: bytes | None) -> StoredRecord:
    """Read a whole record as stored (for `ConversationStore.read`)."""
    if not raw:
        return StoredRecord(0, (), None)
    header, newline, body = raw.partition(b"\n")
    fields = header.decode("ascii", "replace").split()
    if not newline or not fields or not fields[0].isdigit():
        return StoredRecord(0, (), None)
    floor = fields[1][1:] if len(fields) > 1 and fields[1].startswith("~") else ""
    ids = tuple(f for f in fields[2 if floor else 1 :] if f != "|" and not f.startswith("@"))
    return StoredRecord(int(fields[0]), ids, unpack_state(body), floor)
