"""The one vocabulary: every contract enum value has exactly one zh and one en label."""

from __future__ import annotations

import re

import pytest

from riskwarn import CONTRACT_TABLES, vocab

_LATIN = re.compile(r"[A-Za-z]")


def _enum_columns():
    for table in CONTRACT_TABLES.values():
        for column in table.columns:
            if column.type == "enum":
                yield table.name, column.name, column.enum


@pytest.mark.parametrize(("table", "column", "enum"), list(_enum_columns()))
def test_every_contract_enum_value_has_one_zh_and_one_en_label(table, column, enum):
    name = vocab.contract_vocabulary(table, column)
    assert vocab.values(name) == enum
    zh, en = vocab.labels(name, "zh"), vocab.labels(name, "en")
    assert list(zh) == list(enum) == list(en)
    for value in enum:
        assert zh[value] and not _LATIN.search(zh[value]), (name, value, zh[value])
        assert en[value] and en[value].isascii(), (name, value, en[value])


def test_every_enum_column_of_the_contract_has_a_vocabulary():
    columns = {(t, c) for t, c, _ in _enum_columns()}
    assert columns == set(vocab.CONTRACT_VOCABULARIES)


def test_labels_within_a_vocabulary_are_distinct():
    for name in vocab.vocabularies():
        for lang in vocab.LANGS:
            words = list(vocab.labels(name, lang).values())
            assert len(words) == len(set(words)), (name, lang)


def test_tiers_rank_from_blue_to_red():
    assert vocab.TIER_ORDER == ("blue", "yellow", "orange", "red")
    assert [vocab.tier_rank(t) for t in vocab.TIERS] == [3, 2, 1, 0]
    assert vocab.tier_rank("green") == -1
    assert vocab.higher_tier("yellow", None, "orange") == "orange"
    with pytest.raises(ValueError, match="at least one tier"):
        vocab.higher_tier(None)


def test_roles_are_ranked():
    assert vocab.roles_at_least("supervisor") == ("supervisor", "admin")
    assert vocab.role_rank("scorer") < vocab.role_rank("admin")
    with pytest.raises(ValueError, match="one of"):
        vocab.roles_at_least("root")


def test_an_unknown_value_shows_as_it_came_and_an_unknown_vocabulary_suggests():
    assert vocab.label("category", "space_pirates") == "space_pirates"
    with pytest.raises(KeyError, match="Did you mean 'category'"):
        vocab.label("categry", "debt")
