"""riskwarn's one vocabulary: tiers, roles and every enum of the data contract, in Chinese
and English.

Everything that names a tier, ranks a role or shows an enum value to a person reads it
from here: the feature registry's reasons, the model card, the service's schemas and the
workbench. Each vocabulary lists its values in a fixed order and gives each value exactly
one Chinese and one English label (``tests/riskwarn/test_vocab.py`` checks that every
contract enum is covered, value for value).

    >>> label("tier", "red")
    '红色'
    >>> label("category", "debt", "en")
    'Debt'
    >>> higher_tier("orange", "red")
    'red'
"""

from __future__ import annotations

from riskwarn._contract import (
    CATEGORIES,
    CHANNELS,
    EVENT_KINDS,
    FLAGS,
    GENDERS,
    INCIDENT_KINDS,
    INCIDENT_ROLES,
    INTERVENTION_CHANNELS,
    INTERVENTION_KINDS,
    PARTY_ROLES,
    PETITION_LEVELS,
    SOURCES,
    TIE_KINDS,
)

LANGS = ("zh", "en")

TIERS = ("red", "orange", "yellow", "blue")
"""The four colour tiers (四色预警), most urgent first."""
TIER_ORDER = tuple(reversed(TIERS))
"""The tiers from least to most caution: a tier's rank is its position here."""

ROLES = ("scorer", "supervisor", "admin")
"""Key roles, ranked: each may do what the roles before it may."""

OWNER_LEVELS = ("grid", "township", "county")
"""Who owns a warning (issue 14), lowest first: an escalation moves one step right."""
WARNING_STATES = ("issued", "acknowledged", "assigned", "in_hand", "resolved", "closed")
"""A warning's states in the order the loop walks them (预警 → 推送 → 处置 → 回访 → 结案)."""
ACTION_RESULTS = (
    "agreement",
    "partial",
    "no_agreement",
    "not_reached",
    "referred",
    "measure_in_place",
    "follow_up",
)
"""The short structured result of an action on a warning."""

