"""The engine's tables (rules in force per period, per-person views, per-gap tails and outcomes) change nothing.

Each answer is compared with the same answer worked out in place, without per-gap tables (the
reference); and an answer must not depend on which answers were computed before it, since the
tables are filled lazily by whichever query comes first: a second rule book is filled in the
opposite order, and a sample is answered from cold tables.
"""

from __future__ import annotations

import itertools
from datetime import date

from policies import load_rulebook
from policies.engine import RuleBook
from policies.model import Answer, Cause, Gender, InsuranceType, Query
from policies.regions import RegionIndex

# Today, and the last day before / the first day of the national rules (2025-04-18): periods differ.
DAYS = (date(2026, 11, 22), date(2025, 4, 17), date(2025, 4, 18))
GAPS = (None, 0, 1, 4, 6, 25)


def _queries(rulebook: RuleBook) -> list[Query]:
    codes = [*sorted(rulebook.files), "540100"]  # every rule file's region, and one with none
    out = []
    for code, kind, cause, gap, on in itertools.product(codes, InsuranceType, Cause, GAPS, DAYS):
        retiree = kind is InsuranceType.RETIREE
        out.append(Query(region_code=code, insurance_type=kind, on=on, gap_months=gap, cause=cause,
                         monthly_base=5000.0 if gap == 4 else None, years_paid=12.0 if retiree else None,
                         gender=Gender.FEMALE if retiree else None))
    return out


def _seen(answer: Answer) -> Answer:
    # Answers are frozen dataclasses all the way down (trace and sources included): == compares all.
    return answer


def _cold(rulebook: RuleBook, query: Query) -> Answer:
    rulebook._chains.clear()  # drops every chain with its day, person and tail tables
    return rulebook.answer(query)


def test_answers_do_not_depend_on_what_was_asked_before(regions: RegionIndex) -> None:
    forward, backward = load_rulebook(regions=regions), load_rulebook(regions=regions)
    queries = _queries(forward)
    assert len(queries) > 5000
    warm = [_seen(forward.answer(q)) for q in queries]
    again = [_seen(forward.answer(q)) for q in queries]
    reverse = [_seen(backward.answer(q)) for q in reversed(queries)][::-1]
    assert again == warm
    assert reverse == warm
    reference = load_rulebook(regions=regions, tables=False)
    for query, answer in zip(queries, warm, strict=True):
        assert reference.answer(query) == answer, query
    cold_book = load_rulebook(regions=regions)
    for i in range(0, len(queries), 7):  # a spread sample: cold tables for every answer are slow
        assert _seen(_cold(cold_book, queries[i])) == warm[i], queries[i]


def test_full_tables_and_unusual_gaps_answer_the_same(regions: RegionIndex) -> None:
    reference = load_rulebook(regions=regions, tables=False)
    full = load_rulebook(regions=regions)
    full.max_tails = 3  # the table fills after three tails; later answers work theirs out each time
    queries = [q for q in _queries(full) if q.on == DAYS[0]][:400]
    queries += [Query(region_code="650100", insurance_type=InsuranceType.FLEXIBLE, on=DAYS[0], gap_months=gap)
                for gap in (601, 1000)]
    for query in queries:
        assert full.answer(query) == reference.answer(query), query
    kept = [gap for chain in full._chains.values() for now in chain._periods.values()
            for view in now._people.values() for gap in view.tails]
    assert len(kept) == 3 and all(g is None or g <= 600 for g in kept)
