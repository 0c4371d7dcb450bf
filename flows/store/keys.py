"""Redis key layout. Every key of one conversation shares the hash tag `{<conversation id>}`.

    <prefix>:{<cid>}:st   STR   "<version> [~<floor>] <recent update ids>\\n<state>" (flows.store.record)
    <prefix>:{<cid>}:in   ZSET  inbox: update id -> order (numeric update id, else arrival counter)
    <prefix>:{<cid>}:ip   HASH  inbox payloads: update id -> redacted event JSON
    <prefix>:{<cid>}:ls   STR   drain lease token (SET NX PX, short and renewed by its holder)
    <prefix>:{<cid>}:fl   STR   flood counter of the current window (exists only during it)
    <prefix>:{<cid>}:rm   HASH  reminders: kind -> {"due": ..., "text": ...}
    <prefix>:{<cid>}:<l>  LIST  a conversation log, and <c> STR its counter (flows.store.log;
                                the web page's transcript: wl, ws)
    <prefix>:pending      ZSET  hint: conversation id -> ms of last submit (for recover())
    <prefix>:referrals    HASH  referral source -> count
    <prefix>:reminders:due ZSET reminder index: "<kind> <cid>" -> due day (days since 1970-01-01)

The inbox keys exist only while updates wait; Redis drops empty ZSETs and HASHes.
The three global keys live in other hash slots and are never touched by the
per-conversation scripts (Redis Cluster forbids cross-slot scripts).
The prefix is configurable so tests on a shared server stay in their own namespace.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PREFIX = "yb"


@dataclass(frozen=True, slots=True)
class KeySpace:
    """Builds key names under one prefix."""

    prefix: str = DEFAULT_PREFIX

    def conversation(self, cid: str, part: str) -> str:
        """One key of conversation `cid`; `part` is st, in, ip, ls, fl or rm."""
        return f"{self.prefix}:{{{cid}}}:{part}"

    def state(self, cid: str) -> str:
        return self.conversation(cid, "st")

    def inbox(self, cid: str) -> str:
        return self.conversation(cid, "in")

    def payloads(self, cid: str) -> str:
        return self.conversation(cid, "ip")

    def lease(self, cid: str) -> str:
        return self.conversation(cid, "ls")

    def flood(self, cid: str) -> str:
        return self.conversation(cid, "fl")

    def reminders(self, cid: str) -> str:
        return self.conversation(cid, "rm")

    def all_of(self, cid: str) -> tuple[str, ...]:
        """Every key a conversation can have, in a fixed order."""
        return tuple(self.conversation(cid, part) for part in ("st", "in", "ip", "ls", "fl", "rm"))

    @property
    def pending(self) -> str:
        return f"{self.prefix}:pending"

    @property
    def referrals(self) -> str:
        return f"{self.prefix}:referrals"

    @property
    def reminders_due(self) -> str:
        return f"{self.prefix}:reminders:due"
