"""Every feature's declaration: its name, group, window, type, words and reason phrasing.

:class:`FeatureSpec` is one declaration; :func:`all_specs` lists them in registry order,
group by group. Names are built from their parameters (``events_mediation_failure_30d``,
``party_disputes_365d_max``, ``ego_incidents_2hop_90d``). The registry (``_registry.py``)
turns the list into lookups, reasons and docs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from riskwarn import vocab
from riskwarn._contract import CATEGORIES, EVENT_KINDS, FLAGS, SOURCES, TIE_KINDS

GROUPS = ("case", "history", "petitions", "parties", "graph", "area")
DTYPES = ("bool", "int", "float", "category")

EXPOSURE_WINDOWS = (30, 90, 180)
BOUNDED_DAYS = 1826
"""The window of the bounded alternative of every "ever" count: 5 years (1,826 days), the
term after which credit-reporting law deletes adverse records. An "ever" feature marks a
person for life; its ``*_1826d`` twin forgets what is older (docs/rights.md)."""
HOPS_CAP = 4
"""``ego_incident_hops_180d`` is capped here: 4 means none within three hops."""
HOPS_EN = (
    "a party was in an extreme incident in the last 180 days",
    "someone a party is tied to was in an extreme incident in the last 180 days",
    "someone two steps from a party was in an extreme incident in the last 180 days",
    "someone three steps from a party was in an extreme incident in the last 180 days",
)
HOPS_ZH = (
    "当事人本人近180天涉及极端事件",
    "当事人的直接关系人近180天涉及极端事件",
    "当事人的二度关系人（关系人的关系人）近180天涉及极端事件",
    "当事人的三度关系人近180天涉及极端事件",
)

GRAPH_PREFIXES = {"all": "graph", "ties": "graph_ties", "co": "graph_co"}
"""Name prefix of the position features (component, core, PageRank) of each graph."""
_GRAPH_WORDS = {  # graph: (description en, zh; reason en, zh)
    "all": (
        "people graph (ties and shared disputes together)",
        "关系网（社会关系与共涉纠纷合并）",
        "network",
        "关系网",
    ),
    "ties": (
        "relationship graph (ties only)",
        "社会关系网（仅社会关系）",
        "network of ties",
        "社会关系网",
    ),
    "co": (
        "co-involvement graph (shared disputes only)",
        "共涉纠纷网（仅共同涉案）",
        "network of shared disputes",
        "共涉纠纷网",
    ),
}

LEVEL_NAMES_EN = ("none", *(v.lower() for v in vocab.labels("petition_level", "en").values()))
LEVEL_NAMES_ZH = ("无", *vocab.labels("petition_level", "zh").values())

# English nouns for reason sentences; the Chinese words are the vocabulary's labels.
_EVENT_EN = {
    "visit": "visit",
    "mediation_attempt": "mediation attempt",
    "mediation_success": "successful mediation",
    "mediation_failure": "failed mediation",
    "escalation": "escalation",
    "threat": "recorded threat",
    "police_call": "police call",
    "referral": "referral",
    "closed": "closure",
    "reopened": "reopening",
}
_FLAG_EN = {
    "severe_mental_disorder": "a severe mental disorder",
    "community_correction": "community correction",
    "released_prisoner": "release from prison",
    "drug_user": "drug use",
    "key_youth": "key youth",
    "other": "another special population",
}
_FLAG_REASON_EN = {  # (a party is ..., no party is ...)
    "severe_mental_disorder": (
        "a party with a severe mental disorder is under management",
        "no party is under management for a severe mental disorder",
    ),
    "community_correction": (
        "a party is under community correction",
        "no party is under community correction",
    ),
    "released_prisoner": (
        "a party released from prison is under management",
        "no party is under management after release from prison",
    ),
    "drug_user": ("a party is a drug user under management", "no party is a drug user"),
    "key_youth": ("a party is a key youth under care", "no party is a key youth under care"),
    "other": (
        "a party is in another special population",
        "no party is in another special population",
    ),
}
_TIE_EN = {
    "spouse": "spouse",
    "former_spouse": "former spouse",
    "partner": "partner",
    "parent_child": "parent or child",
    "sibling": "sibling",
    "relative": "relative",
    "neighbor": "neighbour",
    "colleague": "colleague",
    "creditor_debtor": "creditor-debtor",
    "landlord_tenant": "landlord-tenant",
    "other": "other",
}
_EVENT_WORDS = {k: (en, vocab.label("event_kind", k)) for k, en in _EVENT_EN.items()}
_FLAG_WORDS = {k: (en, vocab.label("flag", k)) for k, en in _FLAG_EN.items()}
_TIE_WORDS = {k: (en, vocab.label("tie_kind", k).removesuffix("关系")) for k, en in _TIE_EN.items()}


@dataclass(frozen=True)
class FeatureSpec:
    """One feature: what it is called, counts, and how to say it as a reason.

    ``reason_en``/``reason_zh`` are ``str.format`` templates over ``value`` (already
    formatted), ``s`` (an English plural ending) and ``label`` (a category's or level's
    words). Booleans use them when true and ``reason_false_*`` when false; undefined
    values (NaN, e.g. days since something that never happened) use ``reason_missing_*``.
    """

    name: str
    group: str
    window: int | None
    dtype: str
    description_en: str
    description_zh: str
    reason_en: str
    reason_zh: str
    reason_false_en: str = ""
    reason_false_zh: str = ""
    reason_missing_en: str = ""
    reason_missing_zh: str = ""
    categories: tuple[str, ...] = ()
    labels_en: tuple[str, ...] = ()
    labels_zh: tuple[str, ...] = ()
    unit: str = ""
    """How ``{value}``/``{label}`` are said (``_phrases.UNITS``): "duration" (days as
    hours, days or months), "amount" (log(1 + 元) as 元), "male_share", "centrality",
    "core" and "trend" (words in ``{label}``), "whole" (a whole number); "" as it is."""
    absent_at: float | None = None
    """The value that means "nothing of the kind" when not 0 (int) or False (bool), e.g.
    the hops cap; 0.0 for a float whose zero is an absence."""
    bounded: str = ""
    """For an "ever" count (over the whole history): the name of its bounded alternative,
    the same count over the last :data:`BOUNDED_DAYS` days, which training uses by default
    (``TrainConfig.ever_features``). Empty for every other feature."""
    association: bool = False
    """The feature reads other people's records (the parties' neighbours in the people
    graph, the area's incidents), not the case's own or its parties': what an audit calls
    risk by association. The person report says how much of a score comes from these."""
    direction: int = 0
    """What the field knows of the feature's effect on risk: +1 risk may only rise with it,
    -1 only fall, 0 either (see :data:`RISING` and :data:`FALLING`). Training passes it to
    LightGBM as a monotone constraint."""


def _spec(
    name: str,
    group: str,
    window: int | None,
    dtype: str,
    en: str,
    zh: str,
    reason_en: str,
    reason_zh: str,
    **extra: object,
) -> FeatureSpec:
    return FeatureSpec(name, group, window, dtype, en, zh, reason_en, reason_zh, **extra)  # type: ignore[arg-type]


def _case_specs() -> list[FeatureSpec]:
    return [
        _spec(
            "case_category",
            "case",
            None,
            "category",
            "Dispute category",
            "纠纷类别",
            "dispute category: {label}",
            "纠纷类别：{label}",
            categories=CATEGORIES,
        ),
        _spec(
            "case_source",
            "case",
            None,
            "category",
            "How the dispute came in",
            "纠纷来源",
            "came in through: {label}",
            "来源：{label}",
            categories=SOURCES,
        ),
        _spec(
            "case_threat_reported",
            "case",
            None,
            "bool",
            "A threat of harm was recorded at registration",
            "登记时记录有伤害威胁",
            "a threat of harm was recorded at registration",
            "登记时记录有伤害威胁",
            reason_false_en="no threat recorded at registration",
            reason_false_zh="登记时未记录威胁",
        ),
        _spec(
            "case_violence_reported",
            "case",
            None,
            "bool",
            "Violence had already happened at registration",
            "登记时已发生暴力",
            "violence had already happened at registration",
            "登记时已发生暴力",
            reason_false_en="no violence at registration",
            reason_false_zh="登记时未发生暴力",
        ),
        _spec(
            "case_weapon_mentioned",
            "case",
            None,
            "bool",
            "A weapon was mentioned at registration",
            "登记时提及凶器",
            "a weapon was mentioned at registration",
            "登记时提及凶器",
            reason_false_en="no weapon mentioned",
            reason_false_zh="未提及凶器",
        ),
        _spec(
            "case_amount_log",
            "case",
            None,
            "float",
            "Money at stake, log(1 + CNY)",
            "涉及金额（取对数）",
            "money at stake: {value}",
            "涉及金额{value}",
            unit="amount",
            reason_missing_en="no amount recorded",
            reason_missing_zh="未记录涉及金额",
        ),
        _spec(
            "case_age_days",
            "case",
            None,
            "float",
            "Days since registration",
            "立案以来天数",
            "registered {value} ago",
            "立案已{value}",
            unit="duration",
        ),
        _spec(
            "case_parties",
            "case",
            None,
            "int",
            "Parties of the dispute",
            "当事人数",
            "{value} {parties}",
            "当事人{value}人",
        ),
        _spec(
            "case_claimants",
            "case",
            None,
            "int",
            "Claimants",
            "申请人数",
            "{value} claimant{s}",
            "申请人{value}人",
        ),
        _spec(
            "case_respondents",
            "case",
            None,
            "int",
            "Respondents",
            "被申请人数",
            "{value} respondent{s}",
            "被申请人{value}人",
        ),
        _spec(
            "case_other_parties",
            "case",
            None,
            "int",
            "Parties in another role",
            "其他当事人数",
            "{value} other {parties}",
            "其他当事人{value}人",
        ),
    ]


ALARM_KINDS = ("mediation_failure", "escalation", "threat", "police_call")


def _history_specs() -> list[FeatureSpec]:
    specs: list[FeatureSpec] = []
    for kind in EVENT_KINDS:
        en, zh = _EVENT_WORDS[kind]
        specs += [
            _spec(
                f"events_{kind}_ever",
                "history",
                None,
                "int",
                f"{en.capitalize()}s so far",
                f"累计{zh}次数",
                f"{{value}} {en}{{s}} so far",
                f"累计{zh}{{value}}次",
                reason_false_en=f"no {en} so far",
                reason_false_zh=f"尚无{zh}记录",
            ),
            _spec(
                f"events_{kind}_30d",
                "history",
                30,
                "int",
                f"{en.capitalize()}s in the last 30 days",
                f"近30天{zh}次数",
                f"{{value}} {en}{{s}} in the last 30 days",
                f"近30天{zh}{{value}}次",
                reason_false_en=f"no {en} in the last 30 days",
                reason_false_zh=f"近30天无{zh}",
            ),
            _spec(
                f"events_{kind}_days_since",
                "history",
                None,
                "float",
                f"Days since the last {en}",
                f"距上次{zh}天数",
                f"the last {en} was {{value}} ago",
                f"{{value}}前有{zh}",
                unit="duration",
                reason_missing_en=f"no {en} so far",
                reason_missing_zh=f"尚无{zh}记录",
            ),
        ]
    specs += [
        _spec(
            "events_all_30d",
            "history",
            30,
            "int",
            "Events of any kind in the last 30 days",
            "近30天各类事件数",
            "{value} event{s} in the last 30 days",
            "近30天事件{value}起",
            reason_false_en="no event in the last 30 days",
            reason_false_zh="近30天无任何事件",
        ),
        _spec(
            "events_trend_30d",
            "history",
            30,
            "int",
            "Events in the last 30 days minus events in the 30 days before",
            "近30天事件数减去前30天事件数",
            "{value} {label} events than in the 30 days before",
            "近30天事件较前30天{label}{value}起",
            reason_false_en="as many events as in the 30 days before",
            reason_false_zh="近30天事件数与前30天持平",
            unit="trend",
        ),
        _spec(
            "events_alarm_30d",
            "history",
            30,
            "int",
            "Failed mediations, escalations, threats and police calls in the last 30 days",
            "近30天调解失败、升级、威胁、报警次数",
            "{value} alarm event{s} (failed mediation, escalation, threat, police call) "
            "in the last 30 days",
            "近30天出现调解失败、升级、威胁或报警{value}次",
            reason_false_en="no failed mediation, escalation, threat or police call in 30 days",
            reason_false_zh="近30天无调解失败、升级、威胁或报警",
        ),
        _spec(
            "events_alarm_trend_30d",
            "history",
            30,
            "int",
            "Alarm events in the last 30 days minus those in the 30 days before",
            "近30天警示事件数减去前30天",
            "{value} {label} alarm events than in the 30 days before",
            "警示事件较前30天{label}{value}次",
            reason_false_en="as many alarm events as in the 30 days before",
            reason_false_zh="警示事件与前30天持平",
            unit="trend",
        ),
        _spec(
            "events_alarm_days_since",
            "history",
            None,
            "float",
            "Days since the last alarm event",
            "距上次警示事件天数",
            "the last alarm event was {value} ago",
            "{value}前有警示事件",
            unit="duration",
            reason_missing_en="no alarm event so far",
            reason_missing_zh="尚无警示事件",
        ),
        _spec(
            "events_days_since",
            "history",
            None,
            "float",
            "Days since the last event of any kind",
            "距上次事件天数",
            "the last event was {value} ago",
            "最近一次事件在{value}前",
            unit="duration",
            reason_missing_en="no event since registration",
            reason_missing_zh="立案后尚无事件",
        ),
        _spec(
            "events_mediation_failure_streak",
            "history",
            None,
            "int",
            "Failed mediations in a row (since the last successful one)",
            "连续调解失败次数（自上次调解成功以来）",
            "{value} failed mediation{s} in a row",
            "连续调解失败{value}次",
            reason_false_en="the last mediation did not fail",
            reason_false_zh="最近一次调解未失败",
        ),
    ]
    return specs


def _petition_specs() -> list[FeatureSpec]:
    level = {"labels_en": LEVEL_NAMES_EN, "labels_zh": LEVEL_NAMES_ZH}
    specs: list[FeatureSpec] = []
    for who, en_who, zh_who in (
        ("case", "about this dispute", "本纠纷"),
        ("party", "by the parties on any matter", "当事人"),
    ):
        agg = "_sum" if who == "party" else ""
        specs += [
            _spec(
                f"petitions_{who}_ever{agg}",
                "petitions",
                None,
                "int",
                f"Petitions {en_who}",
                f"{zh_who}信访次数",
                f"{{value}} petition{{s}} {en_who}",
                f"{zh_who}信访{{value}}次",
                reason_false_en=f"no petition {en_who}",
                reason_false_zh=f"{zh_who}无信访记录",
            ),
            _spec(
                f"petitions_{who}_365d{agg}",
                "petitions",
                365,
                "int",
                f"Petitions {en_who} in the last 365 days",
                f"近365天{zh_who}信访次数",
                f"{{value}} petition{{s}} {en_who} in the last year",
                f"近一年{zh_who}信访{{value}}次",
                reason_false_en=f"no petition {en_who} in the last year",
                reason_false_zh=f"近一年{zh_who}无信访",
            ),
            _spec(
                f"petitions_{who}_level_max",
                "petitions",
                None,
                "int",
                f"Highest level petitioned {en_who} (0 none, 1 township … 5 national)",
                f"{zh_who}信访最高层级（0无，1乡镇…5国家）",
                f"petitioned {en_who} up to the {{label}} level",
                f"{zh_who}信访至{{label}}级",
                reason_false_en=f"no petition {en_who}",
                reason_false_zh=f"{zh_who}无信访记录",
                **level,
            ),
            _spec(
                f"petitions_{who}_level_climbed",
                "petitions",
                None,
                "bool",
                f"Petitions {en_who} went to a higher level than before",
                f"{zh_who}信访层级上升",
                f"petitions {en_who} climbed to a higher level",
                f"{zh_who}信访层级逐级上升",
                reason_false_en=f"petitions {en_who} did not climb in level",
                reason_false_zh=f"{zh_who}信访层级未上升",
            ),
            _spec(
                f"petitions_{who}_repeat{agg}",
                "petitions",
                None,
                "int",
                f"Repeat petitions {en_who}",
                f"{zh_who}重复信访次数",
                f"{{value}} repeat petition{{s}} {en_who}",
                f"{zh_who}重复信访{{value}}次",
                reason_false_en=f"no repeat petition {en_who}",
                reason_false_zh=f"{zh_who}无重复信访",
            ),
            _spec(
                f"petitions_{who}_collective{agg}",
                "petitions",
                None,
                "int",
                f"Collective petitions (5+ people) {en_who}",
                f"{zh_who}集体访次数",
                f"{{value}} collective petition{{s}} {en_who}",
                f"{zh_who}集体访{{value}}次",
                reason_false_en=f"no collective petition {en_who}",
                reason_false_zh=f"{zh_who}无集体访",
            ),
            _spec(
                f"petitions_{who}_days_since",
                "petitions",
                None,
                "float",
                f"Days since the last petition {en_who}",
                f"距{zh_who}上次信访天数",
                f"the last petition {en_who} was {{value}} ago",
                f"{zh_who}最近一次信访在{{value}}前",
                unit="duration",
                reason_missing_en=f"no petition {en_who}",
                reason_missing_zh=f"{zh_who}无信访记录",
            ),
        ]
    specs.insert(
        8,
        _spec(
            "petitions_party_ever_max",
            "petitions",
            None,
            "int",
            "Petitions by the most petitioning party",
            "信访最多的当事人信访次数",
            "one party has petitioned {value} time{s}",
            "有当事人信访{value}次",
            reason_false_en="no party has petitioned",
            reason_false_zh="当事人均无信访记录",
        ),
    )
    return specs


def _party_specs() -> list[FeatureSpec]:
    specs = [
        _spec(
            "party_age_min",
            "parties",
            None,
            "float",
            "Age of the youngest party",
            "最年轻当事人年龄",
            "the youngest party is {value}",
            "最年轻的当事人{value}岁",
            unit="whole",
        ),
        _spec(
            "party_age_max",
            "parties",
            None,
            "float",
            "Age of the oldest party",
            "最年长当事人年龄",
            "the oldest party is {value}",
            "最年长的当事人{value}岁",
            unit="whole",
        ),
        _spec(
            "party_male_share",
            "parties",
            None,
            "float",
            "Share of men among parties of known gender",
            "已知性别当事人中男性比例",
            "{label}",
            "{label}",
            unit="male_share",
        ),
        _spec(
            "party_same_household",
            "parties",
            None,
            "bool",
            "Two parties live together",
            "有当事人同住一户",
            "two parties live in the same household",
            "有当事人同住一户",
            reason_false_en="no parties share a household",
            reason_false_zh="当事人不同户",
        ),
        _spec(
            "party_flags_active",
            "parties",
            None,
            "int",
            "Special-population records active for the parties at as_of",
            "当事人在管重点人群记录数",
            "{value} active special-population record{s} among the parties",
            "当事人中有{value}条在管重点人群记录",
            reason_false_en="no party is under special-population management",
            reason_false_zh="当事人均不在重点人群管理名单中",
        ),
        _spec(
            "party_flag_level_max",
            "parties",
            None,
            "float",
            "Highest danger level among the parties' active special-population records",
            "当事人在管重点人群最高危险等级",
            "a party under management has danger level {value} (the highest is 5)",
            "有在管当事人危险等级{value}（最高5级）",
            reason_false_en="no party under management has a danger level above 0",
            reason_false_zh="在管当事人危险等级均为0",
            unit="whole",
            absent_at=0.0,
            reason_missing_en="no graded special-population record",
            reason_missing_zh="无分级重点人群记录",
        ),
    ]
    for flag in FLAGS:
        en, zh = _FLAG_WORDS[flag]
        specs.append(
            _spec(
                f"party_flag_{flag}",
                "parties",
                None,
                "bool",
                f"A party is under management for {en}",
                f"有当事人为{zh}（在管）",
                _FLAG_REASON_EN[flag][0],
                f"有当事人为在管{zh}",
                reason_false_en=_FLAG_REASON_EN[flag][1],
                reason_false_zh=f"当事人中无在管{zh}",
            )
        )
    for window, en_w, zh_w in ((365, "in the last 365 days", "近一年"), (None, "ever", "历史")):
        tag = f"{window}d" if window else "ever"
        specs += [
            _spec(
                f"party_disputes_{tag}_max",
                "parties",
                window,
                "int",
                f"Other disputes of the most involved party, {en_w}",
                f"{zh_w}涉及其他纠纷最多的当事人的纠纷数",
                f"one party has had {{value}} other dispute{{s}} {en_w}",
                f"有当事人{zh_w}涉及其他纠纷{{value}}起",
                reason_false_en=f"no party had another dispute {en_w}",
                reason_false_zh=f"当事人{zh_w}均无其他纠纷",
            ),
            _spec(
                f"party_disputes_{tag}_sum",
                "parties",
                window,
                "int",
                f"Other disputes of the parties, summed, {en_w}",
                f"{zh_w}当事人涉及其他纠纷数之和",
                f"the parties have had {{value}} other dispute{{s}} {en_w}",
                f"当事人{zh_w}共涉及其他纠纷{{value}}起",
                reason_false_en=f"no party had another dispute {en_w}",
                reason_false_zh=f"当事人{zh_w}均无其他纠纷",
            ),
            _spec(
                f"party_pair_disputes_{tag}",
                "parties",
                window,
                "int",
                f"Other disputes between two of the same parties, {en_w}",
                f"{zh_w}同一对当事人之间的其他纠纷数",
                f"{{value}} earlier dispute{{s}} between the same people {en_w}",
                f"同一对当事人{zh_w}另有纠纷{{value}}起",
                reason_false_en=f"no earlier dispute between the same people {en_w}",
                reason_false_zh=f"同一对当事人{zh_w}无其他纠纷",
            ),
        ]
    roles = (("perpetrator", "as perpetrator", "作为加害人"), ("victim", "as victim", "作为受害人"))
    for role, en, zh in roles:
        for window in (365, None):
            tag = f"{window}d" if window else "ever"
            en_w = "in the last 365 days" if window else "ever"
            zh_w = "近一年" if window else "历史上"
            specs.append(
                _spec(
                    f"party_incidents_{role}_{tag}",
                    "parties",
                    window,
                    "int",
                    f"Distinct extreme incidents with a party {en}, {en_w}",
                    f"当事人{zh_w}{zh}涉及极端事件数",
                    f"{{value}} extreme incident{{s}} with a party {en} {en_w}",
                    f"当事人{zh_w}{zh}涉及极端事件{{value}}起",
                    reason_false_en=f"no extreme incident with a party {en} {en_w}",
                    reason_false_zh=f"当事人{zh_w}无{zh}涉及的极端事件",
                )
            )
    specs.append(
        _spec(
            "party_incidents_days_since",
            "parties",
            None,
            "float",
            "Days since a party was last involved in an extreme incident",
            "距当事人上次涉及极端事件天数",
            "a party was involved in an extreme incident {value} ago",
            "当事人{value}前涉及极端事件",
            unit="duration",
            reason_missing_en="no party involved in an extreme incident",
            reason_missing_zh="当事人无极端事件记录",
        )
    )
    specs += [
        _spec(
            "party_pair_incidents_ever",
            "parties",
            None,
            "int",
            "Extreme incidents that involved two of the parties (earlier violence between them)",
            "同一对当事人共同涉及的极端事件数（双方此前发生过暴力）",
            "{value} extreme incident{s} already involved two of these parties",
            "当事人之间已发生极端事件{value}起",
            reason_false_en="no extreme incident between these parties so far",
            reason_false_zh="当事人之间未发生过极端事件",
        ),
        _spec(
            "party_self_harm_ever",
            "parties",
            None,
            "int",
            "Self-harm incidents that involved a party",
            "当事人涉及的自伤事件数",
            "{value} self-harm incident{s} involving a party",
            "当事人涉及自伤事件{value}起",
            reason_false_en="no self-harm incident involving a party",
            reason_false_zh="当事人无自伤记录",
        ),
    ]
    return specs


def _graph_specs() -> list[FeatureSpec]:
    specs: list[FeatureSpec] = []
    for kind in TIE_KINDS:
        en, zh = _TIE_WORDS[kind]
        specs.append(
            _spec(
                f"ties_{kind}_sum",
                "graph",
                None,
                "int",
                f"Active {en} ties of the parties",
                f"当事人现有{zh}关系数",
                f"the parties have {{value}} {en} tie{{s}} in all",
                f"当事人共有{{value}}段{zh}关系",
                reason_false_en=f"no party has a {en} tie",
                reason_false_zh=f"当事人均无{zh}关系",
            )
        )
    for kind in TIE_KINDS:
        en, zh = _TIE_WORDS[kind]
        specs.append(
            _spec(
                f"ties_between_{kind}",
                "graph",
                None,
                "bool",
                f"Two parties have an active {en} tie",
                f"当事人之间有{zh}关系",
                f"the parties are linked as {en}",
                f"当事人之间为{zh}关系",
                reason_false_en=f"no {en} tie between the parties",
                reason_false_zh=f"当事人之间无{zh}关系",
            )
        )
    specs += [
        _spec(
            "ties_ended_365d_sum",
            "graph",
            365,
            "int",
            "Ties of the parties that ended in the last 365 days (divorce, moving away)",
            "近一年当事人结束的关系数（离婚、搬离）",
            "{value} tie{s} of the parties ended in the last year",
            "近一年当事人有{value}段关系结束",
            reason_false_en="no tie of the parties ended in the last year",
            reason_false_zh="近一年当事人没有关系结束",
        ),
        _spec(
            "ties_between_ended_365d",
            "graph",
            365,
            "bool",
            "A tie between two parties ended in the last 365 days (e.g. divorce)",
            "近一年当事人之间的关系结束（如离婚）",
            "a tie between the parties ended in the last year (e.g. divorce)",
            "近一年当事人之间关系结束（如离婚）",
            reason_false_en="no tie between the parties ended in the last year",
            reason_false_zh="近一年当事人之间无关系结束",
        ),
        _spec(
            "graph_neighbors",
            "graph",
            None,
            "int",
            "Distinct people tied or co-involved with the parties (counterparties)",
            "与当事人有关系或共涉纠纷的不同人数",
            "the parties are linked to {value} other people",
            "当事人与{value}人有关系或共涉纠纷",
            reason_false_en="the parties are linked to no one else",
            reason_false_zh="当事人与他人无关系记录",
        ),
        _spec(
            "graph_ties_neighbors",
            "graph",
            None,
            "int",
            "Distinct people with an active relationship tie to the parties",
            "与当事人有现存社会关系的不同人数",
            "the parties have ties to {value} other people",
            "当事人与{value}人有社会关系",
            reason_false_en="the parties have no recorded ties",
            reason_false_zh="当事人无社会关系记录",
        ),
        _spec(
            "graph_co_parties",
            "graph",
            None,
            "int",
            "Distinct people who were parties with them in other disputes",
            "在其他纠纷中与当事人同为当事人的不同人数",
            "{value} people shared other disputes with the parties",
            "{value}人曾与当事人共涉其他纠纷",
            reason_false_en="no one shared another dispute with the parties",
            reason_false_zh="无人与当事人共涉其他纠纷",
        ),
    ]
    for graph, prefix in GRAPH_PREFIXES.items():
        en_g, zh_g, en_r, zh_r = _GRAPH_WORDS[graph]
        specs += [
            _spec(
                f"{prefix}_component_size",
                "graph",
                None,
                "int",
                f"People in the connected part of the {en_g} the parties belong to",
                f"当事人所在{zh_g}连通部分的人数",
                f"the parties' {en_r} reaches {{value}} people",
                f"当事人所在的{zh_r}连起来共{{value}}人",
                reason_false_en=f"the parties are not in the {en_r} yet",
                reason_false_zh=f"当事人尚未进入{zh_r}",
            ),
            _spec(
                f"{prefix}_core_max",
                "graph",
                None,
                "int",
                f"Highest k-core number among the parties in the {en_g}",
                f"当事人在{zh_g}中所处人群的最高紧密程度（核数）",
                f"in the {en_r}, a party {{label}}",
                f"有当事人在{zh_r}中{{label}}",
                reason_false_en=f"no party has links in the {en_r}",
                reason_false_zh=f"当事人在{zh_r}中没有联系人",
                unit="core",
            ),
            _spec(
                f"{prefix}_pagerank_max",
                "graph",
                None,
                "float",
                f"Highest PageRank among the parties in the {en_g}; 1 = the average linked person",
                f"当事人在{zh_g}中的最高中心度（平均为1）",
                f"in the {en_r}, a party {{label}}",
                f"有当事人在{zh_r}中{{label}}",
                reason_false_en=f"no party has links in the {en_r}",
                reason_false_zh=f"当事人在{zh_r}中没有联系人",
                unit="centrality",
                absent_at=0.0,
            ),
        ]
    for hops, en_h, zh_h in ((1, "one hop", "直接关系人"), (2, "two hops", "二度关系人")):
        for window in EXPOSURE_WINDOWS:
            specs.append(
                _spec(
                    f"ego_incidents_{hops}hop_{window}d",
                    "graph",
                    window,
                    "int",
                    f"Extreme incidents among people {en_h} from the parties, last {window} days",
                    f"近{window}天当事人的{zh_h}中的极端事件数",
                    f"{{value}} extreme incident{{s}} among people {en_h} away "
                    f"in the last {window} days",
                    f"近{window}天当事人的{zh_h}涉及极端事件{{value}}起",
                    reason_false_en=f"no extreme incident among people {en_h} away "
                    f"in the last {window} days",
                    reason_false_zh=f"近{window}天当事人的{zh_h}未涉及极端事件",
                )
            )
    specs += [
        _spec(
            "ego_incident_hops_180d",
            "graph",
            180,
            "int",
            f"Hops to the nearest person in an extreme incident in the last 180 days "
            f"(0 a party, {HOPS_CAP} none within {HOPS_CAP - 1})",
            f"距近180天涉极端事件者的最短关系步数"
            f"（0为当事人本人，{HOPS_CAP}为{HOPS_CAP - 1}步内无）",
            "{label}",
            "{label}",
            reason_false_en=f"no one within {HOPS_CAP - 1} hops was in an extreme incident "
            "in the last 180 days",
            reason_false_zh="近180天当事人三度关系内无人涉及极端事件",
            labels_en=HOPS_EN,
            labels_zh=HOPS_ZH,
            absent_at=float(HOPS_CAP),
        ),
        _spec(
            "ego_open_disputes_1hop",
            "graph",
            None,
            "int",
            "Other open disputes of the parties and the people one hop away",
            "当事人及其一度关联人的其他未结纠纷数",
            "{value} other open dispute{s} among the parties and their ties",
            "当事人及其直接关系人另有未结纠纷{value}起",
            reason_false_en="no other open dispute among the parties and their ties",
            reason_false_zh="当事人及其直接关系人无其他未结纠纷",
        ),
    ]
    return specs


def _area_specs() -> list[FeatureSpec]:
    specs = []
    for area, en_a, zh_a in (("grid", "grid", "网格"), ("township", "township", "乡镇")):
        whats = (("disputes", "disputes", "纠纷"), ("incidents", "extreme incidents", "极端事件"))
        for what, en_w, zh_w in whats:
            specs.append(
                _spec(
                    f"area_{area}_{what}_365d_rate",
                    "area",
                    365,
                    "float",
                    f"{en_w.capitalize()} per 1,000 residents in the dispute's {en_a}, "
                    f"last 365 days (shrunk toward the county)",
                    f"近365天所在{zh_a}每千人{zh_w}数（向全县收缩）",
                    f"{{value}} {en_w} per 1,000 residents in this {en_a} in the last year",
                    f"近一年本{zh_a}每千人{zh_w}{{value}}起",
                    reason_false_en=f"no {en_w} in this {en_a} in the last year",
                    reason_false_zh=f"近一年本{zh_a}无{zh_w}",
                    absent_at=0.0,
                    reason_missing_en=f"{en_a} rate unknown",
                    reason_missing_zh=f"{zh_a}发生率未知",
                )
            )
    return specs


# Direction: what the field knows drives escalation (/work/shared/domain.md; ODARA, DA,
# DASH, SARA), declared once. A feature not named here may push risk either way (0): its
# effect depends on the case (counts of visits, money at stake, network position, area).
_ALARM_EVENTS = ("mediation_failure", "escalation", "threat", "police_call")
RISING: tuple[str, ...] = (
    # threat, violence and weapon at registration
    "case_threat_reported",
    "case_violence_reported",
    "case_weapon_mentioned",
    # failed interventions, escalations, threats, police calls, and their rise
    *(f"events_{k}_{w}" for k in _ALARM_EVENTS for w in ("ever", "30d")),
    "events_alarm_30d",
    "events_alarm_trend_30d",
    "events_mediation_failure_streak",
    # petitions climbing to higher levels
    "petitions_case_level_max",
    "petitions_case_level_climbed",
    "petitions_party_level_max",
    "petitions_party_level_climbed",
    # special populations under management and their danger level
    "party_flags_active",
    "party_flag_level_max",
    *(f"party_flag_{f}" for f in FLAGS if f not in ("key_youth", "other")),
    # earlier disputes between the same people; earlier incidents of a party or the pair
    "party_pair_disputes_365d",
    "party_pair_disputes_ever",
    *(f"party_incidents_{r}_{w}" for r in ("perpetrator", "victim") for w in ("365d", "ever")),
    "party_pair_incidents_ever",
    "party_self_harm_ever",
    # debt ties owed, separation (former partners, ties ended in the last year)
    "ties_creditor_debtor_sum",
    "ties_between_creditor_debtor",
    "ties_between_former_spouse",
    "ties_ended_365d_sum",
    "ties_between_ended_365d",
    # exposure to recent incidents among close ties
    *(f"ego_incidents_{h}hop_{w}d" for h in (1, 2) for w in EXPOSURE_WINDOWS),
)
"""Features risk may only rise with (direction +1)."""
FALLING: tuple[str, ...] = (
    # the longer since the last threat, escalation, failed mediation, police call or
    # incident, the lower the risk; the further away the nearest recent incident, too
    *(f"events_{k}_days_since" for k in _ALARM_EVENTS),
    "events_alarm_days_since",
    "party_incidents_days_since",
    "ego_incident_hops_180d",
)
"""Features risk may only fall with (direction -1)."""


def _with_directions(specs: list[FeatureSpec]) -> list[FeatureSpec]:
    names = {s.name for s in specs}
    unknown = sorted((set(RISING) | set(FALLING)) - names)
    both = sorted(set(RISING) & set(FALLING))
    if unknown or both:
        raise ValueError(f"directions name unknown {unknown} or conflicting {both} features")
    sign = {**dict.fromkeys(RISING, 1), **dict.fromkeys(FALLING, -1)}
    twins = {s.bounded: s.name for s in specs if s.bounded}  # a bounded count: its ever's
    return [replace(s, direction=sign.get(twins.get(s.name, s.name), 0)) for s in specs]


def _within_5y(text: str, zh: bool) -> str:
    """An "ever" phrase said of the last 5 years instead."""
    if zh:
        for word in ("历史上", "累计", "历史"):
            if word in text:
                return text.replace(word, "近5年", 1)
        return "近5年" + text
    for word in (", ever", " so far", " ever"):
        if word in text:
            return text.replace(
                word, ", in the last 5 years" if word[0] == "," else " in the last 5 years", 1
            )
    return f"{text} in the last 5 years"


def _with_bounded(specs: list[FeatureSpec]) -> list[FeatureSpec]:
    """Every "ever" count followed by its bounded alternative (``_ever`` -> ``_1826d``)."""
    out: list[FeatureSpec] = []
    for s in specs:
        if "_ever" not in s.name:
            out.append(s)
            continue
        name = s.name.replace("_ever", f"_{BOUNDED_DAYS}d")
        out.append(replace(s, bounded=name))
        out.append(
            replace(
                s,
                name=name,
                window=BOUNDED_DAYS,
                description_en=_within_5y(s.description_en, zh=False),
                description_zh=_within_5y(s.description_zh, zh=True),
                reason_en=_within_5y(s.reason_en, zh=False),
                reason_zh=_within_5y(s.reason_zh, zh=True),
            )
        )
    return out


ASSOCIATION_PREFIXES = ("ego_", "graph_")
"""Graph features about the people around the parties (exposure, neighbours, components);
``ties_*`` count the parties' own ties and are not association."""


def _with_association(specs: list[FeatureSpec]) -> list[FeatureSpec]:
    return [
        replace(s, association=s.group == "area" or s.name.startswith(ASSOCIATION_PREFIXES))
        for s in specs
    ]


def all_specs() -> list[FeatureSpec]:
    return _with_association(
        _with_directions(
            _with_bounded(
                [
                    *_case_specs(),
                    *_history_specs(),
                    *_petition_specs(),
                    *_party_specs(),
                    *_graph_specs(),
                    *_area_specs(),
                ]
            )
        )
    )
