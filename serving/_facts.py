"""What an answer says about a case beside its score: whether it is open, since when, how
fresh the store's records are, and the warnings that follow.

Built once per history (:meth:`Facts.of`), read per request in microseconds. The status
follows the contract's definition (docs/contract.md): a dispute is open at t when it was
registered by t and has no ``closed`` event at or before t that no ``reopened`` event
followed by t.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from riskwarn import Dataset
from riskwarn._contract import KNOWN_FROM
from riskwarn._validate import early_event_issue

_CHANGES = ("closed", "reopened")


def case_status(
    reported_at: pd.Timestamp, changes: Iterable[tuple[pd.Timestamp, str]], as_of: pd.Timestamp
) -> dict[str, str]:
    """``{"state", "since"}`` at ``as_of`` from the case's ``closed``/``reopened`` events
    (in time order; a reopening at the moment of a closing counts after it)."""
    state, since = "open", reported_at
    for at, kind in changes:
        if at > as_of:
            break
        if kind == "closed" and state == "open":
            state, since = "closed", at
        elif kind == "reopened" and state == "closed":
            state, since = "open", at
    return {"state": state, "since": f"{since:%Y-%m-%dT%H:%M:%S}"}


def newest_record(ds: Dataset) -> pd.Timestamp | None:
    """The latest time any record of the history is known from (its point-in-time column)."""
    found = []
    for table, column in KNOWN_FROM.items():
        if column is None:
            continue
        values = ds.table(table)[column]
        if len(values) and values.notna().any():
            found.append(pd.Timestamp(values.max()))
    return max(found) if found else None


@dataclass(frozen=True)
class Facts:
    """Per dispute: its registration, its ``closed``/``reopened`` events, its first event
    dated before its registration; and the newest record of the history."""

    newest: pd.Timestamp | None
    reported: Mapping[str, pd.Timestamp]
    changes: Mapping[str, list[tuple[pd.Timestamp, str]]] = field(default_factory=dict)
    early: Mapping[str, tuple[pd.Timestamp, int]] = field(default_factory=dict)

    @classmethod
    def of(cls, ds: Dataset) -> Facts:
        d, ev = ds.disputes, ds.dispute_events
        reported = dict(zip(d["dispute_id"], d["reported_at"], strict=True))
        moves = ev.loc[ev["kind"].isin(_CHANGES)]
        moves = moves.assign(order=moves["kind"].map(_CHANGES.index)).sort_values(["at", "order"])
        changes: dict[str, list[tuple[pd.Timestamp, str]]] = {}
        for dispute, at, kind in zip(moves["dispute_id"], moves["at"], moves["kind"], strict=True):
            changes.setdefault(dispute, []).append((at, kind))
        registered = ev["dispute_id"].map(reported)
        before = ev.loc[ev["at"] < registered]
        early: dict[str, tuple[pd.Timestamp, int]] = {}
        for i, dispute, at in zip(before.index, before["dispute_id"], before["at"], strict=True):
            if dispute not in early or at < early[dispute][0]:
                early[dispute] = (at, int(i))
        return cls(newest_record(ds), reported, changes, early)

    def status(self, dispute_id: str, as_of: pd.Timestamp) -> dict[str, str]:
        return case_status(self.reported[dispute_id], self.changes.get(dispute_id, []), as_of)

    def warnings(
        self,
        dispute_id: str,
        as_of: pd.Timestamp,
        status: Mapping[str, str],
        stale_days: int,
        case_events: Iterable[Any] = (),
        reported_at: pd.Timestamp | None = None,
    ) -> list[dict[str, str]]:
        """The answer's warnings: records too old for ``as_of``, a closed case, an event
        dated before the registration (of the stored dispute, or among ``case_events``
        of a case sent whole, registered at ``reported_at``)."""
        out = []
        if self.newest is not None and as_of - self.newest > pd.Timedelta(days=stale_days):
            days = (as_of - self.newest).days
            out.append(
                {
                    "code": "stale_data",
                    "message": f"as_of {as_of:%Y-%m-%dT%H:%M:%S} is {days} days after the "
                    f"newest record the store holds ({self.newest:%Y-%m-%dT%H:%M:%S}): what "
                    "happened since is not in this score; ingest recent records",
                }
            )
        if status["state"] == "closed":
            out.append(
                {
                    "code": "case_closed",
                    "message": f"the case was closed at {status['since']}; a closed case is "
                    "scored as it stood, and its risk is not watched",
                }
            )
        early = self.early.get(dispute_id) if reported_at is None else None
        if reported_at is not None:
            times = sorted(pd.Timestamp(e.at) for e in case_events)
            first = next((t for t in times if t < reported_at), None)
            early = None if first is None else (first, -1)
        if early is not None:
            registered = self.reported.get(dispute_id, reported_at)
            issue = early_event_issue(
                "dispute_events", None, None, dispute_id, early[0], registered
            )
            out.append({"code": "event_before_registration", "message": str(issue)})
        return out
