"""Reasons a supervisor reads aloud: every feature's reason, for typical values, in units a
person uses, Chinese without Latin words or half-width punctuation, and absences never
offered as a reason for higher risk."""

from __future__ import annotations

import math
import re

import pytest

from riskwarn.features import REGISTRY, FeatureSpec

LATIN = re.compile(r"[A-Za-z]")
HALF_WIDTH = re.compile(r"[,:;()!?\[\]]")
NUMBER_DOT = re.compile(r"\d\.\d")


def typical(spec: FeatureSpec) -> list[object]:
    """Values a case really has: the demo's own troublesome ones among them."""
    if spec.dtype == "bool":
        return [True, False, None]
    if spec.dtype == "category":
        return list(spec.categories)
    if spec.labels_en:
        return [*range(len(spec.labels_en)), len(spec.labels_en)]
    if spec.dtype == "int":
        return [0, 1, 3, 19, -2]
    return [0.0, 0.02, 0.39, 0.75, 1, 2.5, 10.6, 45.0, 400.0, float("nan")]


CASES = [(s.name, v) for s in REGISTRY for v in typical(s)]


@pytest.mark.parametrize(("name", "value"), CASES)
def test_chinese_reasons_have_no_latin_no_log_and_full_width_punctuation(name, value) -> None:
    zh = REGISTRY.reason(name, value, "zh")
    assert zh and "{" not in zh
    assert not LATIN.search(zh), f"{name}={value}: Latin letters in {zh!r}"
    assert "对数" not in zh and "log" not in zh.lower()
    assert not HALF_WIDTH.search(zh), f"{name}={value}: half-width punctuation in {zh!r}"
    assert "." not in NUMBER_DOT.sub("", zh), f"{name}={value}: a stray full stop in {zh!r}"
    en = REGISTRY.reason(name, value, "en")
    assert en and "{" not in en and "log(" not in en
    assert not re.search(r"\d other parts?\b", en), en  # "3 other parts"


@pytest.mark.parametrize(("name", "value"), CASES)
def test_a_zero_count_or_absent_flag_reads_as_an_absence(name, value) -> None:
    if not REGISTRY.absent(name, value):
        return
    zh = REGISTRY.reason(name, value, "zh")
    assert not re.search(r"(?<![\d.])0(次|起|人|个|段|条)", zh), zh
    assert not re.search(r"(?<![\d.])0 \w", REGISTRY.reason(name, value, "en"))


def test_values_are_said_in_the_units_people_use() -> None:
    r = REGISTRY.reason
    assert r("events_threat_days_since", 0.75) == "18小时前有威胁"
    assert r("events_threat_days_since", 12.4) == "12天前有威胁"
    assert (
        r("events_threat_days_since", 400.0, "en")
        == "the last recorded threat was about 13 months ago"
    )
    assert r("case_age_days", 0.39) == "立案已9小时"
    assert r("case_amount_log", math.log1p(16_000)) == "涉及金额约1.6万元"
    assert r("case_amount_log", math.log1p(16_000), "en") == "money at stake: about CNY 16,000"
    assert r("party_male_share", 1.0) == "当事人均为男性"
    assert r("graph_co_core_max", 5) == "有当事人在共涉纠纷网中处于关系密集的人群中"
    assert r("graph_pagerank_max", 2.5) == "有当事人在关系网中联系较广"
    assert r("ego_incident_hops_180d", 1) == "当事人的直接关系人近180天涉及极端事件"
    assert r("ego_incidents_2hop_30d", 2) == "近30天当事人的二度关系人涉及极端事件2起"
    assert r("party_flag_level_max", 3.0) == "有在管当事人危险等级3（最高5级）"
    assert r("events_trend_30d", -2) == "近30天事件较前30天减少2起"
    assert r("case_other_parties", 3, "en") == "3 other parties"
    assert r("events_referral_ever", 0) == "尚无移交记录"


def test_absences_are_known_to_the_registry() -> None:
    assert REGISTRY.absent("events_referral_ever", 0)
    assert REGISTRY.absent("party_flag_drug_user", False)
    assert REGISTRY.absent("events_threat_days_since", float("nan"))
    assert REGISTRY.absent("ego_incident_hops_180d", 4)
    assert not REGISTRY.absent("ego_incident_hops_180d", 0)
    assert not REGISTRY.absent("events_threat_days_since", 0.0)  # a threat today
    assert not REGISTRY.absent("party_male_share", 0.0)  # all women is a fact, not nothing
    assert not REGISTRY.absent("case_category", "debt")
