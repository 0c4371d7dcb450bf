"""The command line: answer / explain / check, JSON shape and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from policies.cli import main

ARGS = ["answer", "--region", "乌鲁木齐", "--type", "flexible", "--gap-months", "5", "--on", "2025-06-10"]


def test_answer_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*ARGS, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["region"] == {"code": "650100", "name": "乌鲁木齐市", "level": "city"}
    assert data["rule_level"] == "city"
    assert data["scheme"] == "employee"
    assert data["can_backpay"] == "conditional"
    assert data["channels"] == ["offline"]
    assert data["waiting_months"] == 6
    assert data["benefits_resume"] == "2025-12-01"
    assert data["retroactive"] is False and data["continuity_reset"] is True
    assert set(data["late_fee"]) >= {"daily_rate", "payer", "amount"}
    assert data["cost"] is None
    assert {"id", "title", "confidence"} <= set(data["sources"][0])
    assert data["missing_inputs"] == ["monthly_base"]


def test_answer_with_cost_and_gap_since(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["answer", "--region", "430102", "--type", "employee", "--gap-since", "2025-02",
                 "--on", "2025-06-10", "--cause", "personal", "--json"]) == 0
    cost = json.loads(capsys.readouterr().out)["cost"]
    assert set(cost) >= {"months", "monthly_base", "rate", "principal", "late_fee", "total", "formula"}
    assert (cost["months"], cost["monthly_base"], cost["principal"]) == (4, 6711.0, 2872.31)


def test_answer_text_is_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(ARGS) == 0
    out = capsys.readouterr().out
    assert "能否补缴：有条件补缴" in out and "2025-12-01" in out and "12393" in out


def test_explain_prints_file_line_level_and_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", *ARGS[1:]]) == 0
    out = capsys.readouterr().out
    assert "policies/rules/65-xinjiang/650100-urumqi.yaml:" in out
    assert "[city 650100]" in out and "seed:004_278633159ec3df58" in out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["answer", "--region", "火星", "--type", "employee"], "未找到地区"),
        (["answer", "--region", "朝阳", "--type", "employee"], "不明确"),
        (["answer", "--region", "北京", "--type", "boss"], "invalid choice"),
        (["answer", "--region", "北京", "--type", "employee", "--on", "2025-02-30"], "不是有效的日期"),
        (["answer", "--region", "北京", "--type", "employee", "--gap-since", "2025-13"], "不是有效的年月"),
        (["answer", "--region", "北京", "--type", "employee", "--gap-since", "2030-01", "--on", "2025-01-01"],
         "晚于"),
        (["answer", "--region", "北京", "--type", "employee", "--gap-months", "-1"], "负数"),
        (["answer", "--region", "北京", "--type", "employee", "--gap-days", "-1"], "负数"),
        (["answer", "--region", "北京", "--type", "employee", "--gap-days", "9", "--gap-months", "1"], "not allowed"),
        (["answer", "--region", "北京", "--type", "employee", "--gap-months", "2", "--gap-since", "2025-01"],
         "not allowed"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv: list[str], words: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and words in lines[0]


def test_check_passes_and_prints_counts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "rule files: " in out and "failed" in out and ", 0 failed" in out


def test_python_dash_m_entry_point() -> None:
    proc = subprocess.run([sys.executable, "-m", "policies", "answer", "--region", "抚顺", "--type", "employee"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "12345" in proc.stdout
    bad = subprocess.run([sys.executable, "-m", "policies", "answer", "--region", "nowhere", "--type", "employee"],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


def test_the_questions_date_has_one_meaning_under_both_names(capsys: pytest.CaptureFixture[str]) -> None:
    """`--today` (the chat's name) and `--on` are the same flag: the date the question is asked."""
    answers = []
    for flag in ("--on", "--today"):
        assert main([*ARGS[:-2], flag, "2025-06-10", "--json"]) == 0
        answers.append(json.loads(capsys.readouterr().out))
    assert answers[0] == answers[1] and answers[0]["benefits_resume"] == "2025-12-01"


def test_gap_days_flag_reaches_days_counted_bands(capsys: pytest.CaptureFixture[str]) -> None:
    for days, wait in ((60, 0), (61, 3)):
        argv = ["answer", "--region", "宜昌", "--type", "flexible", "--gap-days", str(days), "--on", "2025-06-10", "--json"]
        assert main(argv) == 0
        data = json.loads(capsys.readouterr().out)
        assert (data["gap_days"], data["waiting_months"]) == (days, wait)


def test_answer_piped_into_a_closed_reader_exits_quietly() -> None:
    # `python -m policies answer … | head`: the reader is gone before the answer is written.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "policies", *ARGS], stdout=write_end, stderr=subprocess.PIPE,
                              text=True, check=False)
    finally:
        os.close(write_end)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
