"""Redis conversation store: keys, Lua scripts, event wire format, conversation logs and the store itself."""

from flows.store.client import RedisClient, is_cluster
from flows.store.codec import decode_event, encode_event, normalise_update_id
from flows.store.conversation import (
    KEEP,
    Acquired,
    AcquireStatus,
    CommitStatus,
    ConversationStore,
    InboxItem,
    Keep,
    Lease,
    StoreConfig,
    SubmitStatus,
    Submitted,
)
from flows.store.keys import DEFAULT_PREFIX, KeySpace
from flows.store.log import ConversationLog, LogAppend, LogEntry, LogStore, parse_log
from flows.store.record import StoredRecord, pack_state, parse_record, unpack_state

__all__ = [
    "DEFAULT_PREFIX",
    "KEEP",
    "AcquireStatus",
    "Acquired",
    "CommitStatus",
    "ConversationLog",
    "ConversationStore",
    "InboxItem",
    "Keep",
    "KeySpace",
    "Lease",
    "LogAppend",
    "LogEntry",
    "LogStore",
    "RedisClient",
    "StoreConfig",
    "StoredRecord",
    "SubmitStatus",
    "Submitted",
    "decode_event",
    "encode_event",
    "is_cluster",
    "normalise_update_id",
    "pack_state",
    "parse_log",
    "parse_record",
    "unpack_state",
]
