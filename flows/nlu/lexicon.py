"""Keyword tables: insurance type, cause, gender, intents, and the context words around numbers.

All tables work on text already passed through `flows.nlu.normalise.normalise` (simplified, NFKC,
lower case, typos fixed). Patterns are compiled once here; none can backtrack badly (no nested
quantifiers, every gap between words is bounded).
"""

from __future__ import annotations

import re

from policies.model import Gender, InsuranceType

# --------------------------------------------------------------------------- insurance type
# Retiree triggers win over everything: someone near retirement who is short of years is answered
# by the retiree rules whatever scheme they paid into.
RETIREE = re.compile(
    r"快退休|临近退休|即将退休|马上退休|要退休|退休|年限不够|年限不足|交够年限|缴够年限|到龄"
)

# Explicit scheme words; when several appear, the last one mentioned wins ("以前单位交，现在灵活就业").
# 自己交的职工医保 is flexible employment: it must be listed before plain 职工医保 at the same spot.
TYPE_WORDS: tuple[tuple[re.Pattern[str], InsuranceType], ...] = (
    (
        re.compile(
            r"灵活就业|灵活用工|自由职业|个体户|个体工商户|以个人身份|个人身份参保"
            r"|(?:自己|个人)(?:交|缴)的?职工医保|(?:自己|个人)在?(?:交|缴)职工"
            # A self-payer: "自己交的", "个人交社保", "自己缴医保" (not "自己没交": that is a cause).
            r"|(?:我是|都是|一直是?|一直都是)?(?:自己|个人)(?:在|单独|去)?(?:交|缴|买)(?:的|社保|医保|钱|(?=[\s，,。;；]|断|停|$))"
            r"|(?:自己|个人)(?:又|再|单独)?(?:交|缴)了"  # "离职后自己交了2年"
            r"|自费(?:交|缴)|个人缴费人员|个人参保|(?:没有?|无)(?:单位|工作单位|雇主)的?人?"
        ),
        InsuranceType.FLEXIBLE,
    ),
    (
        re.compile(
            r"居民医保|城乡居民|城镇居民|新农合|农村合作医疗|合作医疗|学生医保|少儿医保|儿童医保"
            r"|农村医保|大学生医保|居民基本医保|合作医保|城乡医保"
        ),
        InsuranceType.RESIDENT,
    ),
    # On unemployment benefit (the fund pays). "失业了" alone is a job loss: see JOB_CHANGE.
    (re.compile(r"失业金|失业保险金|失业补助金|领(?:取|着)?失业|失业待遇|失业保险待遇"), InsuranceType.UNEMPLOYED),
    (
        re.compile(r"职工医保|(?:单位|公司|企业|老板)(?:给我?)?(?:交|缴|买)的?(?:医保|社保)?|在职职工"),
        InsuranceType.EMPLOYEE,
    ),
)

# Weak hints of an employee (no scheme named): used only when nothing explicit was said.
EMPLOYEE_HINT = re.compile(r"上班|(?<![没无有])单位|(?<!保险)公司|老板|入职|在职|厂里|工厂|换工作|打工|离职|辞职")

