"""The closed loop in the service: which routing policy is in force, the warnings a
snapshot issues, and the events supervisors and the case platform send.

The rules live in :mod:`riskwarn.loop` (pure); the store persists what they return
(:meth:`Store.add_snapshots_warned`, :meth:`Store.apply_warning_events`,
:meth:`Store.escalate_warnings`). This module joins the two: it reads the places of the
cases scored, turns a snapshot's rows into :class:`~riskwarn.loop.ScoredCase` (tier after
the key facts' floors and the supervisors' raises) and builds events from requests.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from riskwarn import Dataset
from riskwarn.clock import get_clock
from riskwarn.config import Settings
from riskwarn.errors import ConfigError, RequestError
from riskwarn.loop import (
    DEFAULT_MIN_TIER,
    Member,
    RoutingPolicy,
    ScoredCase,
    WarningEvent,
    escalations,
    issue_warnings,
    load_policy,
)
from riskwarn.serving._schemas import WarningDetail, WarningEventOut, WarningList, WarningOut
from riskwarn.serving._store import LoopState, Store
from riskwarn.vocab import higher_tier

ROSTER_COLUMNS = ("name", "role", "level", "county", "township", "grid")


def policy_in_force(store: Store, settings: Settings | None = None) -> RoutingPolicy:
    """The routing policy warnings follow now: the newest an admin stored
    (``PUT /v1/warnings/policy``), else the file ``RISKWARN_ROUTING`` names, else the
    shipped four-colour defaults."""
    stored = store.routing_policy()
    if stored is not None:
        return stored
    settings = settings or Settings.from_env()
    return load_policy(settings.routing)


def places(dataset: Dataset) -> dict[str, tuple[str | None, str | None, str | None]]:
    """Each dispute's (county, township, grid) from its grid's row in the history."""
    grids = dataset.grids.set_index("grid_id")
    out = {}
    for dispute, grid in zip(
        dataset.disputes["dispute_id"], dataset.disputes["grid_id"], strict=True
    ):
        county = township = None
        if grid in grids.index:
            county, township = (_text(grids.at[grid, c]) for c in ("county", "township"))
        out[str(dispute)] = (county, township, _text(grid))
    return out


def _text(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def tier_policy_version(tier_policy: Any) -> str:
    """A short, stable name of the model's tier policy (how tiers were cut, and floors)."""
    digest = hashlib.sha1(tier_policy.model_dump_json().encode()).hexdigest()[:8]
    return f"tiers-{digest}"


def snapshot_round(
    rows: Sequence[Mapping[str, Any]],
    facts: Sequence[tuple[str, ...]],
    where: Mapping[str, tuple[str | None, str | None, str | None]],
    policy: RoutingPolicy,
    tier_version: str | None,
    min_tier: str = DEFAULT_MIN_TIER,
) -> Callable[[LoopState], list[WarningEvent]]:
    """What a snapshot decides inside its transaction: ``issue``/``rescore`` events for its
    scores (tier after floors, raised by a supervisor where one did), then ``escalate``
    events for the open warnings overdue or unowned too long now."""

    def decide(state: LoopState) -> list[WarningEvent]:
        clock = get_clock()
        scored = []
        for row, codes in zip(rows, facts, strict=True):
            raised = state.raised.get(row["dispute_id"])
            county, township, grid = where.get(row["dispute_id"], (None, None, None))
            scored.append(
                ScoredCase(
                    dispute_id=row["dispute_id"],
                    risk=row["risk"],
                    tier=higher_tier(row["tier"], raised and raised["tier"]),
                    model_version=row["model_version"],
                    tier_policy_version=tier_version,
                    key_facts=codes,
                    county=county,
                    township=township,
                    grid=grid,
                )
            )
        load = dict(state.load)
        events = issue_warnings(
            scored,
            state.open_warnings,
            policy,
            state.roster,
            min_tier=min_tier,
            clock=clock,
            load=load,
        )
        escalated = escalations(
            state.open_warnings.values(), policy, state.roster, clock=clock, load=load
        )
        return events + escalated

    return decide


