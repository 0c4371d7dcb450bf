"""Someone who left a job and has nothing unpaid yet (the employer paid the month they left), read as
the person who asked, as properties over the real engine and renderer:

* the card still says "没有断缴" but not the bare "按时足额缴纳每月的医保费即可": it says the old employer
  no longer pays and how to keep paying (a flexible worker's own enrolment; from 人社部令第20号 on,
  a new employer's 30 days);
* the 现在怎么办 part gives every way, where to pay as a flexible worker (the region's channels, a
  national one said to be national practice, a local one never), and the sources behind all of it;
* nobody else (another cause, or a gap) gets any of this.

Exhaustive over the whole region index × three question dates (before and after 人社部令第20号).
"""

from __future__ import annotations

from datetime import date

import pytest

from flows.render import CARD_MAX_CHARS, render_card, topic_parts
from policies import Cause, InsuranceType, Query, RuleBook, load_rulebook, wording
from policies.model import Answer, Level
from policies.regions import RegionIndex

REGIONS = RegionIndex.load()
BOOK: RuleBook = load_rulebook(regions=REGIONS)
ALL_CODES = sorted(r.code for r in REGIONS)
DATES = [date(2012, 6, 10), date(2025, 6, 10), date(2026, 11, 30)]
BARE = "按时足额缴纳每月的医保费即可"  # what someone whose employer still pays is told
ORDER_20 = "law:人社部令第20号"  # a new employer registers its staff within 30 days (from 2013-11-01)


def _line(text: str, label: str) -> str | None:
    return next((line for line in text.splitlines() if line.startswith(label)), None)


def _problems(a: Answer, on: date, where: str) -> list[str]:
    keep = a.keep_paying
    if not a.no_gap or keep is None:
        return [f"{where}: no gap after leaving a job, yet nothing on how to keep paying"]
    out: list[str] = []
    card = render_card(a, on).text
    now = "\n\n".join(topic_parts(a, on, {"now"}))
    if len(card) > CARD_MAX_CHARS:
        out.append(f"{where}: the card is {len(card)} characters")
    if not (_line(card, "结论：") or "").startswith("结论：✅ 没有断缴"):
        out.append(f"{where}: the card no longer says there is no gap: {card}")
    for name, text in (("card", card), ("now", now)):
        if BARE in text:
            out.append(f"{where}: the {name} tells someone whose employer stopped paying to just keep paying")
    said = _line(card, "现在：") or ""
    if keep.short not in said or "灵活就业" not in said:
        out.append(f"{where}: the card does not say how to keep paying: {said!r}")
    entry = [t for t in a.trace if t.field == "keep_paying"]
    refs = {ref for t in entry for ref in t.sources}
    if (ORDER_20 in refs) != ("30日" in said):
        out.append(f"{where}: the new employer's 30 days is said without its order, or missing with it: {said!r}")
    national = all(t.level is Level.NATIONAL for t in entry)
    if national != ("全国通行做法" in said):
        out.append(f"{where}: the ways are national={national} but the card says {said!r}")
    for way in keep.ways:
        if way not in now:
            out.append(f"{where}: the now part leaves out {way!r}")
    basis = _line(now, "📚 依据：") or ""
    shown = {s.id: wording.source_line(s) for s in a.sources}
    for ref in refs | {ref for t in a.trace if t.field == "keep_paying.channels" for ref in t.sources}:
        if shown.get(ref, ref) not in basis:
            out.append(f"{where}: the now part does not cite {ref}")
    if not keep.channels:
        out.append(f"{where}: nowhere to pay as a flexible worker")
    for c in keep.channels:
        label = "线上：" if c.kind == "online" else "线下："
        line = _line(now, label) or ""
        if c.name.split("（")[0] not in line:
            out.append(f"{where}: the channel {c.name!r} is not in the now part")
    levels = [t.level for t in a.trace if t.field == "keep_paying.channels"]
    head = _line(now, "🏢") or ""
    channel_lines = [ln for ln in now.splitlines() if ln.startswith(("线上：", "线下："))]
    tagged = "全国通行做法" in head or any("全国通行做法" in ln for ln in channel_lines)
    if levels and all(lv is Level.NATIONAL for lv in levels) and not tagged:
        out.append(f"{where}: national channels are shown as the region's own: {head}")
    if levels and all(lv is not Level.NATIONAL for lv in levels) and tagged:
        out.append(f"{where}: the region's own channels are called national: {head}")
    return out


@pytest.mark.parametrize("on", DATES, ids=str)
def test_every_region_tells_someone_who_left_a_job_how_to_keep_paying(on: date) -> None:
    problems: list[str] = []
    for code in ALL_CODES:
        a = BOOK.answer(Query(code, InsuranceType.EMPLOYEE, on, gap_months=0, cause=Cause.JOB_CHANGE))
        problems += _problems(a, on, f"{code} {on}")
    assert not problems, "\n".join(problems[:15])


@pytest.mark.parametrize("on", DATES, ids=str)
def test_nobody_else_is_told_how_to_keep_paying(on: date) -> None:
    problems: list[str] = []
    for code in ALL_CODES[::40]:  # every 40th region: the engine reads the cause the same way everywhere
        for kind in InsuranceType:
            for cause in Cause:
                for gap in (None, 0, 1, 4, 13):
                    if kind is InsuranceType.EMPLOYEE and cause is Cause.JOB_CHANGE and gap == 0:
                        continue
                    a = BOOK.answer(Query(code, kind, on, gap_months=gap, cause=cause, years_paid=10.0))
                    card = render_card(a, on).text
                    if a.keep_paying is not None or (a.no_gap and "现在：" in card):
                        problems.append(f"{code} {kind} {cause} {gap} {on}: told how to keep paying")
    assert not problems, "\n".join(problems[:15])