# --------------------------------------------------------------------------- cause
# A new employer that has not started paying yet is a job change, not the employer's fault: 新 is
# excluded before the subject ("新单位还没交").
_SUBJECT = r"(?<!新)(?:(?<!保险)公司|单位|老板|企业|厂里|工厂|雇主|人事|hr|财务)"
# Between the employer and its failing, a few words ("老板从去年10月开始就没给我交"), but not a job
# change or the person themself ("从上家公司离职后到现在一直没交" is a job change).
_BETWEEN = r"(?:(?!离职|辞职|辞工|跳槽|自己|我自)[^,。!?;]){0,12}?"
EMPLOYER_CAUSE = re.compile(
    rf"{_SUBJECT}{_BETWEEN}(?:没有?|未|不|漏|欠|少|拖欠?|忘了?|忘记了?|停了?|没钱)(?:及时|按时)?"
    rf"(?:(?:给|帮)(?:我们|我|他们|她们|他|她|职工|员工|大家)?)?(?:交|缴|买|上|续|办)"
    # "单位欠费半年了", "公司拖欠社保4个月", "老板说没钱" (the employer's money, not the person's)
    rf"|{_SUBJECT}{_BETWEEN}(?:欠费|拖欠|欠着|没钱)"
    # 停/断 only with the employer as the actor ("公司停缴了", "公司把我医保停了"); in "单位职工医保断了"
    # 单位 only says which insurance it is.
    rf"|{_SUBJECT}(?:把|将|给|帮)[^,。!?;]{{0,6}}?(?:停|断)"
    rf"|{_SUBJECT}(?:已经|直接|突然|就|又|也|擅自)?(?:停|断)(?:了|掉|缴|交|保)"
    rf"|{_SUBJECT}的?原因|{_SUBJECT}(?:倒闭|破产|跑路)"
)
# A job change alone is not read as either cause: the old employer stopped legally and whether the
# gap between jobs is "personal" depends on the case, so the dialog asks. Said with 自己 ("我自己换
# 工作断的") it is the person's own account, and personal.
PERSONAL_CAUSE = re.compile(
    r"自己忘|忘了交|忘记交|忘交|忘了续|忘记续|个人原因|自己的原因|我的原因|没钱交|交不起|没钱"
    # "自己交的医保断了" says who pays (a self-payer), not whose fault the gap is.
    r"|自己(?!在?(?:交|缴|买))[^,。!?;]{0,6}?(?:没交|没缴|停|断)|不想交|没及时交|自己的问题"
)
UNKNOWN_CAUSE = re.compile(
    r"(?:不知道|不清楚|不确定|不晓得)(?:是|为)?(?:什么|啥|谁的?)?(?:原因|为什么|为啥|怎么回事|怎么断)"
    r"|原因不(?:知道|清楚|明)"
)
# Changing jobs: the gap between two employers, a situation of its own (some regions' rules name it).
JOB_CHANGE = re.compile(
    r"换(?:了个?|个)?工作|换了?(?:公司|单位)|跳槽|离职|辞职|辞工|被辞退|被裁|裁员"
    r"|新(?:公司|单位|工作)[^,。!?;]{0,6}?(?:还没|没有?|未|还未|参保前|入职前)|两份工作(?:之间|中间)|工作(?:空档|间隙)"
    r"|(?:失业|离职|辞职|待业)[^,。!?;]{0,3}?(?:重新|再)(?:就业|上班|找到工作|入职)|解除劳动(?:合同|关系)"
    # A lost job, like 离职 (most people who lose a job do not draw benefit: "领失业金" is a type).
    r"|(?<![领取着])失业(?!金|保险|待遇|补助|登记)|没(?:有)?工作了|丢了?工作|工作(?:丢了|没了)|被开除"
)
NEGATED = re.compile(r"(?:(?<!是)不是|并非|而非)$")

# --------------------------------------------------------------------------- gender
# "男的25年，女的20年", "男性要交25年": a gender followed by years names whom a rule is for.
_NOT_A_RULE = r"(?!(?:要|需要?|得)?(?:交|缴)?(?:够|满)?(?:\d{1,2}|[一二两三四五六七八九十]{1,3})年)"
_GENDER_PATTERNS = (
    re.compile(r"(?:我是|本人|性别:?是?)(?P<g>[男女])"),
    re.compile(rf"(?P<g>[男女])(?:性|士){_NOT_A_RULE}"),
    re.compile(rf"(?<![\u4e00-\u9fff])(?P<g>[男女])(?:的|生)?(?![\u4e00-\u9fff]){_NOT_A_RULE}"),
    re.compile(r"^[\u4e00-\u9fff]{1,3}(?P<g>先生)"),
    re.compile(r"\d岁的?(?P<g>[男女])(?![儿孩朋人])"),  # "55岁女，交了13年"
)
_GENDER_OF = {"男": Gender.MALE, "女": Gender.FEMALE, "先生": Gender.MALE}


def read_gender(text: str) -> Gender | None:
    """The user's own gender when stated; None when not said or contradictory."""
    found: set[Gender] = set()
    for pattern in _GENDER_PATTERNS:
        for m in pattern.finditer(text):
            found.add(_GENDER_OF[m.group("g")])
    return found.pop() if len(found) == 1 else None


