"""The routing policy: the shipped four-colour defaults, an admin's file, and refusals."""

from __future__ import annotations

import datetime as dt

import pytest

from riskwarn.errors import ConfigError
from riskwarn.loop import load_policy
from riskwarn.vocab import TIERS, values

POLICY = """
version = "test-1"
[tiers.red]
level = "county"
channels = ["police", "people_mediation"]
acknowledge_hours = 2
first_action_hours = 12
revisit_hours = 72
unowned_within_hours = 24
[tiers.orange]
level = "township"
channels = ["people_mediation"]
acknowledge_hours = 24
first_action_hours = 48
revisit_hours = 168
[tiers.yellow]
level = "township"
channels = ["legal_aid"]
acknowledge_hours = 72
first_action_hours = 168
revisit_hours = 720
[tiers.blue]
level = "grid"
channels = ["people_mediation"]
acknowledge_hours = 168
first_action_hours = 336
revisit_hours = 720
"""


def test_the_shipped_policy_routes_every_tier_by_the_four_colours():
    policy = load_policy()
    assert set(policy.tiers) == set(TIERS)
    assert [policy.route(t).level for t in TIERS] == ["county", "county", "township", "grid"]
    red, blue = policy.route("red"), policy.route("blue")
    assert red.within("acknowledge") < policy.route("orange").within("acknowledge")
    assert red.unowned_within_hours == 24 and blue.unowned_within_hours is None
    assert set(red.channels) == set(values("intervention_channel"))
    assert policy.version


def test_an_admin_file_overrides_the_defaults(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(POLICY, encoding="utf-8")
    policy = load_policy(path)
    assert policy.version == "test-1"
    assert policy.route("orange").level == "township"
    assert policy.route("red").within("first_action") == dt.timedelta(hours=12)
    assert policy.route("red").channels == ("police", "people_mediation")


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("[tiers.blue]", "[tiers.purple]", "unknown tier 'purple'"),
        ('level = "grid"', 'level = "village"', "unknown level 'village'"),
        ('channels = ["legal_aid"]', 'channels = ["legal_advice"]', "'legal_advice'"),
        ("revisit_hours = 72", "revisit_hours = 72\nrevisit_days = 3", "revisit_days"),
        ("acknowledge_hours = 2", "acknowledge_hours = -2", "tiers.red.acknowledge_hours"),
    ],
)
def test_a_policy_naming_something_unknown_is_refused_in_one_line(tmp_path, old, new, named):
    path = tmp_path / "policy.toml"
    path.write_text(POLICY.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_policy(path)
    message = str(caught.value)
    assert named in message and "\n" not in message and str(path) in message


def test_unknown_channel_suggests_the_close_one(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(POLICY.replace('["legal_aid"]', '["legal_aide"]'), encoding="utf-8")
    with pytest.raises(ConfigError, match="Did you mean 'legal_aid'"):
        load_policy(path)


def test_a_policy_without_a_tier_or_file_is_refused(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(POLICY.split("[tiers.blue]")[0], encoding="utf-8")
    with pytest.raises(ConfigError, match=r"no route for tier blue"):
        load_policy(path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_policy(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text("version = ", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_policy(tmp_path / "bad.toml")