def event_of(warning_id: str, kind: str, **given: Any) -> WarningEvent:
    """A warning event from a request's fields; RequestError (400) naming what is missing
    or wrong (the event's own rules, e.g. an ``assign`` needs an ``owner``)."""
    at = given.pop("at", None)
    now = get_clock().utc_now()
    at = now if at is None else to_utc(at)
    if at > now + dt.timedelta(minutes=5):
        raise RequestError(
            f"at: expected a time that has passed (now is {now:%Y-%m-%dT%H:%M:%S}Z), got "
            f"{at:%Y-%m-%dT%H:%M:%S}Z; report what was done after it was done"
        )
    fields = {k: v for k, v in given.items() if v is not None}
    try:
        return WarningEvent(warning_id=warning_id, kind=kind, at=at, **fields)
    except ValidationError as exc:
        raise RequestError(first_error(exc)) from exc


def first_error(exc: ValidationError) -> str:
    """The first mistake pydantic found, as ``field: what is wrong`` (one line)."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    msg = str(first["msg"]).removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


def to_utc(moment: dt.datetime) -> dt.datetime:
    """A request's time as naive UTC: with a zone, converted; without, the county's local
    time (as every contract time)."""
    if moment.tzinfo is not None:
        return moment.astimezone(dt.UTC).replace(tzinfo=None)
    return get_clock().to_utc(moment)


def read_roster(path: Path) -> list[Member]:
    """Members from a CSV with the header ``name,role,level,county,township,grid`` (county,
    township and grid may be empty where the level does not need them); ConfigError naming
    the line for a wrong row."""
    if not path.is_file():
        raise ConfigError(
            f"expected a roster CSV file, got {str(path)!r} which does not exist; its header is "
            f"{','.join(ROSTER_COLUMNS)}"
        )
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    header = tuple(reader.fieldnames or ())
    if set(header) != set(ROSTER_COLUMNS):
        raise ConfigError(
            f"{path}: expected the header {','.join(ROSTER_COLUMNS)}, got {','.join(header)}; "
            "fix the first line"
        )
    members = []
    for line, row in enumerate(reader, start=2):
        values = {k: (v.strip() or None) for k, v in row.items() if k is not None}
        try:
            members.append(Member(**values))
        except ValidationError as exc:
            raise ConfigError(f"{path}:{line}: {first_error(exc)}; fix the line") from exc
    return members


def event_counts(events: Sequence[WarningEvent]) -> dict[str, int]:
    """How many events of each kind (``{"issue": 12, "rescore": 40, "escalate": 1}``)."""
    out: dict[str, int] = {}
    for e in events:
        out[e.kind] = out.get(e.kind, 0) + 1
    return out


def warning_detail(store: Store, warning_id: str, request_id: str) -> WarningDetail:
    """A warning and its whole history, as the API answers it."""
    record, history = store.warning(warning_id)
    now = get_clock().utc_now()
    return WarningDetail(
        request_id=request_id,
        warning=WarningOut.of(record, now),
        events=[WarningEventOut(**e.model_dump(include=_EVENT_FIELDS)) for e in history],
    )


_EVENT_FIELDS = set(WarningEventOut.model_fields)


def warning_list(store: Store, request_id: str, limit: int, offset: int, **filters: Any):  # type: ignore[no-untyped-def]
    """One page of warnings, as the API answers it."""
    total, page = store.warnings_page(limit=limit, offset=offset, **filters)
    now = get_clock().utc_now()
    items = [WarningOut.of(w, now) for w in page]
    return WarningList(request_id=request_id, total=total, limit=limit, offset=offset, items=items)


def send_event(
    store: Store,
    settings: Settings,
    warning_id: str,
    kind: str,
    *,
    key_name: str,
    request_id: str,
    **fields: Any,
) -> WarningDetail:
    """Apply one event a person sends (by the policy in force) and answer the warning with
    its history; 404 for an unknown warning, 409 for a step it cannot take now."""
    fields["by"] = fields.get("by") or key_name
    event = event_of(warning_id, kind, **fields)
    store.apply_warning_events(
        [event], policy_in_force(store, settings), by=key_name, request_id=request_id
    )
    return warning_detail(store, warning_id, request_id)