# --------------------------------------------------------------------------- context around numbers
# Words that, just before a stretch of years, make it years paid rather than a gap ("交了18年").
YEARS_PAID_BEFORE = re.compile(
    r"(?:交了|缴了|交费|缴费|累计|一共|总共|共|已经?交|已经?缴|交够|缴够|缴满|交满|满|参保|年限|交过)"
    r"(?:了|有|是|为|已经|已)?(?:快|将近|接近|差不多|大概|大约|约|近|小|不到)?$"
)
# Without a gap verb in the clause, years held are years paid: "15年的缴费记录", "有15年医保"
# (after the stretch; no ^: `match` at the stretch's end anchors it), "职工医保15年" (before it).
YEARS_HELD_AFTER = re.compile(r"的?(?:缴费|交费|参保|医保|社保|职工医保)")
YEARS_HELD_BEFORE = re.compile(r"(?:医保|社保)(?:是|有|已经)?$")
# A total of years paid ("一共交了20年") wins over its parts said in the same message.
YEARS_TOTAL_BEFORE = re.compile(r"(?:一共|总共|累计|合计|加起来|共)[^,。!?;\d]{0,4}$")
# Years said of the medical insurance itself win over other schemes' years ("社保交了10年").
YEARS_MEDICAL_BEFORE = re.compile(r"医保[^,。!?;\d]{0,4}$")
# An amount straight after a stretch of time makes it a price period ("一个月400多", "一年3000").
PRICE_AFTER = re.compile(r"(?:要|交|缴|扣|是|大概|差不多|得)?(?:\d{2,}|[一二两三四五六七八九十]+[百千万])")
# Between two durations said as alternatives: "3个月还是4个月".
EITHER = re.compile(r"(?:还是|或者?|或是|到|至|-|~)")
# A message that corrects itself ("交了15年，不对，是16年"): the last value said wins.
CORRECTION = re.compile(r"不对|错了|说错|应该是|改成|改为|更正")
# Just before a stretch of years, these make it what is required, not what was paid
# ("听说要交够25年", "需要缴满20年", "要求25年"): the engine knows the local requirement.
YEARS_REQUIRED_BEFORE = re.compile(
    r"(?:(?:要|需要?|得|须|必须|应该?|规定|要求)(?:交|缴)?费?(?:够|满|足)?"
    # a requirement said per gender: "要求男的25年", "男的要交25年，女的20年", "女职工20年"
    r"|(?<![我是])(?:男|女)(?:的|性|士|职工|同志|人)?(?:要|需要?|得)?(?:交|缴)?(?:够|满)?)$"
)
# Straight after a stretch of years, a question about them, not years paid: "缴费满15年了吗".
YEARS_ASKED_AFTER = re.compile(r"了?[吗么嘛]")
# Years to reach, as a condition: "交够15年才能退休", "缴满20年才可以" (够/满 before, 才 after).
YEARS_FULL_BEFORE = re.compile(r"(?:够|满)$")
YEARS_CONDITION_AFTER = re.compile(r"才[能可行算]")  # read on the 2 characters after
# Just before a stretch of time, these make it what is still missing ("还差3年", "差七年", "缺2年",
# "再交3年就够了", "还得缴两年"), neither paid nor a gap.
SHORT_BEFORE = re.compile(
    r"(?:差|缺|不够|不足)(?:了|个|大概|将近)?$|(?:再|还要|还得|还需要?|还需|还应该?)(?:补)?(?:交|缴)(?:上|个|满|够)?$"
)
# Years as a target not reached: "公司没给我交够15年", "还差5个月满15年", "没交满15年", "再交2年就满
# 15年了", "交够15年才能退休".
YEARS_TARGET_BEFORE = re.compile(
    r"差(?!不多)|不够|不足|(?:没有?|未|就|才)(?:能|可以|会)?(?:给我|给|帮我|帮)?(?:交|缴)?(?:够|满)$"
)
# A gap said to have been paid back since ("3月份没交，4月又补上了", "后来补交了"): not ongoing. Not a
# question ("补上了吗").
BACKPAID_DONE = re.compile(
    r"(?:补|交|缴)(?:上|齐|好|完)了(?![吗么嘛没])|(?:已经?|又|后来|都)补(?:交|缴)?了(?![吗么嘛没])"
)
# Paying said to have resumed, with or without its month ("后来又接着交了", "已经恢复缴费了"): the gap
# ended, it does not run up to today. Not a question ("能接着交吗").
RESUMED = re.compile(
    r"(?:又|重新|接着)+(?:开始)?(?:交|缴|参保)(?:上)?了(?![吗么嘛没])"
    r"|(?:已经?|又)恢复了?(?:缴费|参保)|恢复了(?:缴费|参保)|恢复(?:缴费|参保)了(?![吗么嘛没])"
)
# The new job does not pay either ("新公司还没给交", "入职后也没交"): joining did not end the gap.
NEW_JOB_UNPAID = re.compile(
    r"新(?:公司|单位|工作)[^,。!?;]{0,6}?(?:还没|没有?|未|不)|入职(?:以?后|之后)?[^,。!?;]{0,4}?(?:也|还|一直)(?:没|未|不)"
)
# Just before a stretch of time, these mean it was paid, not missed ("补交了3个月").
PAID_BEFORE = re.compile(r"(?:交了|缴了|交过|缴过|补了)$")
# "没给我交了3个月": the same words negated name the gap, not time paid.
# "忘记交了两个月", "少交了3个月" likewise;
# "断缴了1年3个月", "停缴了2年" are gaps, never years paid.
UNPAID_BEFORE = re.compile(r"(?:没有?|未|不|少|忘记|忘了|忘|断|停|欠|漏)(?:给我|给|帮我|帮)?(?:交了|缴了)$")
# A gap verb in the same clause makes a stretch of time (or a month) the gap.
GAP_VERB = re.compile(
    r"断|停|没有?(?:给我|给|帮我|帮)?(?:交|缴|买|上|续)|未(?:交|缴)|欠|漏|不交|不缴|中断|空了|空档"
)
# In a clause without a gap verb, these make a stretch of time something else (a price period, a
# waiting period, an age, a job's length).
NOT_GAP = re.compile(
    r"岁|工作了|上班了|干了|做了|入职|工龄|参加工作|每年|每个?月|一年要|多少|费用|等待|恢复|生效|能用|报销|还差|还有|以后|之后"
    r"|前|后"
)
# Markers that a month is when something started ("10月份开始").
START_AFTER = re.compile(r"^份?(?:开始|起|以来|至今|以后|之后|后|就|没|断|停|到现在)")
START_BEFORE = re.compile(r"(?:从|自从|自|打)$")
START_OF_HALF = re.compile(r"(?:开始|起|以来|至今|到现在|就一直)")
START_IN_CLAUSE = re.compile(r"开始|起|以来|至今|到现在|从|自从")

