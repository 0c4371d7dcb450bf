"""Strict loading: every malformed rule file is refused with FILE:LINE, and nothing half-loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from policies import RuleError, load_rulebook
from policies.cli import main
from policies.loader import RULES_DIR, load_rule_files
from policies.regions import RegionIndex
from tests.policies.ruletree import CITY, CITY_PATH, NATIONAL, replace_line, write_tree

SHOWN = f"rules/{CITY_PATH}"


def _load_city(tmp_path: Path, city_text: str) -> RuleError:
    rules = write_tree(tmp_path, {"000000-national.yaml": NATIONAL, CITY_PATH: city_text})
    with pytest.raises(RuleError) as info:
        load_rule_files(rules)
    return info.value


def test_the_valid_tree_loads(tmp_path: Path) -> None:
    files = load_rule_files(write_tree(tmp_path, {"000000-national.yaml": NATIONAL, CITY_PATH: CITY}))
    assert [f.region_code for f in files] == ["000000", "650100"]


# One malformed file per error class: (description, line to replace, replacement, line reported, words).
BAD = [
    ("unknown key", 13, "      sourcse: [s004]", 13, "unknown key 'sourcse'"),
    ("bad date", 11, "    - since: 2025-02-30", 11, "bad date '2025-02-30'"),
    ("value without a source", 13, "", 11, "has no source"),
    ("wrong type", 12, "      value: 万分之五", 12, "must be a number"),
    ("duplicate key", 13, "      value: 0.001\n      sources: [s004]", 13, "duplicate key 'value'"),
    ("tab", 12, "\t  value: 0.0005", 12, "tab character"),
    ("broken yaml", 13, "      sources: [s004", 14, "broken YAML"),
]


@pytest.mark.parametrize(("what", "line", "new", "reported", "words"), BAD, ids=[b[0] for b in BAD])
def test_malformed_file_is_refused_with_file_and_line(
    tmp_path: Path, what: str, line: int, new: str, reported: int, words: str
) -> None:
    err = _load_city(tmp_path, replace_line(CITY, line, new))
    message = str(err)
    assert message.startswith(f"{SHOWN}:{reported}: "), message
    assert words in message
    problem, fix = message.split(": ", 1)[1].split("; ", 1)
    assert problem and fix  # "what is wrong; how to fix"
    assert (err.file, err.line) == (SHOWN, reported)


def test_a_failing_file_means_nothing_is_loaded(tmp_path: Path) -> None:
    rules = write_tree(
        tmp_path,
        {"000000-national.yaml": NATIONAL, CITY_PATH: replace_line(CITY, 12, "      value: abc")},
    )
    with pytest.raises(RuleError):
        load_rulebook(rules, regions=RegionIndex.load())


def test_all_problems_are_collected_but_the_message_is_the_first(tmp_path: Path) -> None:
    rules = write_tree(
        tmp_path,
        {
            "000000-national.yaml": replace_line(NATIONAL, 12, "      value: abc"),
            CITY_PATH: replace_line(CITY, 11, "    - since: 2025-13-01"),
        },
    )
    with pytest.raises(RuleError) as info:
        load_rule_files(rules)
    assert [(e.file, e.line) for e in info.value.errors] == [("rules/000000-national.yaml", 12), (SHOWN, 11)]
    assert str(info.value) == str(info.value.errors[0])


@pytest.mark.parametrize(
    ("line", "new", "reported", "words"),
    [
        (13, "      sources: [s999]", 13, "unknown source 's999'"),
        (1, "region: 650100", 1, "six-digit code in quotes"),
        (3, "level: county", 3, "does not fit code 650100"),
        (10, "  resident_waiting:", 10, "unknown key 'resident_waiting' in the employee section"),
        (12, "      value: 1.5", 12, "from 0 to 1"),
        (11, "    - since: 2025-03", 11, "must be a date"),
        (8, "    confidence: rumour", 8, "confidence must be one of"),
        (6, '    id: "seed:4"', 6, "unknown form"),
    ],
)
def test_schema_problems(tmp_path: Path, line: int, new: str, reported: int, words: str) -> None:
    err = _load_city(tmp_path, replace_line(CITY, line, new))
    assert (err.file, err.line) == (SHOWN, reported), str(err)
    assert words in str(err)


def test_declared_but_uncited_source_is_refused(tmp_path: Path) -> None:
    text = CITY.replace("sources:\n  s004:", 'sources:\n  spare:\n    id: "site:x"\n    title: x\n'
                        "    confidence: content_site\n  s004:")
    err = _load_city(tmp_path, text)
    assert (err.line, "never cited" in str(err)) == (5, True)


def test_a_disputing_source_may_not_be_stronger(tmp_path: Path) -> None:
    text = CITY.replace(
        "confidence: content_site\n",
        'confidence: content_site\n  law:\n    id: "law:x"\n    title: 法\n    confidence: official\n',
    ) + "      disputed_by:\n        - says: 另一种说法\n          sources: [law]\n"
    err = _load_city(tmp_path, text)
    assert "stronger" in str(err) and err.line == 19


def test_cross_file_checks(tmp_path: Path) -> None:
    # No national file.
    rules = write_tree(tmp_path / "a", {CITY_PATH: CITY})
    with pytest.raises(RuleError, match="no national rule file"):
        load_rule_files(rules)
    # File named after another region.
    rules = write_tree(tmp_path / "b", {"000000-national.yaml": NATIONAL, "65-xinjiang/650200-x.yaml": CITY})
    with pytest.raises(RuleError, match="does not start with the region code"):
        load_rule_files(rules)
    # Same source id, different confidence.
    other = CITY.replace("region: \"650100\"", "region: \"650200\"").replace("乌鲁木齐市", "克拉玛依市")
    other = other.replace("confidence: content_site", "confidence: official")
    rules = write_tree(tmp_path / "c", {"000000-national.yaml": NATIONAL, CITY_PATH: CITY,
                                        "65-xinjiang/650200-karamay.yaml": other})
    with pytest.raises(RuleError, match="differs from"):
        load_rule_files(rules)


def test_yes_and_no_stay_text(tmp_path: Path) -> None:
    # YAML 1.1 would read an unquoted yes as True; the strict loader keeps it as the word "yes".
    text = CITY + (
        "  gap_bands:\n    - since: 2025-03-18\n      sources: [s004]\n      value:\n"
        "        - max_months: 3\n          backpay: yes\n"
    )
    rules = write_tree(tmp_path, {"000000-national.yaml": NATIONAL, CITY_PATH: text})
    files = load_rule_files(rules)
    band = next(e for e in files[1].rules.values() if e[0].key == "gap_bands")[0].value[0]
    assert band.backpay == "yes"


def test_packaged_rules_load_and_every_value_is_sourced() -> None:
    files = load_rule_files(RULES_DIR)
    assert len(files) >= 20
    for rf in files:
        for entries in rf.rules.values():
            for e in entries:
                assert e.sources or e.value.__class__.__name__ == "_Marker", f"{rf.path}:{e.line}"


def test_check_command_fails_on_a_broken_rule_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = write_tree(tmp_path, {"000000-national.yaml": NATIONAL, CITY_PATH: replace_line(CITY, 12, "\tx")})
    assert main(["--rules", str(rules), "check"]) == 1
    err = capsys.readouterr().err
    assert f"{SHOWN}:12: tab character" in err
