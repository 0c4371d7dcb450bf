"""Every fact traces to a source: seed titles match the seed files, and every seed is used."""

from __future__ import annotations

from pathlib import Path

import pytest

from policies.loader import RULES_DIR, load_rule_files
from policies.model import Confidence

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"


@pytest.mark.skipif(not SEEDS.is_dir(), reason="seed articles not present")
def test_seed_sources_name_real_seed_files_by_their_title() -> None:
    seen: set[str] = set()
    for rf in load_rule_files(RULES_DIR):
        for src in rf.sources.values():
            if src.id.startswith("seed:"):
                # "seed:NNN_hash#part" cites a reposted part of a seed page under its own confidence.
                name, _, part = src.id.removeprefix("seed:").partition("#")
                path = SEEDS / (name + ".txt")
                assert path.is_file(), f"{rf.path}:{src.line}: {src.id} has no seed file"
                title = path.read_text(encoding="utf-8").splitlines()[0].strip()
                if part:
                    assert src.title.startswith(title + "（"), f"{rf.path}:{src.line}"
                else:
                    assert src.title == title, f"{rf.path}:{src.line}"
                seen.add(path.name)
    assert seen == {p.name for p in SEEDS.glob("*.txt")}, "every seed article is used"


def test_laws_and_documents_are_official_and_named_in_full() -> None:
    for rf in load_rule_files(RULES_DIR):
        for src in rf.sources.values():
            if src.id.startswith(("law:", "doc:")):
                assert src.confidence is Confidence.OFFICIAL
                assert src.title.startswith("《"), f"{rf.path}:{src.line}"
            if src.id.startswith("site:"):
                assert src.confidence is Confidence.CONTENT_SITE


def test_unverified_sources_give_no_date() -> None:
    for rf in load_rule_files(RULES_DIR):
        for src in rf.sources.values():
            if not src.verified:
                assert not src.id.startswith("seed:"), f"{rf.path}:{src.line}: seeds are read, so verified"
