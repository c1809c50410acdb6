"""The registry: one declaration per feature, its words, its version, and the docs."""

from __future__ import annotations

import importlib
import types
from pathlib import Path

import pandas as pd
import pytest

import riskwarn.features as features
from riskwarn.features import (
    REGISTRY,
    REGISTRY_VERSION,
    FeatureSpec,
    build_features,
    write_feature_docs,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "features.md"


def test_all_is_sorted_and_complete() -> None:
    package = importlib.import_module("riskwarn.features")
    exported = package.__all__
    assert exported == sorted(exported)
    assert len(set(exported)) == len(exported)
    public = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    } - {"annotations"}
    assert public == set(exported)


def test_every_group_is_covered_and_names_are_unique() -> None:
    names = REGISTRY.names()
    assert len(names) == len(set(names)) == len(REGISTRY)
    by_group = {g: REGISTRY.names(groups=g) for g in REGISTRY.groups}
    assert all(by_group.values()), "every group declares features"
    assert sum(len(v) for v in by_group.values()) == len(names)
    without_graph = REGISTRY.names(groups=[g for g in REGISTRY.groups if g != "graph"])
    assert not any(REGISTRY.get(n).group == "graph" for n in without_graph)
    for example in (
        "events_mediation_failure_30d",
        "party_disputes_365d_max",
        "ego_incidents_2hop_90d",
    ):
        assert example in REGISTRY
    with pytest.raises(KeyError, match="unknown feature groups"):
        REGISTRY.names(groups=["graphs"])


def test_specs_are_complete_and_never_touch_ethnicity_or_religion() -> None:
    for spec in REGISTRY:
        assert isinstance(spec, FeatureSpec)
        assert spec.description_en and spec.description_zh and spec.reason_en and spec.reason_zh
        assert spec.dtype in ("bool", "int", "float", "category")
        assert (spec.dtype == "category") == bool(spec.categories)
        if spec.window is not None:
            assert f"{spec.window}d" in spec.name
        for word in ("ethnic", "religio", "民族", "宗教"):
            assert word not in (spec.name + spec.description_en + spec.description_zh)


def test_reasons_read_well_in_both_languages() -> None:
    assert REGISTRY.reason("events_mediation_failure_30d", 3, lang="en") == (
        "3 failed mediations in the last 30 days"
    )
    assert REGISTRY.reason("events_mediation_failure_30d", 3, lang="zh") == "近30天调解失败3次"
    assert REGISTRY.reason("events_mediation_failure_30d", 1, lang="en") == (
        "1 failed mediation in the last 30 days"
    )
    assert REGISTRY.reason("case_weapon_mentioned", True, lang="zh") == "登记时提及凶器"
    assert REGISTRY.reason("case_weapon_mentioned", False, lang="en") == "no weapon mentioned"
    assert REGISTRY.reason("case_category", "marriage_family", lang="zh") == "纠纷类别：婚姻家庭"
    assert REGISTRY.reason("petitions_party_level_max", 3, lang="en") == (
        "petitioned by the parties on any matter up to the city level"
    )
    assert "尚无" in REGISTRY.reason("events_threat_days_since", float("nan"), lang="zh")
    assert REGISTRY.reason("events_threat_days_since", 12.0, lang="en") == (
        "the last recorded threat was 12 days ago"
    )
    for spec in REGISTRY:
        for lang in ("en", "zh"):
            assert "{" not in REGISTRY.reason(spec.name, _example(spec), lang=lang)
    with pytest.raises(ValueError, match="lang"):
        REGISTRY.reason("case_parties", 2, lang="fr")


def _example(spec: FeatureSpec) -> object:
    if spec.dtype == "category":
        return spec.categories[-1]
    return False if spec.dtype == "bool" else 2


def test_unknown_names_suggest_close_ones() -> None:
    with pytest.raises(KeyError, match="Did you mean events_mediation_failure_30d"):
        REGISTRY.get("events_mediation_failures_30d")


def test_version_is_short_and_follows_the_declarations() -> None:
    assert len(REGISTRY_VERSION) == 12
    assert REGISTRY_VERSION in REGISTRY.to_markdown()


def test_docs_are_generated_from_the_registry_and_current(tmp_path: Path) -> None:
    written = write_feature_docs(tmp_path / "features.md")
    assert written.read_text(encoding="utf-8") == REGISTRY.to_markdown()
    assert DOCS.read_text(encoding="utf-8") == REGISTRY.to_markdown(), (
        "docs/features.md is stale: run "
        "python -c 'from riskwarn.features import write_feature_docs; write_feature_docs()'"
    )


def test_columns_follow_the_registry_with_its_dtypes(kit) -> None:
    ds = kit.random_dataset(11)
    t = pd.Timestamp("2024-06-01")
    ids = sorted(ds.disputes.loc[ds.disputes["reported_at"] <= t, "dispute_id"])
    table = build_features(ds, pd.DataFrame({"dispute_id": ids, "as_of": [t] * len(ids)}))
    assert list(table.columns) == ["dispute_id", "as_of", *REGISTRY.names()]
    for spec in REGISTRY:
        col = table[spec.name]
        if spec.dtype == "category":
            assert isinstance(col.dtype, pd.CategoricalDtype)
            assert list(col.cat.categories) == list(spec.categories)
        else:
            expected = {"bool": "bool", "int": "int64", "float": "float64"}[spec.dtype]
            assert str(col.dtype) == expected, spec.name
    assert features.REGISTRY is REGISTRY