# --------------------------------------------------------------------------- monthly base
_BASE_NUM = (
    r"(?P<n>\d{3,7}(?:\.\d{1,2})?|\d{1,3}(?:\.\d{1,2})?(?=[万千k])"
    r"|[一二两三四五六七八九十百千万点]{1,8})"
)
# "4千5" is 4500 and "1万2" 12000: a digit after 千/万 is the next place down (spoken style).
_BASE_UNIT = r"(?:(?P<u>万|千|k)(?:(?P<tail>\d)(?!\d)(?:千|百)?)?)?(?:元|块)?"
BASE = (
    re.compile(rf"基数(?:是|为|按|大概|约|在|:)*{_BASE_NUM}{_BASE_UNIT}"),
    re.compile(rf"按照?{_BASE_NUM}{_BASE_UNIT}的?(?:缴费)?基数"),
    re.compile(rf"{_BASE_NUM}{_BASE_UNIT}的?(?:缴费)?基数"),
)
BASE_UNIT_FACTOR = {"万": 10000.0, "千": 1000.0, "k": 1000.0}

# --------------------------------------------------------------------------- intents
INTENT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("start", re.compile(r"^/start\b")),
    # Commands that end or rewind the conversation must be said as commands: "医保资格被取消了",
    # "重新开始交", "返回老家", "保费退回了" are not.
    (
        "cancel",
        re.compile(
            r"^/cancel\b|^(?:那|好吧|请|帮我)?(?:取消|不用了|算了|忘掉|不问了|退出|别管了|结束对话)"
            r"|(?:取消|不用了|算了吧?|不问了|退出)$|忘掉(?:我|这|刚才|吧)"
        ),
    ),
    (
        "restart",
        re.compile(r"^/restart\b|^(?:请|我要|我想)?(?:重新开始|重来|从头开始|重新来|重新问)(?!交|缴|参保)"),
    ),
    ("help", re.compile(r"^/help\b|帮助|怎么用|使用说明|你能做什么|你会什么|能干什么|菜单")),
    ("back", re.compile(r"^/back\b|^(?:返回|退回|回退)(?:上一步|上一个问题)?(?:吧|一下)?$|上一步|回到上一")),
    ("correction", re.compile(r"不对|错了|改成|换成|改为|应该是|更正|说错|搞错|(?<!是)不是.")),
    ("what_if", re.compile(r"如果|假如|(?<![主只需就])要是|假设|万一|若是")),
    (
        "greeting",
        re.compile(r"你好|您好|在吗|在不在|哈喽|嗨|早上好|晚上好|下午好|(?<![a-z])(?:hello|hi)(?![a-z])"),
    ),
    ("thanks", re.compile(r"谢谢|感谢|多谢|谢了|(?<![a-z])(?:thanks?|thx)(?![a-z])")),
    # A bare acknowledgement ("好的", "嗯嗯", "知道了") after an answer is no question to answer.
    ("ack", re.compile(r"^(?:好的?|好吧|嗯+|哦+|噢+|ok|okay|行|明白了?|知道了|了解了?|收到|懂了)[。.!！~～]*$")),
    (
        "reminder",
        re.compile(r"(?:帮我|给我|请|能不能|可以|到时候?|记得)提醒|提醒我一下|设个?提醒|设置提醒|^提醒我"),
    ),
    ("own_reminder", re.compile(r"提醒(?:我|一下)")),  # a day of one's own is read in flows.reminders_when
    ("human", re.compile(r"人工|客服|电话|热线|真人|12393")),
    # Outside mainland China (Taiwan's 全民健保, Hong Kong, Macao): not the schemes this bot knows.
    # "香港路" and the like are streets in mainland cities.
    ("outside_mainland", re.compile(r"台湾|台北|香港(?![中东西南北]?路|街|大道)|澳门(?![中东西南北]?路|街)|健保")),
    (
        "question_backpay",
        re.compile(r"能补|可以补|补缴|补交|怎么补|还能交|能不能交|能不能补|可不可以补|补上|补办|续上|接上|能续"),
    ),
    (
        "question_materials",
        re.compile(r"材料|带什么|带啥|要带|拿什么|证件|准备什么|准备啥|需要什么|要什么手续|手续"),
    ),
    (
        "question_window",
        re.compile(r"几号|哪天(?:交|缴|申报|办)|申报|每月(?:几|什么时候)|截止|期限|最晚|什么时候(?:交|缴|办|去)"),
    ),
    (
        "question_now",
        re.compile(
            r"怎么办|咋办|那怎么|还有(?:什么|啥)办法|有没有办法|重新参保|重新交|重新买|怎么弄"
            r"|咋整|怎么整|咋弄|怎么处理|如何处理"
            # acting against an employer that does not pay: the employer's duty is the answer
            r"|投诉|举报|维权|仲裁|劳动监察|告(?:公司|单位|老板)"
        ),
    ),
    ("question_why", re.compile(r"依据|为什么|为啥|哪里规定|哪条规定|政策原文|来源|靠谱吗|准吗|凭什么")),
    ("question_cost", re.compile(r"多少钱|费用|交多少|缴多少|花多少|滞纳金|贵不贵|要多少|几块钱|多少费")),
    (
        "question_when",
        re.compile(
            r"什么时候(?:能|可以)?(?:用|报|恢复|生效)|多久(?:能|可以|才能)?(?:用|报|恢复|生效)"
            r"|等待期|多长时间(?:能|可以|才能)?(?:用|报|恢复|生效)|几个月(?:能|可以|才能)(?:用|报)"
            r"|(?:住院|看病|门诊|买药|生病)[^,。!?;]{0,4}?(?:能|可以|给)报|能(?:不能)?报销?吗?|报销吗|能用吗|能不能用"
            r"|少等|等多久|要等|还用等|不用等|马上(?:能|就能)用"
            # what the gap does to what was paid and to the cover: the same part answers it
            r"|清零|作废|白交|连续(?:缴费)?年限|有(?:什么|啥)影响|有影响吗|影响大(?:吗|不大)|会不会影响"
        ),
    ),
    (
        "question_where",
        re.compile(r"在哪|去哪|哪里办|哪儿|线上|网上|怎么办理|app|小程序|窗口|公众号|网厅|掌上"),
    ),
)

