"""Limits on a question's inputs, written once: the rule files, the case files and the
conversation (`flows.slots`) all read them from here."""

from __future__ import annotations

MAX_GAP_MONTHS = 600  # a gap beyond 50 years is not a question anyone asks about
MAX_YEARS_PAID = 60.0  # years of contributions a person can have paid
MIN_BASE = 100.0  # monthly contribution base, yuan: below this it is not a base but a typo
MAX_BASE = 1_000_000.0
