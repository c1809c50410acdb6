"""Retention: how long each kind of record may be used, and which rows have expired when.

A :class:`RetentionPolicy` says, per contract table and kind, how many years a row is kept
after the moment its clock starts (docs/rights.md gives the defaults and why). It is one
typed object, read from TOML (:func:`load_retention`; the shipped defaults are
``riskwarn/retention.toml``), and every consumer reads the same one: the feature library
(``riskwarn features|train|score --retention``) and the service's record expiry.

:func:`expiry` is pure: from a :class:`Dataset` and a policy it gives every row's expiry
moment (``NaT``: never), and :meth:`Expiry.rows` lists the rows expired at a moment with
the date each expired from. Where the clocks start:

- ``disputes``: the closure, i.e. a ``closed`` event not followed by a ``reopened`` one
  before the term runs out (an open dispute never expires). Its parties, events and
  interventions expire with it.
- ``person_flags``: the day after ``end_date`` (the first day the person is no longer under
  management); a flag without an end never expires.
- ``relationships``: ``until`` (the day the tie ended); a tie that holds never expires.
- ``petitions``: ``filed_at``. ``incidents``: ``occurred_at``; its people go with it.

A term in whole years is calendar years (5 years after 2020-03-01 is 2025-03-01); a
fractional one is ``years x 365.25`` days.

    >>> policy = load_retention()                                # doctest: +SKIP
    >>> gone = expiry(dataset, policy).rows("2030-01-01")        # doctest: +SKIP
    >>> gone["disputes"][["dispute_id", "expires_at"]]           # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import hashlib
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from riskwarn._contract import CATEGORIES, FLAGS, INCIDENT_KINDS, PETITION_LEVELS, TIE_KINDS
from riskwarn._dataset import Dataset
from riskwarn.errors import ConfigError

_STRICT = ConfigDict(extra="forbid", frozen=True)

KIND_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "disputes": ("category", CATEGORIES),
    "person_flags": ("flag", FLAGS),
    "relationships": ("kind", TIE_KINDS),
    "petitions": ("level", PETITION_LEVELS),
    "incidents": ("kind", INCIDENT_KINDS),
}
"""The tables a policy names, and the column (with its values) a rule's kinds refer to."""

DEPENDENTS: dict[str, tuple[str, str]] = {
    "dispute_parties": ("disputes", "dispute_id"),
    "dispute_events": ("disputes", "dispute_id"),
    "interventions": ("disputes", "dispute_id"),
    "incident_persons": ("incidents", "incident_id"),
}
"""Tables whose rows expire with the row they belong to: (owner table, key column)."""

DEFAULT_FILE = "retention.toml"


class TableRetention(BaseModel):
    """How long one table's rows are kept after their clock starts (see the module)."""

    model_config = _STRICT

    years: float | None = Field(
        None, ge=0, description="Years every row is kept; None keeps them for good."
    )
    kinds: dict[str, float | None] = Field(
        default_factory=dict,
        description="Kind (category, flag, tie kind, petition level or incident kind) -> "
        "years, overriding `years` for rows of that kind; None keeps them for good.",
    )

    def term(self, kind: str) -> float | None:
        return self.kinds.get(kind, self.years)


