"""Settings: read once from the environment, checked, errors that name the variable."""

from __future__ import annotations

import pytest

from riskwarn.config import Settings
from riskwarn.errors import ConfigError


def test_defaults_and_overrides(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"RISKWARN_HOME": str(tmp_path)}
    default = Settings.from_env(env)
    assert default.request_timeout == 60
    assert default.store_url == f"sqlite:///{tmp_path / 'service.db'}"
    got = Settings.from_env({**env, "RISKWARN_REQUEST_TIMEOUT": "300"})
    assert got.request_timeout == 300
    assert Settings.from_env(got.environ()) == got  # what a worker process is given
    assert not default.trace_requests
    traced = Settings.from_env({**env, "RISKWARN_TRACE_REQUESTS": "1"})
    assert traced.trace_requests and Settings.from_env(traced.environ()) == traced
    assert default.threads == 1  # scoring threads per worker, as BentoML's own default
    threaded = Settings.from_env({**env, "RISKWARN_THREADS": "4"})
    assert threaded.threads == 4 and Settings.from_env(threaded.environ()) == threaded


def test_a_bad_value_names_its_variable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"RISKWARN_HOME": str(tmp_path), "RISKWARN_REQUEST_TIMEOUT": "1"}
    with pytest.raises(ConfigError, match="RISKWARN_REQUEST_TIMEOUT: expected"):
        Settings.from_env(env)


def test_threads_must_be_at_least_one(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"RISKWARN_HOME": str(tmp_path), "RISKWARN_THREADS": "0"}
    with pytest.raises(ConfigError, match="RISKWARN_THREADS: expected"):
        Settings.from_env(env)
