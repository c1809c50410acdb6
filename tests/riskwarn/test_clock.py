"""The one clock: UTC inside, the county's local time for contract times."""

from __future__ import annotations

import datetime as dt

import pytest

from riskwarn.clock import Clock, FixedClock, get_clock, use_clock
from riskwarn.errors import ConfigError


def test_local_time_is_the_county_zone_and_utc_is_stored_naive():
    clock = FixedClock(dt.datetime(2025, 3, 1, 20, 30, 15, 123))
    assert clock.utc_now() == dt.datetime(2025, 3, 1, 20, 30, 15, 123)
    assert clock.local_now() == dt.datetime(2025, 3, 2, 4, 30, 15)  # UTC+8, whole seconds
    assert clock.to_local(dt.datetime(2025, 3, 1, 20, 0)) == dt.datetime(2025, 3, 2, 4, 0)
    assert clock.to_utc(dt.datetime(2025, 3, 2, 4, 0)) == dt.datetime(2025, 3, 1, 20, 0)


def test_the_zone_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("RISKWARN_TIMEZONE", "Asia/Urumqi")
    clock = FixedClock(dt.datetime(2025, 3, 1, 0, 0))
    assert clock.local_now() == dt.datetime(2025, 3, 1, 6, 0)
    monkeypatch.setenv("RISKWARN_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ConfigError, match="IANA time zone"):
        Clock()


def test_use_clock_swaps_the_clock_everyone_reads_and_restores_it():
    fixed = FixedClock(dt.datetime(2030, 1, 1))
    with use_clock(fixed):
        assert get_clock() is fixed
        fixed.advance(hours=25)
        assert get_clock().utc_now() == dt.datetime(2030, 1, 2, 1)
    assert not isinstance(get_clock(), FixedClock)
    assert abs(get_clock().utc_now() - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < dt.timedelta(
        seconds=5
    )