class RetentionPolicy(BaseModel):
    """A retention term per contract table and kind; the defaults are riskwarn's policy
    (``riskwarn/retention.toml``, justified in docs/rights.md)."""

    model_config = _STRICT

    disputes: TableRetention = Field(
        default_factory=lambda: TableRetention(years=5),
        description="Closed disputes (with their parties, events, interventions), from closure.",
    )
    person_flags: TableRetention = Field(
        default_factory=lambda: TableRetention(years=3),
        description="Special-population records, from the day after their end_date.",
    )
    relationships: TableRetention = Field(
        default_factory=lambda: TableRetention(years=5),
        description="Ties that ended, from their until.",
    )
    petitions: TableRetention = Field(
        default_factory=lambda: TableRetention(years=5), description="Petitions, from filing."
    )
    incidents: TableRetention = Field(
        default_factory=lambda: TableRetention(
            years=10,
            kinds={
                "homicide": 20,
                "attempted_homicide": 20,
                "serious_injury": 15,
                "arson": 15,
                "self_harm": 5,
            },
        ),
        description="Extreme incidents (with their people), from when they occurred.",
    )

    @model_validator(mode="after")
    def _known_kinds(self) -> RetentionPolicy:
        for table, (column, values) in KIND_COLUMNS.items():
            for kind in getattr(self, table).kinds:
                if kind not in values:
                    close = difflib.get_close_matches(kind, values, n=1)
                    hint = f" Did you mean {close[0]!r}?" if close else ""
                    raise ValueError(
                        f"{table}.kinds names unknown {column} {kind!r}; expected one of "
                        f"{', '.join(values)}.{hint}"
                    )
        return self

    def term(self, table: str, kind: str) -> float | None:
        """Years a row of ``table`` and ``kind`` is kept (None: for good)."""
        return getattr(self, table).term(kind)

    def digest(self) -> str:
        """A short content hash: features files record the policy they were built under."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]


def retention_option(value: str | Path | None) -> RetentionPolicy | None:
    """The policy a ``--retention`` option names: None without one, the shipped defaults
    for ``default``, else the TOML file at that path."""
    if value is None:
        return None
    return load_retention(None if str(value) == "default" else value)


def default_retention_file() -> Path:
    """The shipped default policy file (``riskwarn/retention.toml``)."""
    return Path(str(resources.files("riskwarn") / DEFAULT_FILE))


def load_retention(path: str | Path | None = None) -> RetentionPolicy:
    """The policy in TOML file ``path``; None reads the shipped defaults."""
    p = default_retention_file() if path is None else Path(path)
    if not p.is_file():
        raise ConfigError(
            f"expected a retention policy TOML file, got {str(p)!r}, which does not exist; "
            f"copy {default_retention_file()} and edit it."
        )
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc}); fix the syntax and run again.") from exc
    try:
        return RetentionPolicy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        hint = ""
        if first["type"] == "extra_forbidden" and len(first["loc"]) == 1:
            close = difflib.get_close_matches(str(first["loc"][0]), list(KIND_COLUMNS), n=1)
            hint = (
                f" Did you mean {close[0]!r}?" if close else f" Tables: {', '.join(KIND_COLUMNS)}."
            )
        raise ConfigError(f"{p}: key {where!r}: {first['msg']}.{hint} Fix the file.") from exc


def _after(start: pd.Series, years: float) -> pd.Series:
    """``start`` plus a term of ``years`` (calendar years when whole)."""
    if float(years).is_integer():
        return start + pd.DateOffset(years=int(years))
    return start + pd.to_timedelta(round(years * 365.25 * 86_400), unit="s")


def _by_kind(
    frame: pd.DataFrame, table: str, start: pd.Series, policy: RetentionPolicy
) -> pd.Series:
    """Each row's expiry: its clock's ``start`` plus its kind's term (NaT when kept)."""
    column, _ = KIND_COLUMNS[table]
    out = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    kinds = frame[column].astype("object")
    for kind in pd.unique(kinds.dropna()):
        years = policy.term(table, str(kind))
        if years is None:
            continue
        rows = (kinds == kind).to_numpy() & start.notna().to_numpy()
        if rows.any():
            out.loc[rows] = _after(start[rows], years).astype("datetime64[ns]").to_numpy()
    return out


