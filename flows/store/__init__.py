"""Redis conversation store: keys, Lua scripts, event wire format and the store itself."""

from flows.store.codec import decode_event, encode_event, normalise_update_id, numeric_order
from flows.store.conversation import (
    KEEP,
    Acquired,
    AcquireStatus,
    CommitStatus,
    ConversationStore,
    InboxItem,
    Keep,
    Lease,
    Record,
    StoreConfig,
    SubmitStatus,
    Submitted,
)
from flows.store.keys import DEFAULT_PREFIX, KeySpace

__all__ = [
    "DEFAULT_PREFIX",
    "KEEP",
    "AcquireStatus",
    "Acquired",
    "CommitStatus",
    "ConversationStore",
    "InboxItem",
    "Keep",
    "KeySpace",
    "Lease",
    "Record",
    "StoreConfig",
    "SubmitStatus",
    "Submitted",
    "decode_event",
    "encode_event",
    "normalise_update_id",
    "numeric_order",
]
