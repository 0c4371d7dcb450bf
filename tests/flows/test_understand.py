"""Reading real phrasings of users' messages (with the real region dataset)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from flows.__main__ import main
from flows.understand import Understanding, understand
from policies.model import Cause, Gender, InsuranceType
from policies.regions import RegionIndex

TODAY = date(2026, 11, 22)
E, F, R, U, T = (
    InsuranceType.EMPLOYEE,
    InsuranceType.FLEXIBLE,
    InsuranceType.RESIDENT,
    InsuranceType.UNEMPLOYED,
    InsuranceType.RETIREE,
)


@pytest.fixture(scope="module")
def regions() -> RegionIndex:
    return RegionIndex.load()


def read(text: str, regions: RegionIndex, today: date = TODAY) -> Understanding:
    return understand(text, today, regions)


def test_urumqi_flexible_four_months(regions: RegionIndex) -> None:
    u = read("乌鲁木齐灵活就业断了4个月还能补吗", regions)
    assert u.region is not None and u.region.code == "650100"
    assert u.insurance_type is F
    assert u.gap_months == 4
    assert "question_backpay" in u.intents
    assert u.cause is None


def test_employer_last_month(regions: RegionIndex) -> None:
    u = read("公司上个月没给我交医保", regions)
    assert u.cause == Cause.EMPLOYER
    assert u.gap_months == 1
    assert u.gap_since == date(2026, 10, 1)
    assert u.insurance_type is E
    assert u.region is None


def test_new_rural_one_year(regions: RegionIndex) -> None:
    u = read("新农合停了一年怎么办", regions)
    assert u.insurance_type is R
    assert u.gap_months == 12
    assert u.region is None


def test_since_last_october(regions: RegionIndex) -> None:
    # Convention: months from the first unpaid month up to, not including, the current month.
    u = read("去年10月开始没交", regions)
    assert u.gap_since == date(2025, 10, 1)
    assert u.gap_months == 13


def test_traditional_characters(regions: RegionIndex) -> None:
    u = read("烏魯木齊靈活就業斷了4個月", regions)
    assert u.region is not None and u.region.code == "650100"
    assert (u.insurance_type, u.gap_months) == (F, 4)


@pytest.mark.parametrize(
    ("text", "months", "approximate"),
    [
        ("断了四个月", 4, False),
        ("断了两个月", 2, False),
        ("十二个月没交了", 12, False),
        ("公司没给我交了3个月", 3, False),  # "交了" negated: the gap, not time paid
        ("单位未缴了两个月", 2, False),
        ("断了3个月", 3, False),
        ("断了３个月", 3, False),  # full-width digit
        ("断了 4 个月", 4, False),
        ("半年没交了", 6, False),
        ("断了一年半", 18, False),
        ("两年多没交", 24, True),
        ("断了一年", 12, False),
        ("俩月没交", 2, False),
        ("大半年没交了", 8, True),
        ("断缴3年", 36, False),
        ("断了一年零三个月", 15, False),
        ("三个多月没交", 3, True),
        ("断了十多个月", 10, True),
        ("断了半个月", 1, True),
        ("断了3月", 3, False),
        ("4个月", 4, False),  # a bare reply to "断缴多久了"
        ("大概半年", 6, False),
        ("停了1.5年", 18, False),
        ("断了一两个月", 1, True),  # spoken ranges take the lower bound
        ("三四个月没交", 3, True),
        ("断了6、7个月", 6, True),
        ("断了6-7个月", 6, True),
        ("断了五六年", 60, True),
    ],
)
def test_durations(regions: RegionIndex, text: str, months: int, approximate: bool) -> None:
    u = read(text, regions)
    assert u.gap_months == months
    assert u.gap_approximate is approximate
    assert u.gap_since is None


@pytest.mark.parametrize(
    "text", ["断了几个月", "好几年没交了", "断了几个月了不记得", "断了十几个月", "断了二三十个月"]
)
def test_vague_durations_are_not_guessed(regions: RegionIndex, text: str) -> None:
    u = read(text, regions)
    assert u.gap_months is None and u.gap_since is None


@pytest.mark.parametrize(
    ("text", "since", "months"),
    [
        ("上个月开始没交", date(2026, 10, 1), 1),
        ("上上个月开始断的", date(2026, 9, 1), 2),
        ("今年3月开始没交", date(2026, 3, 1), 8),
        ("去年10月开始断缴", date(2025, 10, 1), 13),
        ("2025年10月开始没交", date(2025, 10, 1), 13),
        ("25年10月开始没交", date(2025, 10, 1), 13),
        ("10月份开始没交的", date(2026, 10, 1), 1),
        ("从12月起就没交了", date(2025, 12, 1), 11),  # 12月 not yet reached this year: last year
        ("从2025-06开始断缴", date(2025, 6, 1), 17),
        ("去年年底开始停了", date(2025, 12, 1), 11),
        ("3个月前开始没交", date(2026, 8, 1), 3),
        ("這個月沒交", date(2026, 11, 1), 0),
    ],
)
def test_start_months(regions: RegionIndex, text: str, since: date, months: int) -> None:
    u = read(text, regions)
    assert u.gap_since == since
    assert u.gap_months == months


def test_start_month_relative_to_today(regions: RegionIndex) -> None:
    u = read("去年10月开始没交", regions, today=date(2027, 2, 3))
    assert u.gap_since == date(2026, 10, 1) and u.gap_months == 4


@pytest.mark.parametrize(
    "text",
    [
        "2027年1月开始没交",  # the future
        "上个月换了工作",  # a month, but nothing stopped
        "我是1990年出生的",
        "手机13812345678",
        "身份证号＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊",
        "一年要交多少钱",  # a price period
        "等待期是3个月吗",
        "我今年55岁",
        "在这家公司干了3年",
        "补交了3个月",
    ],
)
def test_no_gap_read(regions: RegionIndex, text: str) -> None:
    u = read(text, regions)
    assert u.gap_months is None and u.gap_since is None


def test_start_month_and_duration_disagreeing(regions: RegionIndex) -> None:
    u = read("上个月才发现，一共断了5个月", regions)
    assert u.gap_months == 5 and u.gap_since is None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("我是职工医保", E),
        ("单位交的医保", E),
        ("公司交的", E),
        ("在公司上班，医保断了", E),
        ("灵活就业", F),
        ("自由职业，自己交的职工医保", F),
        ("个体户自己交职工医保", F),
        ("灵活就叶", F),  # typo
        ("零活就业断了两个月", F),
        ("居民医保", R),
        ("城乡居民医保停了", R),
        ("新农合", R),
        ("农村合作医疗", R),
        ("孩子的学生医保没交", R),
        ("失业了", E),  # a lost job (like 离职): the employee insurance it came with, not benefit
        ("没工作了，医保断了", E),
        ("领失业金期间", U),
        ("在领取失业保险金", U),
        ("领取失业保险期间断了2个月", U),
        ("失业保险金停了", U),
        ("退休", T),
        ("快退休了，年限不够", T),
        ("临近退休缴费年限不够", T),
        ("以前单位交，现在灵活就业", F),
        ("我不是灵活就业，是单位交的", E),
        ("辞职半年了，医保一直没交", E),
    ],
)
def test_insurance_type(regions: RegionIndex, text: str, kind: InsuranceType) -> None:
    assert read(text, regions).insurance_type is kind


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("公司没给我交", Cause.EMPLOYER),
        ("单位漏缴了三个月", Cause.EMPLOYER),
        ("老板一直拖欠没交", Cause.EMPLOYER),
        ("公司停缴了", Cause.EMPLOYER),
        ("用人单位欠缴医保", Cause.EMPLOYER),
        ("单位原因", Cause.EMPLOYER),
        ("公司倒闭了", Cause.EMPLOYER),
        ("自己忘了交", Cause.PERSONAL),
        ("个人原因", Cause.PERSONAL),
        ("没钱交", Cause.PERSONAL),
        ("乌鲁木齐单位职工医保断了5个月，是我自己换工作断的", Cause.PERSONAL),
        ("公司把我医保停了", Cause.EMPLOYER),
        ("单位直接停保了", Cause.EMPLOYER),
        ("不知道什么原因断的", Cause.UNKNOWN),
        ("不清楚为什么", Cause.UNKNOWN),
    ],
)
def test_cause(regions: RegionIndex, text: str, cause: Cause) -> None:
    assert read(text, regions).cause == cause


@pytest.mark.parametrize(
    "text",
    [
        "不知道",
        "断了4个月",
        "不是单位原因",
        "保险公司没给我赔",
        "单位职工医保断了3个月",  # 单位 names the insurance, it is not the actor
        "公司交的医保断了",
    ],
)
def test_cause_not_guessed(regions: RegionIndex, text: str) -> None:
    assert read(text, regions).cause is None


@pytest.mark.parametrize("text", ["换工作断了一个月", "上个月离职了", "辞职后新单位还没交", "跳槽了中间断了两个月"])
def test_job_change_is_its_own_situation(regions: RegionIndex, text: str) -> None:
    u = read(text, regions)
    assert (u.insurance_type, u.cause) == (E, "job_change")


@pytest.mark.parametrize(
    ("text", "years"),
    [("交了18年", 18.0), ("缴费15年", 15.0), ("职工医保一共交了二十年", 20.0), ("交了十年零三个月", 10.25),
     ("缴费年限满25年", 25.0)],
)
def test_years_paid(regions: RegionIndex, text: str, years: float) -> None:
    u = read(text, regions)
    assert u.years_paid == years
    assert u.gap_months is None


@pytest.mark.parametrize("text", ["缴费满15年了吗", "职工医保要交满25年吗", "交够20年么"])
def test_years_asked_about_are_not_years_paid(regions: RegionIndex, text: str) -> None:
    u = read(text, regions)
    assert (u.years_paid, u.gap_months) == (None, None)


@pytest.mark.parametrize(
    ("text", "years"),
    [("我快退休了，职工医保只交了15年，听说要交够25年，能补吗", 15.0), ("需要缴满20年，我交了12年", 12.0),
     ("我们这要求25年，我缴费18年", 18.0), ("规定要交满25年吗", None), ("我已经交够了25年", 25.0)],
)
def test_years_required_are_not_years_paid(regions: RegionIndex, text: str, years: float | None) -> None:
    assert read(text, regions).years_paid == years


def test_years_paid_and_gap_in_one_message(regions: RegionIndex) -> None:
    u = read("交了18年，断了2年，男，快退休了", regions)
    assert (u.years_paid, u.gap_months, u.gender, u.insurance_type) == (18.0, 24, Gender.MALE, T)


@pytest.mark.parametrize(
    ("text", "gender"),
    [("男", Gender.MALE), ("我是女的", Gender.FEMALE), ("男性，55岁", Gender.MALE), ("女士", Gender.FEMALE),
     ("性别：女", Gender.FEMALE), ("王先生，想问下", Gender.MALE), ("本人男", Gender.MALE)],
)
def test_gender(regions: RegionIndex, text: str, gender: Gender) -> None:
    assert read(text, regions).gender is gender


@pytest.mark.parametrize("text", ["我女儿的医保断了", "男女都一样吗", "我老公的医保", "妇女"])
def test_gender_not_guessed(regions: RegionIndex, text: str) -> None:
    assert read(text, regions).gender is None


@pytest.mark.parametrize(
    ("text", "base"),
    [("基数5000", 5000.0), ("按6000的基数", 6000.0), ("缴费基数是4500元", 4500.0), ("基数1万", 10000.0),
     ("基数六千", 6000.0), ("按8000块的基数交", 8000.0)],
)
def test_monthly_base(regions: RegionIndex, text: str, base: float) -> None:
    assert read(text, regions).monthly_base == base


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("取消", "cancel"),
        ("算了", "cancel"),
        ("不用了", "cancel"),
        ("/cancel", "cancel"),
        ("重新开始", "restart"),
        ("/restart", "restart"),
        ("帮助", "help"),
        ("这个怎么用", "help"),
        ("/help", "help"),
        ("/start", "start"),
        ("返回", "back"),
        ("上一步", "back"),
        ("不对，是5个月", "correction"),
        ("改成灵活就业", "correction"),
        ("应该是北京", "correction"),
        ("如果是单位原因呢", "what_if"),
        ("假如断了一年呢", "what_if"),
        ("是的", "yes"),
        ("好", "yes"),
        ("可以", "yes"),
        ("不是", "no"),
        ("不要", "no"),
        ("没有", "no"),
        ("你好", "greeting"),
        ("在吗", "greeting"),
        ("谢谢", "thanks"),
        ("提醒我", "reminder"),
        ("到时候提醒我一下", "reminder"),
        ("那算了", "cancel"),
        ("忘掉我刚才说的", "cancel"),
        ("返回上一步", "back"),
        ("设个提醒", "reminder"),
        ("转人工", "human"),
        ("客服电话多少", "human"),
        ("能补吗", "question_backpay"),
        ("可以补交吗", "question_backpay"),
        ("怎么补", "question_backpay"),
        ("多少钱", "question_cost"),
        ("要交多少", "question_cost"),
        ("什么时候能用", "question_when"),
        ("多久恢复", "question_when"),
        ("等待期多长", "question_when"),
        ("在哪办", "question_where"),
        ("去哪里交", "question_where"),
        ("网上能办吗", "question_where"),
    ],
)
def test_intents(regions: RegionIndex, text: str, intent: str) -> None:
    assert intent in read(text, regions).intents


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("我算了一下要交多少", "cancel"),
        ("是不是要交滞纳金", "correction"),
        ("不是", "correction"),
        ("主要是没钱", "what_if"),
        ("不对", "yes"),
        ("［已隐去的电话号码］", "human"),  # flows/pii.py label, not a request for a human
        ("我的医保资格被取消了", "cancel"),
        ("想重新开始交医保", "restart"),
        ("重新开始缴费要等多久", "restart"),
        ("过年返回老家了", "back"),
        ("多交的保费退回了", "back"),
        ("短信提醒我欠费了", "reminder"),
    ],
)
def test_intents_not_misread(regions: RegionIndex, text: str, absent: str) -> None:
    assert absent not in read(text, regions).intents


def test_corrections_with_values(regions: RegionIndex) -> None:
    u = read("不对，是5个月", regions)
    assert u.gap_months == 5 and "correction" in u.intents
    u = read("换成北京", regions)
    assert u.region is not None and u.region.code == "110000" and "correction" in u.intents
    u = read("如果是单位原因呢", regions)
    assert u.cause == Cause.EMPLOYER and "what_if" in u.intents
    u = read("不是4个月，是6个月", regions)
    assert u.gap_months == 6


def test_ambiguous_region_gives_candidates(regions: RegionIndex) -> None:
    u = read("我在朝阳交的医保", regions)
    assert u.region is None
    assert {"110105", "211300"} <= {r.code for r in u.region_candidates}
    assert "region" not in u.filled()
    u = read("北京朝阳灵活就业", regions)
    assert u.region is not None and u.region.code == "110105" and u.region_candidates == ()


@pytest.mark.parametrize(
    "text", ["医宝断了怎么补", "医报断了能补吗", "断交了能补缴吗", "补交", "补缴"]
)
def test_typos_and_variants_of_backpay(regions: RegionIndex, text: str) -> None:
    assert "question_backpay" in read(text, regions).intents


def test_full_width_and_spaces(regions: RegionIndex) -> None:
    u = read("　乌鲁木齐，灵活就业，断了　３　个月！", regions)
    assert u.region is not None and u.region.code == "650100"
    assert (u.insurance_type, u.gap_months) == (F, 3)


def test_numbers_in_phone_numbers_are_not_gaps(regions: RegionIndex) -> None:
    u = read("我电话13812345678，断了2个月", regions)
    assert u.gap_months == 2
    u = read("13812345678个月", regions)
    assert u.gap_months is None


def test_nothing_in_empty_or_chitchat(regions: RegionIndex) -> None:
    assert read("", regions) == Understanding()
    assert read("   ", regions).filled() == {}
    assert read("今天天气不错", regions).filled() == {}


def test_filled_lists_only_read_slots(regions: RegionIndex) -> None:
    u = read("乌鲁木齐灵活就业去年10月开始没交", regions)
    filled = u.filled()
    assert set(filled) == {"region", "insurance_type", "gap_months", "gap_since"}
    assert filled["gap_since"] == date(2025, 10, 1)


def test_everything_in_one_message(regions: RegionIndex) -> None:
    text = "我是女的，在宁波，职工医保交了16年，公司从今年5月开始没给交，基数6000，想问多少钱能补上"
    u = read(text, regions)
    assert u.region is not None and u.region.code == "330200"
    assert u.gender is Gender.FEMALE
    assert u.insurance_type is E
    assert u.years_paid == 16.0
    assert u.cause == Cause.EMPLOYER
    assert u.gap_since == date(2026, 5, 1) and u.gap_months == 6
    assert u.monthly_base == 6000.0
    assert {"question_cost", "question_backpay"} <= u.intents


# --------------------------------------------------------------------------- command line
def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    text = "乌鲁木齐灵活就业断了4个月还能补吗"
    code, out, _ = run_cli(capsys, "understand", text, "--today", "2026-11-22", "--json")
    assert code == 0
    data: dict[str, Any] = json.loads(out)
    assert list(data)[:4] == ["region", "insurance_type", "gap_months", "cause"]
    assert data["region"] == {"code": "650100", "name": "乌鲁木齐市"}
    assert (data["insurance_type"], data["gap_months"], data["cause"]) == ("flexible", 4, None)
    assert "question_backpay" in data["intents"]


def test_cli_json_since_and_cause(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "understand", "公司去年10月开始没交", "--today", "2026-11-22", "--json")
    data = json.loads(out)
    assert code == 0
    assert (data["region"], data["gap_months"], data["cause"], data["gap_since"]) == (
        None, 13, "employer", "2025-10-01"
    )


def test_cli_json_and_summary_say_an_ended_gap_and_hedged_years(capsys: pytest.CaptureFixture[str]) -> None:
    text = "交了快20年，去年断了8个月 后来又接着交了"
    code, out, _ = run_cli(capsys, "understand", text, "--today", "2026-11-30", "--json")
    data = json.loads(out)
    assert code == 0
    assert (data["gap_months"], data["gap_ended"], data["years_range"]) == (8, True, [19.0, 20.0])
    code, out, _ = run_cli(capsys, "understand", text, "--today", "2026-11-30")
    assert code == 0 and "8 个月，已恢复缴费" in out and "约19–20年" in out


def test_cli_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "understand", "新农合停了一年", "--today", "2026-11-22")
    assert code == 0
    assert "城乡居民医保" in out and "12 个月" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["understand", "x", "--today", "2026-13-01"],
        ["understand"],
        ["nonsense"],
        [],
        ["understand", "x", "--bad"],
    ],
)
def test_cli_bad_input_exits_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert out == ""
    assert "输入有误" in err


# ------------------------------------------------------------------ everyday wording (conversation issue)
@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("北京 老板忘记交医保5个月了", "employer"),
        ("宜昌 老板忘记交医保三个月", "employer"),
        ("公司忘了给我交", "employer"),
        ("单位没给交医保", "employer"),
        ("公司漏交了两个月", "employer"),
        ("公司把我社保停了", "employer"),
        ("换工作断了两个月", "job_change"),
        ("离职以后医保断了", "job_change"),
        ("辞职了三个月没交", "job_change"),
        ("新单位还没交", "job_change"),
        ("失业了，医保断了3个月", "job_change"),  # a job loss, not unemployment benefit
        ("我失业3个月了", "job_change"),
        ("没工作了", "job_change"),
        ("领失业金期间断了两个月", None),  # on benefit: a type, no cause said
        ("自己忘了交", "personal"),
        ("我自己换工作断的", "personal"),
    ],
)
def test_everyday_cause_wording(regions: RegionIndex, text: str, cause: str | None) -> None:
    assert read(text, regions).cause == cause


@pytest.mark.parametrize("text", ["自己交的医保断了", "个人交社保断了两个月", "我是自己缴医保的", "医保都是自己交的"])
def test_self_payers_are_flexible_workers(regions: RegionIndex, text: str) -> None:
    u = read(text, regions)
    assert u.insurance_type is InsuranceType.FLEXIBLE and u.cause is None


@pytest.mark.parametrize(
    ("text", "months", "loose"),
    [
        ("断了三个多月", 3, (3, 4)),
        ("快4个月没交了", 4, (3, 4)),
        ("将近半年没交", 6, (5, 6)),
        ("小半年没交了", 4, (4, 6)),
        ("断了两个多月", 2, (2, 3)),
        ("断了4个月", 4, None),
    ],
)
def test_loose_durations_carry_their_range(regions: RegionIndex, text: str, months: int, loose: tuple[int, int] | None) -> None:
    u = read(text, regions)
    assert (u.gap_months, u.gap_range) == (months, loose)



# ------------------------------------------------------------------ third pass (conv5)
@pytest.mark.parametrize(
    ("text", "years", "gap"),
    [
        ("我交了20年，我们这里要求男的25年", 20.0, None),  # read as a gap of 300 months
        ("男的要交25年，女的20年，我交了15年", 15.0, None),  # 女的20年 read as a gap of 240
        ("男性要交满25年，我交了18年", 18.0, None),
        ("已经交了十八年了，差七年", 18.0, None),  # 差七年: missing, not a gap of 84
        ("交了22年，还差3年", 22.0, None),
        ("医保交了快20年了", 20.0, None),  # read as a gap of 240
        ("医保交了将近20年", 20.0, None),
        ("没交了3年", None, 36),
        ("差不多3个月", None, 3),
    ],
)
def test_years_required_missing_or_loose_are_not_a_gap(regions: RegionIndex, text: str, years: float | None,
                                                       gap: int | None) -> None:
    u = read(text, regions)
    assert (u.years_paid, u.gap_months) == (years, gap)


@pytest.mark.parametrize("text", ["男的要交25年，女的20年", "要求男性25年", "我们这里要求男的25年"])
def test_a_rule_for_a_gender_is_not_the_users_gender(regions: RegionIndex, text: str) -> None:
    assert read(text, regions).gender is None


@pytest.mark.parametrize(
    ("text", "months"), [("忘记交了两个月", 2), ("灵活就业人员，忘记交了两个月", 2), ("公司少交了两个月", 2)]
)
def test_unpaid_months_after_a_paying_verb(regions: RegionIndex, text: str, months: int) -> None:
    assert read(text, regions).gap_months == months


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("老板从去年10月开始就没给我交社保了", "employer"),
        ("公司从今年2月份开始就一直没交", "employer"),
        ("单位欠费半年了", "employer"),
        ("公司拖欠社保4个月", "employer"),
        ("老板说没钱，三个月没交社保了", "employer"),  # the employer's money: read as personal
        ("公司没及时交，断了一个月", "employer"),  # read as personal
        ("从上家公司离职后到现在一直没交", "job_change"),  # not the old employer's doing
        ("我没钱交了", "personal"),
    ],
)
def test_employer_cause_across_words(regions: RegionIndex, text: str, cause: str) -> None:
    assert read(text, regions).cause == cause


@pytest.mark.parametrize(("text", "unmarked"), [("16年", True), ("不对，是16年", True), ("断了16年", False),
                                                ("去年10月开始没交", False)])
def test_a_stretch_said_without_a_gap_word_is_marked(regions: RegionIndex, text: str, unmarked: bool) -> None:
    assert read(text, regions).gap_unmarked is unmarked


@pytest.mark.parametrize(
    ("text", "base"), [("我的基数是4千5", 4500.0), ("基数1万2", 12000.0), ("按4千5的基数", 4500.0), ("基数4千5百", 4500.0)]
)
def test_spoken_base_with_a_tail_digit(regions: RegionIndex, text: str, base: float) -> None:
    assert read(text, regions).monthly_base == base  # "4千5" read 4000


@pytest.mark.parametrize(
    ("text", "months", "since"),
    [
        ("3月到5月没交", 3, date(2025, 3, 1)),  # read as since May, 1 month
        ("3月份到5月份公司没给交", 3, date(2025, 3, 1)),
        ("去年11月到今年2月断了", 4, None),  # over: those 4 months, not 7 up to now
        ("从3月到现在没交", 3, date(2025, 3, 1)),
        ("2024年底开始没交", 6, date(2024, 12, 1)),  # read nothing
        ("24年底离职后一直没交", 5, date(2025, 1, 1)),  # the month left in was paid: from the next
        ("从2023年初就没交了", 29, date(2023, 1, 1)),
    ],
)
def test_month_ranges_and_year_edges(regions: RegionIndex, text: str, months: int, since: date | None) -> None:
    u = read(text, regions, today=date(2025, 6, 10))
    assert (u.gap_months, u.gap_since) == (months, since)


@pytest.mark.parametrize(("text", "code"), [("杭洲灵活就业断了3个月", "330100"), ("深训 公司没交", "440300"),
                                            ("廣洲 新农合", "440100")])
def test_city_typed_by_sound(regions: RegionIndex, text: str, code: str) -> None:
    u = read(text, regions)
    assert u.region is not None and u.region.code == code


@pytest.mark.parametrize(
    ("text", "scheme", "since"),
    [
        ("新农合今年没交，还能交吗", None, date(2025, 1, 1)),  # read no gap: the gap was asked again
        ("今年的新农合忘交了", None, date(2025, 1, 1)),
        ("公司今年没给我交", None, date(2025, 1, 1)),
        ("城乡居民医保从2022年开始没交", None, date(2022, 1, 1)),
        ("从前年就没交了", R, date(2023, 1, 1)),  # the type known from earlier in the conversation
        ("从前年就没交了", None, None),  # monthly schemes: which month of that year is not known
        ("我是个体户，去年开始就没交了", None, None),
        ("新农合去年没交", None, None),  # one year missed, or every year since: asked
        ("今年没断", None, None),
    ],
)
def test_a_whole_year_unpaid(regions: RegionIndex, text: str, scheme: InsuranceType | None, since: date | None) -> None:
    u = understand(text, date(2025, 6, 10), regions, scheme)
    assert u.gap_since == since


def test_this_year_unpaid_in_january_is_asked(regions: RegionIndex) -> None:
    assert understand("居民医保今年没交", date(2026, 1, 5), regions).gap_since is None


@pytest.mark.parametrize(
    ("text", "since", "months"),
    [
        ("交到去年12月，之后没交", date(2025, 1, 1), 5),  # read nothing: asked again
        ("交到2024年10月", date(2024, 11, 1), 7),
        ("最后一次交是去年8月", date(2024, 9, 1), 9),
        ("灵活就业，交到去年10月就没交了", date(2024, 11, 1), 7),
    ],
)
def test_the_last_month_paid_starts_the_gap_the_month_after(regions: RegionIndex, text: str, since: date,
                                                            months: int) -> None:
    u = read(text, regions, today=date(2025, 6, 10))
    assert (u.gap_since, u.gap_months) == (since, months)


def test_employer_not_paying_for_a_relative(regions: RegionIndex) -> None:
    assert read("我老公公司没给他交医保", regions).cause == "employer"


@pytest.mark.parametrize(
    ("text", "years", "gap"),
    [
        ("工龄20年，医保交了15年", 15.0, None),  # 工龄20年 read as a gap of 240 months
        ("参加工作30年了", None, None),
        ("我有15年的缴费记录", 15.0, None),  # read as a gap of 180
        ("有15年医保", 15.0, None),
        ("职工医保15年，快退休了", 15.0, None),
        ("两年医保没交", None, 24),
        ("医保断了15年", None, 180),
    ],
)
def test_years_held_are_not_a_gap(regions: RegionIndex, text: str, years: float | None, gap: int | None) -> None:
    u = read(text, regions)
    assert (u.years_paid, u.gap_months) == (years, gap)


@pytest.mark.parametrize(("text", "gender"), [("55岁女，交了13年", Gender.FEMALE), ("我50岁女儿的医保", None)])
def test_gender_after_an_age(regions: RegionIndex, text: str, gender: Gender | None) -> None:
    assert read(text, regions).gender is gender


@pytest.mark.parametrize(
    ("text", "intent"),
    [("会不会清零", "question_when"), ("之前交的会不会作废", "question_when"), ("断一个月有什么影响", "question_when"),
     ("咋整", "question_now"), ("这种情况怎么处理", "question_now"), ("要去哪里投诉", "question_now")],
)
def test_everyday_questions_after_an_answer(regions: RegionIndex, text: str, intent: str) -> None:
    assert intent in read(text, regions).intents


def test_cantonese_as_spoken(regions: RegionIndex) -> None:
    u = read("我係深圳嘅，公司冇俾我買社保", regions)
    assert u.cause == "employer" and u.region is not None and u.region.code == "440300"


@pytest.mark.parametrize(
    ("text", "years", "months", "since"),
    [
        ("断缴了1年3个月", None, 15, None),  # read as 1.25 years paid
        ("停缴了2年", None, 24, None),
        ("缴了18年", 18.0, None, None),
        ("去年下半年开始没交", None, 11, date(2024, 7, 1)),  # read as a gap of 半年 = 6
        ("从去年下半年起就没交", None, 11, date(2024, 7, 1)),
        ("去年下半年没交", None, None, None),  # maybe only those months: asked, not 6 or 11
        ("今年上半年没交", None, None, None),
    ],
)
def test_gap_verbs_before_years_and_halves_of_a_year(regions: RegionIndex, text: str, years: float | None,
                                                     months: int | None, since: date | None) -> None:
    u = read(text, regions, today=date(2025, 6, 10))
    assert (u.years_paid, u.gap_months, u.gap_since) == (years, months, since)


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("在单位交了8年，离职后自己交了2年，今年没交", None),  # read 2 years paid: the total is asked
        ("我在公司交了10年，灵活就业交了5年", None),  # read 5
        ("单位交了8年，自己交了2年，一共交了10年", 10.0),
        ("交了15年，不对，交了16年", 16.0),
        ("交了18年，断了2年", 18.0),
    ],
)
def test_parts_of_the_years_paid_are_not_the_total(regions: RegionIndex, text: str, years: float | None) -> None:
    assert read(text, regions).years_paid == years


def test_paying_oneself_after_leaving_a_job_is_flexible(regions: RegionIndex) -> None:
    assert read("在单位交了8年，离职后自己交了2年，今年没交", regions).insurance_type is F


@pytest.mark.parametrize(
    ("text", "years"),
    [("公司没给我交够15年", None), ("我还差5个月满15年", None), ("没交满15年", None),  # each read 15 years paid
     ("差不多交了15年", 15.0), ("已经交满15年了", 15.0)],
)
def test_years_not_reached_are_not_years_paid(regions: RegionIndex, text: str, years: float | None) -> None:
    assert read(text, regions).years_paid == years


@pytest.mark.parametrize(
    ("text", "months", "loose"),
    [("断了3个月还是4个月记不清了", 3, (3, 4)), ("断了4个月还是3个月", 3, (3, 4)),  # read as exactly 4 / 3
     ("断了3个月，不对，4个月", 4, None)],
)
def test_two_gaps_said_as_alternatives_are_a_range(regions: RegionIndex, text: str, months: int,
                                                   loose: tuple[int, int] | None) -> None:
    u = read(text, regions)
    assert (u.gap_months, u.gap_range) == (months, loose)


@pytest.mark.parametrize(
    ("text", "years", "gap"),
    [("我是交的最低档，一个月400多", None, None),  # read as a gap of 1 month
     ("一年要交三千多", None, None), ("断了3个月2000多", None, 3),
     ("社保交了10年，医保只交了8年", 8.0, None)],
)
def test_prices_per_period_and_the_medical_insurances_years(regions: RegionIndex, text: str, years: float | None,
                                                           gap: int | None) -> None:
    u = read(text, regions)
    assert (u.years_paid, u.gap_months) == (years, gap)
