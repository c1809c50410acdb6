"""riskwarn's one clock: UTC inside, the county's local time only where the contract or a
person needs it.

- Times riskwarn writes about its own work (audit entries, when a score or an action was
  recorded, key creation, warning deadlines) are UTC, stored without a zone.
- Times in the data contract (``reported_at``, ``at``, ``as_of``...) are the county's local
  time without a zone (docs/contract.md). So "score as of now" is :meth:`Clock.local_now`,
  and a page shows a UTC record time through :meth:`Clock.to_local`.
- The county's time zone is ``RISKWARN_TIMEZONE`` (an IANA name, default
  ``Asia/Shanghai``).

Code asks :func:`get_clock` for the time instead of calling ``datetime.now``; tests swap
in a :class:`FixedClock` with :func:`use_clock` to control it (deadlines, escalations).

    >>> clock = FixedClock(dt.datetime(2025, 3, 1, 1, 30))       # 01:30 UTC
    >>> clock.local_now()                                       # Beijing is UTC+8
    datetime.datetime(2025, 3, 1, 9, 30)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from riskwarn.errors import ConfigError

DEFAULT_TIMEZONE = "Asia/Shanghai"


def county_timezone(name: str | None = None) -> ZoneInfo:
    """The county's time zone: ``name``, else ``RISKWARN_TIMEZONE``, else Asia/Shanghai."""
    name = name or os.environ.get("RISKWARN_TIMEZONE") or DEFAULT_TIMEZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"expected an IANA time zone such as 'Asia/Shanghai' in RISKWARN_TIMEZONE, got "
            f"{name!r}; fix the variable"
        ) from exc


class Clock:
    """The system clock, read in UTC, with the county's time zone for contract times."""

    def __init__(self, timezone: str | None = None) -> None:
        self.timezone = county_timezone(timezone)

    def _utc(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def utc_now(self) -> dt.datetime:
        """Now in UTC, without a zone and to the microsecond (what the store records)."""
        return self._utc().replace(tzinfo=None)

    def local_now(self) -> dt.datetime:
        """Now in the county's local time, without a zone and to the second (an ``as_of``)."""
        return self._utc().astimezone(self.timezone).replace(tzinfo=None, microsecond=0)

    def to_local(self, utc: dt.datetime) -> dt.datetime:
        """A UTC time riskwarn recorded (naive or aware) in the county's local time, naive."""
        aware = utc if utc.tzinfo else utc.replace(tzinfo=dt.UTC)
        return aware.astimezone(self.timezone).replace(tzinfo=None)

    def to_utc(self, local: dt.datetime) -> dt.datetime:
        """A contract (local) time as naive UTC."""
        aware = local if local.tzinfo else local.replace(tzinfo=self.timezone)
        return aware.astimezone(dt.UTC).replace(tzinfo=None)


class FixedClock(Clock):
    """A clock that says what it is told, for tests: ``at`` is UTC (naive means UTC)."""

    def __init__(self, at: dt.datetime, timezone: str | None = None) -> None:
        super().__init__(timezone)
        self.at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)

    def _utc(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        """Move the clock forward, e.g. ``advance(hours=25)``."""
        self.at += dt.timedelta(**delta)


_CURRENT: list[Clock] = []


def get_clock() -> Clock:
    """The clock in use: the system clock unless a test chose another with :func:`use_clock`."""
    return _CURRENT[-1] if _CURRENT else Clock()


@contextlib.contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    """Make ``clock`` the clock everything reads inside the ``with`` block."""
    _CURRENT.append(clock)
    try:
        yield clock
    finally:
        _CURRENT.remove(clock)


_BARE_DATE = re.compile(r"^(\d{4}[-/]\d{1,2}[-/]\d{1,2}|\d{8})$")
END_OF_DAY = pd.Timedelta(hours=23, minutes=59, seconds=59)


def parse_date(value: object, option: str) -> pd.Timestamp:
    """A date option (``--train-until``, ``--as-of``) as a timestamp, or a clear error.

    A bare date (``"2024-06-30"`` or a ``datetime.date``) means the end of that day,
    23:59:59, so that "data dated on or before DATE" includes rows dated during DATE
    (the contract's times are to the second). A timestamp (``"2024-06-30T08:00:00"``,
    ``pd.Timestamp``, ``datetime``) is taken as the exact moment.

    >>> parse_date("2024-06-30", "--as-of")
    Timestamp('2024-06-30 23:59:59')
    >>> parse_date(pd.Timestamp("2024-06-30"), "--as-of")
    Timestamp('2024-06-30 00:00:00')
    """
    bare = (isinstance(value, dt.date) and not isinstance(value, dt.datetime)) or (
        isinstance(value, str) and _BARE_DATE.match(value.strip()) is not None
    )
    try:
        stamp = pd.Timestamp(value.strip() if isinstance(value, str) else value)  # type: ignore[arg-type]
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"expected {option} as a date like 2024-06-30, got {value!r}; fix the option."
        ) from exc
    if pd.isna(stamp):
        raise ConfigError(f"expected {option} as a date like 2024-06-30, got {value!r}.")
    return stamp + END_OF_DAY if bare else stamp
