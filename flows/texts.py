"""User-facing wording of the conversation (Simplified Chinese), kept apart from the logic."""

from __future__ import annotations

WELCOME = (
    "您好！我可以帮您弄清楚职工医保（含灵活就业）或居民医保断缴后能不能补、怎么补、"
    "要交多少钱、什么时候能恢复报销。\n"
    "可以直接说您的情况，比如“乌鲁木齐灵活就业断了4个月还能补吗”。"
)
WELCOME_WITH_REGION = "您好！已为您选好地区：{region}。我可以帮您弄清楚医保断缴后能不能补、怎么补、要交多少钱、什么时候能恢复报销。"
RESTARTED = "好的，我们重新开始。"
CANCELLED = "好的，已清除本次对话的所有信息和提醒。需要时发 /start 重新开始。"
WENT_BACK = "好的，已退回上一步。"
NOTHING_TO_UNDO = "已经是第一步了，没有可以退回的内容。"
UPDATED = "🔄 好的，已按新的信息重新计算："
UPDATED_WITH = "🔄 已改为：{summary}，结果如下（有变化的地方以此为准）："
UPDATED_THEN_ASK = "🔄 已改为：{summary}。"
UPDATED_THEN_ASK_BARE = "🔄 好的，已改。"
UPDATED_BASE = "好的，已按缴费基数{base}元重新估算："
COST_NEEDS_BASE = "💰 费用：还缺您的月缴费基数，点下面的按钮输入（或直接说“基数5000”），我来估算。"
COST_UNKNOWN = "💰 费用：当地的缴费比例或基数没有可靠来源，暂时估算不了，请向当地医保经办机构咨询。"
NOTED = "好的，已记下：{summary}。"
TYPE_LABELS = {
    "employee": "单位职工医保",
    "flexible": "灵活就业人员职工医保",
    "resident": "城乡居民医保",
    "unemployed": "领取失业金期间的职工医保",
    "retiree": "退休/临近退休（职工医保年限）",
}
# A job change is a situation of its own: neither the employer's fault nor simply the person's.
CAUSE_LABELS = {"employer": "单位原因", "personal": "个人原因", "job_change": "换工作/离职"}
GENDER_LABELS = {"male": "男", "female": "女"}
ASK_OTHER_REGION = "好的，换个地区看看。"
WHICH_REGION = "有几个同名的地区，请问是哪一个？"
WHAT_IF_PREFIX = "【假设情况，不会改动您已填的信息】\n"
ONLY_TEXT = "目前我只能读文字消息和按钮。"
UNKNOWN_COMMAND = "不认识这个命令。可用命令：/start 开始，/help 帮助，/cancel 清除对话，/restart 重新开始，/reminders 我的提醒，/stop 停止提醒。"
STALE_BUTTON = "这个按钮已经失效了，请按最新的提示回答。"
ANYTHING_ELSE = "好的。还想了解哪方面，点下面的按钮或直接问我。"
SAME_AS_BEFORE = "情况和刚才一样，结果不变："
ADDED_WITH = "好的，已记下：{summary}，结果如下："
OFF_TOPIC_ASIDE = "另外：{what}不在我能算的范围，可以问当地医保经办机构或拨打 12393。"
YOU_ARE_WELCOME = "不客气！还有问题随时问我。"
HOTLINES = "人工咨询可拨打医保服务热线 12393，或人社服务热线 12333（外地请加区号）。"
CANNOT_ANSWER = (
    "抱歉，这个问题我答不上来，不想给您一个编出来的答案。"
    "建议拨打医保服务热线 12393（或当地 12333）咨询。\n"
    "您也可以换个说法，或者告诉我新的情况（地区、医保类型、断缴多久、原因），我重新帮您算。"
)
CONTINUE_PRIVATELY = (
    "以上是一般情况。断缴时长、原因、缴费年限等属于个人信息，"
    "不方便在群里说的话，可以点下面的按钮私聊我，我会带着刚才的信息继续。"
)
PRIVATE_LINK_LABEL = "私聊继续"
REMIND_NEEDS_ANSWER = "先告诉我地区和医保类型，算出结果后才能设提醒。"
BTN_REMIND = "⏰ 设个提醒"
BTN_COST = "💰 费用明细"
BTN_WHERE = "🏢 去哪办·带什么"
BTN_WHEN = "🗓 什么时候能用"
BTN_WHY = "📚 依据和说明"
BTN_NOW = "➡️ 现在怎么办"
BTN_OTHER_REGION = "换个地区"
BTN_RESTART = "重新开始"
BTN_UNSURE = "说不准，两种都看看"
BTN_BACK = "↩ 上一步"
BTN_BASE = "💰 输入缴费基数，估算费用"
# "你还可以问" under a card (flows.dialog.suggestions offers each only where it changes or adds something).
SUGGEST_CAUSE = "如果是单位原因呢"
SUGGEST_MATERIALS = "需要带什么材料"
SUGGEST_SHORTER_WAIT = "补了能少等几个月吗"
# Examples of a correction: the first value the person did not say (one that changes the answer first);
# "不对，是…" once the slot was given, the plain statement while it was not.
SUGGEST_GAP_VALUES = ("3个月", "5个月", "1年")
SUGGEST_RESIDENT_GAP_VALUES = ("2年", "1年", "3个月")
SUGGEST_YEARS_VALUES = ("20年", "15年", "25年")
SUGGEST_GAP_FIX = "不对，是{value}"
SUGGEST_GAP_NEW = "断了{value}"
SUGGEST_YEARS_FIX = "不对，是交了{value}"
SUGGEST_YEARS_NEW = "一共交了{value}"
NO_EMPLOYER_FOR_RESIDENT = (
    "城乡居民医保（新农合）由个人按年缴费，没有单位代缴，所以不分单位原因还是个人原因，结果不变。"
    "如果您其实是单位给交的职工医保，直接说“是单位交的职工医保”，我按职工医保重新算。"
)
HELP = (
    "我能回答职工医保（含灵活就业）和城乡居民医保断缴后的问题：能不能补缴、线上线下去哪办、"
    "带什么材料、大概多少钱（含滞纳金和谁来交）、等待期多久、哪天恢复报销、连续缴费年限会不会清零。\n\n"
    "直接说您的情况就行，例如：\n"
    "• 乌鲁木齐灵活就业断了4个月还能补吗\n"
    "• 公司上个月没给我交医保\n"
    "• 新农合停了一年怎么办\n"
    "随时可以改：“不对，是5个月”“换成北京”“如果是单位原因呢”。\n\n"
    "命令：/start 开始　/cancel 清除对话和提醒　/restart 重新开始　/reminders 我的提醒　/stop 停止提醒　/help 帮助\n"
    "结果来自公开政策和资料整理，以当地医保经办机构的答复为准；人工咨询请拨 12393。"
)
DISCLAIMER = "以上根据公开政策和资料整理，仅供参考，具体以当地医保经办机构的答复为准；咨询电话 12393。"
LOCAL_RULE = "本地规定"
NATIONAL_PRACTICE = "全国一般做法"
# Beside a part the region has no rule of its own for (its channels, wait, cost, what to do after a "no").
NATIONAL_TAG = "全国通行做法，以当地为准"
NATIONAL_PRACTICE_SHORT = "全国通行做法"  # beside one item of a list whose other items are local
NATIONAL_RULE_TAG = "全国统一规定"  # a national official rule (国办发〔2024〕38号's wait for residents)
NATIONAL_COST_TAG = "按全国通行费率估算"
NATIONAL_BASE_TAG = "基数按全国通行比例估算"
NOW_SHORT = "现在：重新参保缴费（点“现在怎么办”看怎么办）"
NOW_AFTER_NO = (
    "➡️ 现在怎么办：这段断缴一般补不上，但可以马上重新参保缴费，"
    "按新参保人员享受待遇；已缴的年限和个人账户余额一般保留。"
)
NO_COST_AFTER_NO = "💰 这段断缴一般不能补缴，所以没有补缴费用；重新参保按当地正常标准按月缴费。"
LATE_FEE_LOCAL_PRACTICE = (
    "⏱ 滞纳金：部分地区对个人按日万分之{rate}加收，以当地为准{amount}；未计入上面的费用。"
)
NO_WINDOW_KNOWN = (
    "🗓 资料里没有{region}申报、缴费的具体日期（每月几号、截止哪天），"
    "请向当地医保经办机构或 12393 确认。"
)
# Resident insurance after this year's local enrolment period ended (聊城): no date is promised.
ENROLMENT_CLOSED = "本年度居民医保集中参保缴费期已于{day}截止，当地现在是否受理参保缴费，请向当地医保经办机构或 12393 确认"
RETIREE_WHEN = "补足年限后从哪天起可以报销，资料未说明，请向当地医保经办机构确认"
NO_ENROLMENT_WINDOW_KNOWN = (
    "🗓 资料里没有{region}居民医保集中参保缴费期的具体起止日期，请向当地医保经办机构或 12393 确认。"
)
RETIREE_COST_NEEDS_YEARS = "💰 费用：先要知道当地规定的年限和您已缴的年限，才能算出要补几年、大约多少钱。"
KEEP_PAYING_WHERE = "🏢 以个人身份参保缴费，去哪办"
IF_NOT_ALLOWED = "如果当地不允许补缴这段："
NEED_FIRST = "这要看当地规定和您的情况，先问您一句："
PROVISIONAL = "先按目前知道的情况回答（结果可能随您的回答变化）。还想确认一下：{question}"
SOURCES_DISAGREE = "来源说法不一（见依据和说明）"
CUT_REASON = "…（全文见“依据和说明”）"
# A gap that ended (a new job, paying resumed): the answer's dates assume paying the gap back today,
# and where a wait counts from resuming it may be over; keep that unknown, and say whom to ask.
GAP_ENDED = "您已恢复缴费：以下说的是补缴断缴的那几个月；等待期可能已从恢复缴费时起算，现在能否报销请向当地医保经办机构确认。"
GAP_EDGE_GROUP = "注意：刚好{months}个月和超过{months}个月的结果不同，以下按{used}个月回答；可以私聊我细说。"
GAP_EDGE_SHORT = "还想确认一下：是刚好{months}个月，还是已经超过{months}个月？"
EDGE_SAME = "不管是刚好{months}个月还是超过{months}个月，下面这些都一样："
# Years paid said loosely ("交了快20年") where the verdict turns inside what they can mean.
YEARS_EXACT = (
    "您说的缴费年数（约{low}–{high}年）正好在当地规定的年限附近，差几个月结果就不同。"
    "请告诉我准确的职工医保缴费年数，例如“19年”或“19年8个月”。"
)
BTN_YEARS_UNSURE = "记不清准确年数"
YEARS_UNKNOWN = "好的，先不按您的缴费年数判断，下面说明还需要确认什么。"
# Asked about Taiwan's 健保, Hong Kong or Macao: said once, then the mainland city is asked as usual.
OUTSIDE_MAINLAND = (
    "抱歉，我只能回答中国内地（大陆）的职工医保（含灵活就业）和城乡居民医保问题，"
    "台湾地区的健保以及香港、澳门的医疗保障不在范围内。如果您是在内地参保的，请接着告诉我情况。"
)
# After that note (or a reminder of it) no "没能识别这个地区": 台北 was understood, it is just not covered.
MAINLAND_REGION = "请问您在内地哪个城市（或区县）参保？可以直接输入，比如“乌鲁木齐”“北京朝阳区”。"
MAINLAND_ONLY_AGAIN = "台湾地区、香港、澳门的医疗保障不在我能回答的范围。"
MAINLAND_OTHER_REGION = "想看内地其他地区的结果，直接告诉我城市名，或点“换个地区”。"
GAP_EDGE = "断缴时长正好在规定变化的地方：是刚好{months}个月（或更短），还是已经超过{months}个月？"
OFF_TOPIC = (
    "这个问题不在我能算的范围（我只管医保断缴、补缴的问题）。{what}可以问当地医保经办机构、"
    "拨打医保服务热线 12393，或用“国家医保服务平台”App 查询办理。如果是医保断缴了想补，直接告诉我情况就行。"
)
OFF_TOPIC_WHAT = {
    "card": "医保卡（社保卡）挂失、补办，",
    "remote": "异地就医备案，",
    "ratio": "报销比例和起付线，",
    "chronic": "门诊慢特病认定和待遇，",
    "other": "",
}
LONG_MESSAGE_CUT = "（您的消息很长，{platform}可能把它分成了几条；我读的是这一条的全部内容，如有遗漏请再补充。）"
