"""Shared fixtures for the policy engine tests: the real region index and the packaged rule book."""

from __future__ import annotations

import pytest

from policies import RuleBook, load_rulebook
from policies.regions import RegionIndex


@pytest.fixture(scope="session")
def regions() -> RegionIndex:
    return RegionIndex.load()


@pytest.fixture(scope="session")
def book(regions: RegionIndex) -> RuleBook:
    return load_rulebook(regions=regions)