# name: {value: (zh, en)}. Contract enums first, in the contract's order of values.
_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "gender": {"male": ("男", "Male"), "female": ("女", "Female"), "unknown": ("未知", "Unknown")},
    "flag": {
        "severe_mental_disorder": ("严重精神障碍患者", "Severe mental disorder"),
        "community_correction": ("社区矫正对象", "Community correction"),
        "released_prisoner": ("刑满释放人员", "Released from prison"),
        "drug_user": ("吸毒人员", "Drug user"),
        "key_youth": ("重点青少年", "Key youth"),
        "other": ("其他重点人群", "Other special population"),
    },
    "tie_kind": {
        "spouse": ("配偶", "Spouse"),
        "former_spouse": ("前配偶", "Former spouse"),
        "partner": ("伴侣", "Partner"),
        "parent_child": ("父母子女", "Parent or child"),
        "sibling": ("兄弟姐妹", "Sibling"),
        "relative": ("亲属", "Relative"),
        "neighbor": ("邻居", "Neighbour"),
        "colleague": ("同事", "Colleague"),
        "creditor_debtor": ("债权债务", "Creditor and debtor"),
        "landlord_tenant": ("房屋租赁", "Landlord and tenant"),
        "other": ("其他关系", "Other tie"),
    },
    "category": {
        "marriage_family": ("婚姻家庭", "Marriage and family"),
        "neighbor": ("邻里", "Neighbours"),
        "debt": ("债务", "Debt"),
        "land_property": ("土地房产", "Land and property"),
        "labor_wage": ("劳资", "Labour and wages"),
        "medical": ("医疗", "Medical"),
        "property_management": ("物业", "Property management"),
        "contract": ("合同", "Contract"),
        "other": ("其他", "Other"),
    },
    "source": {
        "grid_visit": ("网格走访", "Grid visit"),
        "hotline": ("热线", "Hotline"),
        "police_call": ("报警", "Police call"),
        "petition": ("信访", "Petition"),
        "mediation_center": ("调解中心", "Mediation centre"),
        "walk_in": ("群众来访", "Walk-in"),
        "other": ("其他", "Other"),
    },
    "party_role": {
        "claimant": ("申请人", "Claimant"),
        "respondent": ("被申请人", "Respondent"),
        "other": ("其他当事人", "Other party"),
    },
    "event_kind": {
        "visit": ("走访", "Visit"),
        "mediation_attempt": ("调解", "Mediation attempt"),
        "mediation_success": ("调解成功", "Mediation succeeded"),
        "mediation_failure": ("调解失败", "Mediation failed"),
        "escalation": ("矛盾升级", "Escalation"),
        "threat": ("威胁", "Threat"),
        "police_call": ("报警", "Police call"),
        "referral": ("移交", "Referral"),
        "closed": ("结案", "Closed"),
        "reopened": ("重新受理", "Reopened"),
    },
    "petition_channel": {
        "visit": ("走访", "In person"),
        "letter": ("来信", "Letter"),
        "online": ("网上信访", "Online"),
        "hotline": ("热线", "Hotline"),
    },
    "petition_level": {
        "township": ("乡镇", "Township"),
        "county": ("县", "County"),
        "city": ("市", "City"),
        "province": ("省", "Province"),
        "national": ("国家", "National"),
    },
    "incident_kind": {
        "homicide": ("命案", "Homicide"),
        "attempted_homicide": ("杀人未遂", "Attempted homicide"),
        "serious_injury": ("致人重伤", "Serious injury"),
        "self_harm": ("自伤自残", "Self-harm"),
        "arson": ("纵火", "Arson"),
        "other_extreme": ("其他极端事件", "Other extreme incident"),
    },
    "incident_role": {
        "perpetrator": ("行为人", "Perpetrator"),
        "victim": ("受害人", "Victim"),
        "other": ("其他涉事人", "Other person involved"),
    },
    "intervention_kind": {
        "visit": ("走访", "Visit"),
        "mediation_session": ("调解会", "Mediation session"),
        "referral": ("转介", "Referral"),
        "protective_measure": ("稳控措施", "Protective measure"),
        "other": ("其他处置", "Other action"),
    },
    "intervention_channel": {
        "people_mediation": ("人民调解", "People's mediation"),
        "administrative_mediation": ("行政调解", "Administrative mediation"),
        "court_mediation": ("司法调解", "Court-linked mediation"),
        "arbitration": ("仲裁", "Arbitration"),
        "police": ("公安", "Police"),
        "mental_health_social": ("心理健康与社会服务", "Mental health and social services"),
        "legal_aid": ("法律援助", "Legal aid"),
    },
    # riskwarn's own vocabularies
    "tier": {
        "red": ("红色", "Red"),
        "orange": ("橙色", "Orange"),
        "yellow": ("黄色", "Yellow"),
        "blue": ("蓝色", "Blue"),
    },
    "tier_meaning": {
        "red": (
            "复杂或可能转为刑事案件：领导包案，一案一策",
            "Complex or likely criminal: a senior lead, one plan per case",
        ),
        "orange": ("可能激化：专班专业力量化解", "Likely to escalate: a specialist team"),
        "yellow": ("一般纠纷：属地化解", "Ordinary dispute: handled locally"),
        "blue": (
            "风险隐患：网格员跟进回访，闭环管理",
            "Hidden risk: grid workers follow up and revisit",
        ),
    },
    "owner_level": {
        "grid": ("网格", "Grid"),
        "township": ("乡镇（街道）", "Township"),
        "county": ("县级", "County"),
    },
    "warning_state": {
        "issued": ("已预警", "Issued"),
        "acknowledged": ("已签收", "Acknowledged"),
        "assigned": ("已指派", "Assigned"),
        "in_hand": ("处置中", "In hand"),
        "resolved": ("已化解", "Resolved"),
        "closed": ("已结案", "Closed"),
    },
    "action_result": {
        "agreement": ("达成协议", "Agreement reached"),
        "partial": ("部分化解", "Partly resolved"),
        "no_agreement": ("未达成协议", "No agreement"),
        "not_reached": ("未见到当事人", "Parties not reached"),
        "referred": ("已转介", "Referred on"),
        "measure_in_place": ("措施已落实", "Measure in place"),
        "follow_up": ("继续跟进", "Follow-up needed"),
    },
    "role": {
        "scorer": ("评分接口", "Scorer"),
        "supervisor": ("督导", "Supervisor"),
        "admin": ("管理员", "Admin"),
    },
}