# Questions about insurance that are not about a gap: answered in one line with where to ask.
OFF_TOPIC: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("card", re.compile(r"(?:医保|社保)卡[^,。!?;]{0,4}?(?:丢|掉|挂失|补办|补卡|换卡|激活|密码|坏了|消磁|找不到|没了)")),
    ("remote", re.compile(r"异地就医|异地备案|备案|转诊|外地看病|异地住院|跨省")),
    ("ratio", re.compile(r"报销比例|起付线|封顶线|报销多少|能报多少|报百分之|报几成|自付比例")),
    ("chronic", re.compile(r"慢特病|慢性病|门特|门慢|特殊病|特门|两病")),
)
# Words that make a message about a gap (off-topic readers then stay quiet).
GAP_TALK = re.compile(
    r"断缴|断了|断保|停缴|停保|补缴|补交|没交|没缴|漏缴|漏交|欠缴|断档|中断|停了|停交|断开|续不上|没续|忘交|忘了交|忘记交"
)

_PARTICLES = r"(?:的|啊|呀|吧|哦|噢|呢|了|嘛)?"
YES = re.compile(
    rf"^(?:是|是的|对|对的|好|好的|可以|嗯|嗯嗯|行|没错|确定|要|需要|ok|okay|yes|y){_PARTICLES}$"
)
NO = re.compile(rf"^(?:不是|不要|没有|不|否|不用|不需要|不行|不可以|没|no|n){_PARTICLES}$")
