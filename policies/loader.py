"""Read every rule file under a directory, strictly, all or nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from policies.errors import RuleError
from policies.model import Confidence, Level, Scheme
from policies.parsers import FILTER_KEYS, VALUE_PARSERS, Parser, p_hotlines, p_note, parse_filter
from policies.readers import Ctx, a_date, boolean, choice, fields, seq, text
from policies.schema import (
    INHERIT,
    NOTE_PREFIX,
    NOTHING,
    REGION_CODE,
    SOURCE_ID,
    Dispute,
    Entry,
    RuleFile,
    Source,
    strength,
)
from policies.yamlstrict import YNode, parse_text

RULES_DIR = Path(__file__).resolve().parent / "rules"


def display_path(path: Path, root: Path) -> str:
    """How a file is named in messages and traces: ``policies/rules/...`` for the packaged rules."""
    base = root.resolve().parent.parent if root.resolve() == RULES_DIR else root.resolve().parent
    try:
        return path.resolve().relative_to(base).as_posix()
    except ValueError:
        return str(path)


def rule_paths(root: Path) -> list[Path]:
    """Every rule file under ``root`` in a stable order."""
    return sorted(p for p in root.rglob("*.yaml") if p.is_file())


def level_of_code(code: str) -> Level:
    """The level a six-digit code stands for (000000 is national)."""
    if code == "000000":
        return Level.NATIONAL
    if code.endswith("0000"):
        return Level.PROVINCE
    return Level.CITY if code.endswith("00") else Level.COUNTY


def load_rule_files(root: Path) -> list[RuleFile]:
    """Parse and cross-check every file under ``root``; raise one RuleError listing all problems."""
    files: list[RuleFile] = []
    errors: list[RuleError] = []
    paths = rule_paths(root)
    if not paths:
        raise RuleError(str(root), 1, "no rule files (*.yaml) found", "point at the rules directory")
    for path in paths:
        shown = display_path(path, root)
        try:
            raw = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(RuleError(shown, 1, f"cannot read the file ({exc})", "save it as UTF-8 text"))
            continue
        try:
            files.append(parse_rule_file(raw, shown, path.name, path.parent.name if path.parent != root else ""))
        except RuleError as exc:
            errors.extend(exc.errors)
    if not errors:
        errors.extend(cross_check(files))
    if errors:
        raise RuleError.many(errors)
    return files


def cross_check(files: list[RuleFile]) -> list[RuleError]:
    """Checks across files: one file per region, a national file, the same source id means the same source."""
    errors: list[RuleError] = []
    seen: dict[str, RuleFile] = {}
    by_id: dict[str, tuple[Source, str]] = {}
    for rf in files:
        if rf.region_code in seen:
            errors.append(RuleError(rf.path, 1, f"region {rf.region_code} already has {seen[rf.region_code].path}",
                                    "keep one file per region and merge the rules"))
        seen[rf.region_code] = rf
        for src in rf.sources.values():
            first = by_id.get(src.id)
            if first is None:
                by_id[src.id] = (src, rf.path)
            elif (first[0].title, first[0].confidence) != (src.title, src.confidence):
                errors.append(RuleError(rf.path, src.line, f"source {src.id} differs from {first[1]}:{first[0].line}",
                                        "use the same title and confidence for the same source everywhere"))
    if "000000" not in seen:
        errors.append(RuleError("rules", 1, "no national rule file (region \"000000\")",
                                "add rules/000000-national.yaml"))
    return errors


def parse_rule_file(raw: str, shown: str, filename: str = "", folder: str = "") -> RuleFile:
    """Parse one rule file's text; ``shown`` is the name used in messages."""
    ctx = Ctx(shown)
    root = parse_text(raw, shown)
    top = fields(ctx, root, "the rule file", ("region", "name", "level", "sources"),
                 ("employee", "resident", "hotlines"))
    code_node = top["region"]
    if not isinstance(code_node.value, str) or not REGION_CODE.match(code_node.value):
        raise ctx.fail(code_node.line, f"region must be a six-digit code in quotes, got {code_node.value!r}",
                       'write e.g. region: "650100"')
    code = code_node.value
    level = Level(choice(ctx, top["level"], "level", tuple(lv.value for lv in Level)))
    if level is not level_of_code(code):
        raise ctx.fail(top["level"].line, f"level {level} does not fit code {code}",
                       f"write level: {level_of_code(code)}")
    if filename and not filename.startswith(code):
        raise ctx.fail(code_node.line, f"file name {filename} does not start with the region code {code}",
                       f"rename the file to {code}-<name>.yaml")
    if folder and code != "000000" and not folder.startswith(code[:2]):
        raise ctx.fail(code_node.line, f"region {code} is filed under folder {folder}",
                       f"move the file into the folder of province {code[:2]}")
    name = text(ctx, top["name"], "name")
    sources = _sources(ctx, top["sources"])
    used: set[str] = set()
    rules: dict[tuple[Scheme, str], tuple[Entry, ...]] = {}
    for scheme in Scheme:
        if scheme.value in top:
            section = fields(ctx, top[scheme.value], f"the {scheme.value} section", (),
                             (*[k for k, (_, s) in VALUE_PARSERS.items() if scheme in s], "notes"))
            for key, node in section.items():
                if key == "notes":
                    notes = fields(ctx, node, "notes", (), tuple(node.value) if node.kind == "map" else ())
                    for note_id, note_node in notes.items():
                        rules[(scheme, NOTE_PREFIX + note_id)] = _entries(
                            ctx, note_node, NOTE_PREFIX + note_id, p_note, sources, used, code, level)
                else:
                    parser = VALUE_PARSERS[key][0]
                    rules[(scheme, key)] = _entries(ctx, node, key, parser, sources, used, code, level)
    hotlines: tuple[Entry, ...] = ()
    if "hotlines" in top:
        hotlines = _entries(ctx, top["hotlines"], "hotlines", p_hotlines, sources, used, code, level)
    for alias, src in sources.items():
        if alias not in used:
            raise ctx.fail(src.line, f"source {alias!r} is declared but never cited", "cite it or remove it")
    return RuleFile(shown, code, name, level, sources, rules, hotlines)


