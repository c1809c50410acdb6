"""Mechanism strengths: one strict typed configuration, read from TOML, changing the world."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel

import riskwarn
from riskwarn import Mechanisms, load_mechanisms, simulate
from riskwarn.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
OTHER = ROOT / "experiments" / "sim" / "other_mechanisms.toml"


def test_defaults_are_the_documented_world_and_every_field_is_documented():
    m = Mechanisms()
    assert m.hazard.base == -9.85
    assert m.hazard.threat_at_registration == 0.9
    assert m.hazard.category.marriage_family == 0.5
    assert m.disputes.per_100_persons_per_year == 4.0
    assert sum(m.disputes.category_share.values()) == pytest.approx(1.0)
    assert m.recording.last_year.hotline_factor == 2.0

    def walk(model):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
            sub = field.annotation
            if isinstance(sub, type) and issubclass(sub, BaseModel):
                walk(sub)

    walk(Mechanisms)


def test_overrides_merge_table_by_table():
    m = Mechanisms.with_overrides({"hazard": {"exposure": 0.8, "category": {"debt": 0.4}}})
    assert m.hazard.exposure == 0.8
    assert m.hazard.category.debt == 0.4
    assert m.hazard.category.neighbor == 0.2  # untouched
    assert m.hazard.threat_at_registration == 0.9


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"hazard": {"threat_at_registation": 0.1}}, "did you mean 'threat_at_registration'"),
        ({"hazrd": {}}, "did you mean 'hazard'"),
        ({"disputes": {"category_share": {"dbt": 0.1}}}, "did you mean 'debt'"),
        ({"drift": {"concept": {"hazard": {"exposur": 1.0}}}}, "did you mean 'exposure'"),
        ({"disputes": {"category_share": {"debt": 0.5}}}, "sum to 1"),
        ({"recording": {"threat_at_registration": 1.5}}, "recording.threat_at_registration"),
    ],
)
def test_a_mistake_is_refused_with_the_key_and_a_suggestion(overrides, expected):
    with pytest.raises(ConfigError, match="(?i)" + expected.replace("(", r"\(")):
        Mechanisms.with_overrides(overrides)


def test_unknown_key_in_a_toml_file_is_refused_by_the_cli_with_did_you_mean(tmp_path, cli):
    bad = tmp_path / "bad.toml"
    bad.write_text("[hazard]\nexposre = 0.9\n", encoding="utf-8")
    out = tmp_path / "county"
    result = cli("simulate", str(out), "--persons", "500", "--years", "1", "--mechanisms", str(bad))
    assert result.returncode != 0
    assert "hazard.exposre" in result.stderr and "Did you mean 'exposure'?" in result.stderr
    assert not out.exists()  # refused before any work
    with pytest.raises(ConfigError, match="not valid TOML"):
        (tmp_path / "broken.toml").write_text("[hazard\n", encoding="utf-8")
        load_mechanisms(tmp_path / "broken.toml")
    with pytest.raises(ConfigError, match="does not exist"):
        load_mechanisms(tmp_path / "missing.toml")


def test_the_shipped_other_world_loads_and_differs_from_the_default():
    other = load_mechanisms(OTHER)
    assert other != Mechanisms()
    assert other.hazard.threat_at_registration < Mechanisms().hazard.threat_at_registration
    assert other.hazard.exposure > Mechanisms().hazard.exposure
    assert other.disputes.category_share.debt > Mechanisms().disputes.category_share.debt


def test_mechanisms_change_the_data_through_the_python_api():
    base = simulate(persons=8000, years=2, seed=3)
    fewer = simulate(
        persons=8000,
        years=2,
        seed=3,
        mechanisms=Mechanisms.with_overrides({"disputes": {"per_100_persons_per_year": 2.0}}),
    )
    assert 0.4 < len(fewer.disputes) / len(base.disputes) < 0.6
    riskier = simulate(
        persons=8000,
        years=2,
        seed=3,
        mechanisms=Mechanisms.with_overrides({"hazard": {"base": -8.6}}),
    )
    assert len(riskier.incidents) > 1.5 * len(base.incidents)
    # the defaults given explicitly are the default world
    assert simulate(persons=2000, years=1, seed=5, mechanisms=Mechanisms()).digest() == (
        simulate(persons=2000, years=1, seed=5).digest()
    )


def test_the_other_world_through_the_cli_is_valid_and_records_its_strengths(tmp_path, cli):
    out = tmp_path / "other"
    result = cli(
        "simulate", str(out), "--persons", "3000", "--years", "1", "--mechanisms", str(OTHER)
    )
    assert result.returncode == 0, result.stderr
    assert riskwarn.validate_dataset(out).ok
    scenario = json.loads((out / "_truth" / "scenario.json").read_text(encoding="utf-8"))
    assert scenario["mechanisms"]["hazard"]["threat_at_registration"] == 0.4
    assert scenario["mechanisms"]["disputes"]["category_share"]["debt"] == 0.2
    assert riskwarn.load_dataset(out).digest() != simulate(persons=3000, years=1).digest()


def test_the_docs_name_every_hazard_term():
    text = (ROOT / "docs" / "simulator.md").read_text(encoding="utf-8")
    for section in ("hazard", "disputes", "course", "recording", "drift"):
        assert f"[{section}" in text, section
    for name in riskwarn.Mechanisms.model_fields["hazard"].annotation.model_fields:
        assert name in text, f"docs/simulator.md does not name hazard.{name}"