def _closures(ds: Dataset, years_of: pd.Series) -> pd.Series:
    """When each dispute's term after closure runs out: the earliest ``closed`` event whose
    term ends before any later ``reopened`` event of the dispute (NaT: never)."""
    ev = ds.dispute_events
    trans = ev[ev["kind"].isin(["closed", "reopened"])]
    out = pd.Series(pd.NaT, index=ds.disputes.index, dtype="datetime64[ns]")
    if trans.empty:
        return out
    ids = ds.disputes["dispute_id"].astype("object")
    years = dict(zip(ids, years_of, strict=True))
    trans = trans.assign(years=trans["dispute_id"].astype("object").map(years))
    trans = trans[trans["years"].notna()]
    closed = trans[trans["kind"] == "closed"]
    reopened = trans[trans["kind"] == "reopened"][["dispute_id", "at"]]
    if closed.empty:
        return out
    ends = pd.Series(pd.NaT, index=closed.index, dtype="datetime64[ns]")
    for years in pd.unique(closed["years"]):
        rows = (closed["years"] == years).to_numpy()
        ends.loc[rows] = _after(closed.loc[rows, "at"], float(years)).to_numpy()
    closed = closed.assign(end=ends)
    # a reopening at or after the closure and by the end of its term cancels that term
    pairs = (
        closed[["dispute_id", "at", "end"]]
        .reset_index()
        .merge(reopened, on="dispute_id", how="left", suffixes=("", "_reopen"))
    )
    cancels = (pairs["at_reopen"] >= pairs["at"]) & (pairs["at_reopen"] <= pairs["end"])
    cancelled = set(pairs.loc[cancels.to_numpy(), "index"])
    kept = closed.loc[~closed.index.isin(cancelled)]
    first = kept.groupby(kept["dispute_id"].astype("object"))["end"].min()
    out.loc[:] = first.astype("datetime64[ns]").reindex(ids.to_numpy()).to_numpy()
    return out


def _owned(frame: pd.DataFrame, key: str, owner: pd.DataFrame, owner_dates: pd.Series) -> pd.Series:
    dates = pd.Series(owner_dates.to_numpy(), index=owner[key].astype("object").to_numpy())
    dates = dates[~dates.index.duplicated()]
    mapped = dates.astype("datetime64[ns]").reindex(frame[key].astype("object").to_numpy())
    return pd.Series(mapped.to_numpy(), index=frame.index, dtype="datetime64[ns]")


@dataclass(frozen=True)
class Expiry:
    """Every row's expiry moment, per table (``NaT``: never), aligned with ``dataset``."""

    dataset: Dataset
    dates: dict[str, pd.Series]

    def masks(self, at: object) -> dict[str, np.ndarray]:
        """Per table, which rows have expired at ``at`` (expiry at or before it)."""
        t = pd.Timestamp(at)  # type: ignore[arg-type]
        return {name: (d <= t).to_numpy() for name, d in self.dates.items()}

    def rows(self, at: object) -> dict[str, pd.DataFrame]:
        """The rows expired at ``at``, per table that has any, each with the moment it
        expired from (``expires_at``); the index is the row's position in its table."""
        out = {}
        for name, mask in self.masks(at).items():
            if mask.any():
                frame = self.dataset.table(name).loc[mask]
                out[name] = frame.assign(expires_at=self.dates[name][mask])
        return out

    def moments(self) -> pd.DatetimeIndex:
        """Every distinct expiry moment, sorted: the only moments the retained view changes."""
        stamps = [d.dropna().to_numpy() for d in self.dates.values()]
        flat = np.concatenate(stamps) if stamps else np.array([], dtype="datetime64[ns]")
        return pd.DatetimeIndex(np.unique(flat))

    def retained(self, at: object) -> Dataset:
        """``dataset`` as it may be used at ``at``: expired rows gone (see Dataset.without)."""
        return self.dataset.without(self.masks(at))


def expiry(dataset: Dataset, policy: RetentionPolicy) -> Expiry:
    """When every row of ``dataset`` expires under ``policy`` (pure; see the module)."""
    ds = dataset
    dates: dict[str, pd.Series] = {}
    dispute_years = (
        ds.disputes["category"].astype("object").map(lambda k: policy.term("disputes", str(k)))
    )
    dates["disputes"] = _closures(ds, dispute_years)
    flags = ds.person_flags
    dates["person_flags"] = _by_kind(
        flags, "person_flags", flags["end_date"] + pd.Timedelta(days=1), policy
    )
    ties = ds.relationships
    dates["relationships"] = _by_kind(ties, "relationships", ties["until"], policy)
    dates["petitions"] = _by_kind(ds.petitions, "petitions", ds.petitions["filed_at"], policy)
    inc = ds.incidents
    dates["incidents"] = _by_kind(inc, "incidents", inc["occurred_at"], policy)
    for name, (owner, key) in DEPENDENTS.items():
        dates[name] = _owned(ds.table(name), key, ds.table(owner), dates[owner])
    return Expiry(ds, dates)
