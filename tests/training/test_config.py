from __future__ import annotations

from pathlib import Path

import pytest

from riskwarn.errors import ConfigError
from riskwarn.training import TrainConfig, load_config, parse_config

EXPERIMENTS = sorted((Path(__file__).parents[2] / "experiments").glob("*.toml"))


def test_the_shipped_experiments_parse() -> None:
    names = {load_config(p).name for p in EXPERIMENTS}
    assert {"baseline", "full", "no_graph", "search"} <= names
    search = load_config(next(p for p in EXPERIMENTS if p.stem == "search"))
    assert search.search is not None and search.search.grid


def test_no_file_means_the_documented_defaults() -> None:
    cfg = load_config(None)
    assert cfg == TrainConfig()
    assert cfg.tiers.mode == "capacity" and cfg.calibration == "auto" and cfg.imbalance == "none"
    assert cfg.lgbm.seed == 7 and cfg.horizon_days == 90


def test_a_typo_is_an_error_that_suggests_the_key(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text("[lgbm]\nlearning_rat = 0.1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="Did you mean 'learning_rate'"):
        load_config(path)
    with pytest.raises(ConfigError, match="Did you mean 'calibration'"):
        parse_config({"calibrate": "isotonic"})


def test_search_grid_names_must_be_lightgbm_fields() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'num_leaves'"):
        parse_config({"search": {"grid": {"num_leaf": [3, 7]}}})


def test_windows_must_leave_room_for_training() -> None:
    with pytest.raises(ConfigError, match="at least 20% for training"):
        parse_config({"validation_share": 0.5, "test_share": 0.4})


def test_missing_and_broken_files_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_tier_floors_name_known_facts_and_tiers() -> None:
    cfg = parse_config({"tiers": {"floors": {"pair_homicide": "orange"}}})
    assert cfg.tiers.floors == {"pair_homicide": "orange"}
    with pytest.raises(
        ConfigError, match=r"unknown key fact 'pair_homicde'\. Did you mean 'pair_homicide'"
    ):
        parse_config({"tiers": {"floors": {"pair_homicde": "orange"}}})
    with pytest.raises(ConfigError, match=r"got 'ornge'\. Did you mean 'orange'"):
        parse_config({"tiers": {"floors": {"pair_homicide": "ornge"}}})
    full = load_config(Path(__file__).parents[2] / "experiments" / "full.toml")
    assert full.tiers.floors["pair_homicide"] == "orange" and full.model == "best"