CONTRACT_VOCABULARIES: dict[tuple[str, str], str] = {
    ("persons", "gender"): "gender",
    ("person_flags", "flag"): "flag",
    ("relationships", "kind"): "tie_kind",
    ("disputes", "category"): "category",
    ("disputes", "source"): "source",
    ("dispute_parties", "role"): "party_role",
    ("dispute_events", "kind"): "event_kind",
    ("petitions", "channel"): "petition_channel",
    ("petitions", "level"): "petition_level",
    ("incidents", "kind"): "incident_kind",
    ("incident_persons", "role"): "incident_role",
    ("interventions", "kind"): "intervention_kind",
    ("interventions", "channel"): "intervention_channel",
    ("interventions", "warning_tier"): "tier",
}
"""Which vocabulary labels each enum column of the data contract."""

_VALUES: dict[str, tuple[str, ...]] = {
    "gender": GENDERS,
    "flag": FLAGS,
    "tie_kind": TIE_KINDS,
    "category": CATEGORIES,
    "source": SOURCES,
    "party_role": PARTY_ROLES,
    "event_kind": EVENT_KINDS,
    "petition_channel": CHANNELS,
    "petition_level": PETITION_LEVELS,
    "incident_kind": INCIDENT_KINDS,
    "incident_role": INCIDENT_ROLES,
    "intervention_kind": INTERVENTION_KINDS,
    "intervention_channel": INTERVENTION_CHANNELS,
    "tier": TIERS,
    "tier_meaning": TIERS,
    "owner_level": OWNER_LEVELS,
    "warning_state": WARNING_STATES,
    "action_result": ACTION_RESULTS,
    "role": ROLES,
}


def vocabularies() -> tuple[str, ...]:
    """The names of every vocabulary, e.g. ``"category"`` or ``"tier"``."""
    return tuple(_LABELS)


def values(vocabulary: str) -> tuple[str, ...]:
    """The values of ``vocabulary`` in their fixed order."""
    _check(vocabulary)
    return _VALUES.get(vocabulary, tuple(_LABELS[vocabulary]))


def labels(vocabulary: str, lang: str = "zh") -> dict[str, str]:
    """``{value: label}`` of ``vocabulary`` in ``lang``, in the vocabulary's order."""
    _check(vocabulary, lang)
    i = LANGS.index(lang)
    return {v: _LABELS[vocabulary][v][i] for v in values(vocabulary)}


def label(vocabulary: str, value: object, lang: str = "zh") -> str:
    """How a person reads ``value`` of ``vocabulary`` in ``lang``; an unknown value is shown
    as it came (never an error in a page)."""
    _check(vocabulary, lang)
    words = _LABELS[vocabulary].get(str(value))
    return str(value) if words is None else words[LANGS.index(lang)]


def contract_vocabulary(table: str, column: str) -> str:
    """The vocabulary of a contract enum column, e.g. ``("disputes", "category")``."""
    try:
        return CONTRACT_VOCABULARIES[(table, column)]
    except KeyError:
        known = ", ".join(f"{t}.{c}" for t, c in CONTRACT_VOCABULARIES)
        raise KeyError(f"no vocabulary for {table}.{column}; enum columns: {known}") from None


def tier_rank(tier: object) -> int:
    """0 (blue) to 3 (red); -1 for anything that is not a tier."""
    return TIER_ORDER.index(tier) if tier in TIER_ORDER else -1  # type: ignore[arg-type]


def higher_tier(*tiers: str | None) -> str:
    """The most cautious of ``tiers`` (None and unknown values count as nothing)."""
    known = [t for t in tiers if tier_rank(t) >= 0]
    if not known:
        raise ValueError(f"expected at least one tier of {TIERS}, got {tiers!r}")
    return max(known, key=tier_rank)  # type: ignore[arg-type]


def role_rank(role: object) -> int:
    """0 (scorer) to 2 (admin); -1 for anything that is not a role."""
    return ROLES.index(role) if role in ROLES else -1  # type: ignore[arg-type]


def roles_at_least(role: str) -> tuple[str, ...]:
    """``role`` and every role ranked above it."""
    if role not in ROLES:
        raise ValueError(f"expected a role, one of {ROLES}, got {role!r}")
    return ROLES[ROLES.index(role) :]


def _check(vocabulary: str, lang: str = "zh") -> None:
    if vocabulary not in _LABELS:
        import difflib

        close = difflib.get_close_matches(vocabulary, list(_LABELS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"no vocabulary called {vocabulary!r}.{hint}")
    if lang not in LANGS:
        raise ValueError(f"expected lang 'zh' or 'en', got {lang!r}")
