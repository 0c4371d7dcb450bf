"""Bring a user's message into one canonical form before anything is read from it.

Order matters: strip characters that break converters (control characters, lone surrogates),
NFKC (full-width digits, letters, punctuation and spaces become ASCII), traditional -> simplified
(OpenCC t2s), lower case (for /commands and Latin words), then a small map of typos and variants
and of places' former names (襄樊 -> 襄阳).
"""

from __future__ import annotations

import re
import unicodedata

from opencc import OpenCC

# Every character a platform delivers is read (Telegram sends up to 4096, the web page 2,000, WeChat
# 2,048 bytes); this cap, five times the longest, only bounds the work on a forged request (reading
# is linear: ~0.2 s for 20,000 characters).
MAX_CHARS = 20_000

# OpenCC's converter holds no per-call state; one instance serves every call (and every thread).
_T2S = OpenCC("t2s")

# Control characters (except tab/newline) and lone surrogates: OpenCC works on C strings.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_SPACES = re.compile(r"\s+")
# A space matters only between two Latin letters or digits ("ok thanks"); between Chinese words it
# is a pause like a comma is not: "公司 没交" is one clause, "断了 4 个月" is "断了4个月".
_INNER_SPACE = re.compile(r"(?<![a-z0-9]) | (?![a-z0-9])")

# Typos and variants seen in user messages, mapped to the words the keyword tables use. Pinyin input
# methods produce homophones (医宝, 零活, 断交); long official names are shortened so that one
# keyword covers both. Applied in order, after t2s.
TYPOS: tuple[tuple[str, str], ...] = (
    ("医疗保险", "医保"),
    ("医宝", "医保"),
    ("医报", "医保"),
    ("衣保", "医保"),
    ("社宝", "社保"),
    ("就叶", "就业"),
    ("灵话", "灵活"),
    ("零活", "灵活"),
    ("断交", "断缴"),
    ("段缴", "断缴"),
    ("短缴", "断缴"),
    ("段了", "断了"),
    ("补教", "补缴"),
    ("补叫", "补缴"),
    ("新农和", "新农合"),
    ("心农合", "新农合"),
    ("失业精", "失业金"),
    ("退修", "退休"),
    # Cities typed by sound (州/洲, 圳/训): no other word holds these pairs.
    ("杭洲", "杭州"),
    ("广洲", "广州"),
    ("苏洲", "苏州"),
    ("郑洲", "郑州"),
    ("兰洲", "兰州"),
    ("贵洲", "贵州"),
    ("深训", "深圳"),
    ("武汗", "武汉"),
    # Cantonese written as spoken ("公司冇俾我買社保"): 冇 not have, 俾 give, 嘅 of.
    ("冇", "没"),
    ("俾", "给"),
    ("嘅", "的"),
    ("咗", "了"),  # "断咗两个月"; 左 is its common stand-in after a gap verb
    ("断左", "断了"),
    ("停左", "停了"),
    ("唔该", "谢谢"),
    ("俩", "两"),
    ("仨月", "三个月"),  # 仨 is 三个: "断了仨月" is three months, not March
    ("仨", "三"),
)
# Places people still call by a name the State Council has since changed (民政部 行政区划变更; the
# year the new name took effect), and Inner Mongolia's leagues by their spoken short names. The
# region dataset (GB/T 2260) holds only today's names. Only names that are no part of a current
# region's name ("吴县" is in 孙吴县: left out) and no everyday word ("大港" alone: left out).
FORMER_NAMES: tuple[tuple[str, str], ...] = (
    ("襄樊", "襄阳"),  # 2010
    ("大庸", "张家界"),  # 1994
    ("锦西", "葫芦岛"),  # 1994
    ("荆沙", "荆州"),  # 1996
    ("万县", "万州"),  # 1998, now 重庆市万州区
    ("通什", "五指山"),  # 2001
    ("宣武区", "西城区"),  # 北京, 2010
    ("崇文区", "东城区"),  # 北京, 2010
    ("卢湾", "黄浦"),  # 上海, 2011
    ("闸北", "静安"),  # 上海, 2015
    ("南汇", "浦东新区"),  # 上海, 2009
    ("塘沽", "滨海新区"),  # 天津, 2009
    ("汉沽", "滨海新区"),  # 天津, 2009
    ("大港区", "滨海新区"),  # 天津, 2009
    ("芳村区", "荔湾区"),  # 广州, 2005
    ("伊克昭盟", "鄂尔多斯"),  # 2001
    ("哲里木盟", "通辽"),  # 1999
    ("昭乌达盟", "赤峰"),  # 1983 (read as 乌海市乌达区 without this)
    ("伊盟", "鄂尔多斯"),
    ("哲盟", "通辽"),
    ("昭盟", "赤峰"),
    ("巴盟", "巴彦淖尔"),
    ("乌盟", "乌兰察布"),
    ("锡盟", "锡林郭勒盟"),
)
_REPLACEMENTS = TYPOS + FORMER_NAMES
# Most messages hold none of them: one search tells, instead of a `str.replace` check per entry.
_ANY_TYPO = re.compile("|".join(re.escape(wrong) for wrong, _ in _REPLACEMENTS))


# A year written digit by digit in Chinese ("二零二三年", "二〇二四年"): as Arabic digits, like most
# people type it. Only 1900-2099, so "一二三四年" and durations ("两三年") are left alone.
_CN_YEAR = re.compile(r"(?<![零〇一二三四五六七八九十])(?:一九|二[零〇])[零〇一二三四五六七八九]{2}(?=年)")
_CN_DIGIT = str.maketrans("零〇一二三四五六七八九", "00123456789")
# 各 typed for 个 (same pinyin, ge) between a number and 月: "三各月", "5各多月". Not a plain map
# entry: "各月" alone is a word ("各月份的缴费").
_GE_TYPO = re.compile(r"(?<=[\d一二两三四五六七八九十几半])各(?=多?月)")


def normalise(text: str) -> str:
    """The canonical form of a message (see module docstring); never raises on str input."""
    text = text[:MAX_CHARS]
    # Control characters, lone surrogates and every white space but " " are all non-printable, so
    # on printable text without a space (most messages) the substitutions below would change nothing.
    if not text.isprintable():
        text = _UNSAFE.sub("", text)
    text = unicodedata.normalize("NFKC", text)
    text = _T2S.convert(text)
    text = text.lower()
    if _ANY_TYPO.search(text):
        for wrong, right in _REPLACEMENTS:
            if wrong in text:
                text = text.replace(wrong, right)
    if "各" in text:
        text = _GE_TYPO.sub("个", text)
    if "年" in text and ("二" in text or "一九" in text):
        text = _CN_YEAR.sub(lambda m: m.group().translate(_CN_DIGIT), text)
    if " " in text or not text.isprintable():
        text = _INNER_SPACE.sub("", _SPACES.sub(" ", text).strip())
    return text


# 、 and ~ do not end a clause: they join list items and ranges ("6、7个月").
_CLAUSE_SPLIT = re.compile(r"[,，。!?;；…]+|(?<!\d)\.(?!\d)")


def clauses(text: str) -> list[tuple[int, str]]:
    """Split normalised text into clauses, each with its start offset (context stays clause-local)."""
    out: list[tuple[int, str]] = []
    pos = 0
    for match in _CLAUSE_SPLIT.finditer(text):
        if match.start() > pos:
            out.append((pos, text[pos : match.start()]))
        pos = match.end()
    if pos < len(text):
        out.append((pos, text[pos:]))
    return out