def _sources(ctx: Ctx, node: YNode) -> dict[str, Source]:
    out: dict[str, Source] = {}
    declared = fields(ctx, node, "sources", (), tuple(node.value) if node.kind == "map" else ())
    if not declared:
        raise ctx.fail(node.line, "no sources declared", "declare at least one source under sources:")
    for alias, src_node in declared.items():
        f = fields(ctx, src_node, f"source {alias!r}", ("id", "title", "confidence"),
                   ("published", "unverified", "site", "general"))
        sid = text(ctx, f["id"], "id")
        if not SOURCE_ID.match(sid):
            raise ctx.fail(f["id"].line, f"source id {sid!r} has an unknown form",
                           "use seed:NNN_<16 hex>, law:..., doc:..., reply:... or site:...")
        conf = Confidence(choice(ctx, f["confidence"], "confidence", tuple(c.value for c in Confidence)))
        published = a_date(ctx, f["published"], "published") if "published" in f else None
        # `unverified: [title, date]`: what we could not check (the title is then our description,
        # the date unknown). Such a title is shown as a description, never as a real title.
        unverified = {choice(ctx, n, "unverified item", ("title", "date"))
                      for n in seq(ctx, f["unverified"], "unverified")} if "unverified" in f else set()
        if "date" in unverified and published is not None:
            raise ctx.fail(f["published"].line, "an unverified date is given as published",
                           "drop published: (say the known year in the title) or verify the date")
        key_line = node.key_lines[alias] if node.key_lines else src_node.line
        site = text(ctx, f["site"], "site") if "site" in f else None
        general = boolean(ctx, f["general"], "general") if "general" in f else False
        out[alias] = Source(alias, sid, text(ctx, f["title"], "title"), conf, published, key_line, not unverified,
                            site, general)
    return out


def _cite(ctx: Ctx, node: YNode, sources: dict[str, Source], used: set[str]) -> tuple[Source, ...]:
    cited = []
    for item in seq(ctx, node, "sources"):
        alias = item.value
        if not isinstance(alias, str) or alias not in sources:
            raise ctx.fail(item.line, f"unknown source {alias!r}",
                           f"cite one declared under sources: ({', '.join(sources)})")
        used.add(alias)
        cited.append(sources[alias])
    return tuple(cited)


def _entries(ctx: Ctx, node: YNode, key: str, parser: Parser, sources: dict[str, Source], used: set[str],
             code: str, level: Level) -> tuple[Entry, ...]:
    out: list[Entry] = []
    seen: dict[date, int] = {}
    for item in seq(ctx, node, f"{key} (a list of dated entries)"):
        f = fields(ctx, item, f"an entry of {key}", ("since", "value"), ("sources", "note", "disputed_by"))
        since = a_date(ctx, f["since"], "since")
        if since in seen:
            raise ctx.fail(f["since"].line, f"two entries of {key} start on {since} (other on line {seen[since]})",
                           "give each entry its own since date or merge them")
        seen[since] = f["since"].line
        vnode = f["value"]
        if vnode.kind == "scalar" and vnode.value == "inherit":
            value: object = INHERIT
        elif vnode.kind == "scalar" and vnode.value == "none":
            value = NOTHING
        else:
            value = parser(ctx, vnode)
        if "sources" in f:
            cited = _cite(ctx, f["sources"], sources, used)
        elif value is INHERIT:
            cited = ()
        else:
            raise ctx.fail(item.line, f"the value of {key} since {since} has no source",
                           "add sources: [alias] naming a source declared under sources:")
        note = text(ctx, f["note"], "note") if "note" in f else None
        disputes = []
        if "disputed_by" in f:
            for d in seq(ctx, f["disputed_by"], "disputed_by"):
                g = fields(ctx, d, "a disputed_by item", ("says", "sources"), FILTER_KEYS)
                dsrc = _cite(ctx, g["sources"], sources, used)
                if strength(dsrc) > strength(cited):
                    raise ctx.fail(d.line, "a disputing source is stronger than the value's own sources",
                                   "the stronger source decides: swap the value and the dispute")
                disputes.append(Dispute(text(ctx, g["says"], "says"), dsrc, d.line, parse_filter(ctx, g)))
        refs = tuple(s.ref for s in cited)
        # Long-standing practice described by later articles: the answer says "截至{as_of}的口径".
        published = [s.published for s in cited if s.published is not None]
        as_of = max(published) if published and since < min(published) else None
        out.append(Entry(key, since, value, cited, note, tuple(disputes), item.line, ctx.file, code, level, refs,
                         as_of))
    out.sort(key=lambda e: e.since)
    return tuple(out)
