"""Which rules are in force for one region chain, scheme and day.

A region's chain is its rule files, most specific first: county -> city -> province -> national.
For each rule key the entry in force in each file is the latest whose ``since`` is on or before
the day; ``inherit`` skips a file, ``none`` stops the walk (nothing further up is used).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date

from policies.model import Scheme
from policies.schema import INHERIT, NOTE_PREFIX, NOTHING, Entry, RuleFile


@dataclass(frozen=True, slots=True)
class InForce:
    """What one chain says on one day for one scheme.

    ``entries`` maps each key to its in-force entries, most specific first; ``notes`` holds the
    in-force entry of each note key (the most specific file's); ``hotlines`` the hotline entries
    of the chain, local first.
    """

    entries: dict[str, tuple[Entry, ...]]
    notes: tuple[Entry, ...]
    hotlines: tuple[Entry, ...]

    def first(self, key: str) -> Entry | None:
        """The most specific entry in force for ``key``, or None."""
        found = self.entries.get(key)
        return found[0] if found else None


def current(entries: tuple[Entry, ...], on: date) -> Entry | None:
    """The entry of one file in force on ``on`` (entries are sorted by ``since``)."""
    index = bisect_right([e.since for e in entries], on)
    return entries[index - 1] if index else None


def _walk(levels: list[tuple[Entry, ...]], on: date) -> list[Entry]:
    picked: list[Entry] = []
    for entries in levels:
        found = current(entries, on)
        if found is None or found.value is INHERIT:
            continue
        if found.value is NOTHING:
            break
        picked.append(found)
    return picked


def rules_in_force(files: tuple[RuleFile, ...], scheme: Scheme, on: date) -> InForce:
    """Resolve the chain ``files`` (most specific first) for ``scheme`` on ``on``."""
    levels: dict[str, list[tuple[Entry, ...]]] = {}
    for rf in files:
        for (sch, key), dated in rf.rules.items():
            if sch is scheme:
                levels.setdefault(key, []).append(dated)
    in_force: dict[str, tuple[Entry, ...]] = {}
    for key, found in levels.items():
        picked = _walk(found, on)
        if picked:
            in_force[key] = tuple(picked)
    notes = tuple(found[0] for key, found in in_force.items() if key.startswith(NOTE_PREFIX))
    hotlines = tuple(_walk([rf.hotlines for rf in files if rf.hotlines], on))
    return InForce(in_force, notes, hotlines)
