"""The closed loop on the workbench: a case's warning (state, owner, deadlines, its events),
the overview's open and overdue warnings, the evaluation page, and supervisors' actions on a
warned case sent as warning events.

The rules are :mod:`riskwarn.loop`'s (``apply_event`` moves a warning; ``process_measures``,
``warning_outcomes`` and ``rates`` measure the loop); the store writes a workbench action
and the warning events it means in one transaction (:meth:`Store.add_actions_warned`), so
the case page and ``GET /v1/warnings/{id}`` tell the same story from one audit trail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.routing import Route

from riskwarn.clock import get_clock
from riskwarn.config import Settings
from riskwarn.errors import WarningStateError
from riskwarn.loop import (
    CAUTION,
    CAUTION_ZH,
    STEPS,
    RoutingPolicy,
    WarningEvent,
    WarningRecord,
    process_measures,
    raise_event,
    rates,
    warning_outcomes,
)
from riskwarn.serving._store import Store
from riskwarn.serving._warnings import policy_in_force
from riskwarn.vocab import TIERS, tier_rank

from ._actions import ActionRefused

if TYPE_CHECKING:
    from ._app import Workbench
    from ._web import Ctx

EVENT_NOTE = 500  # a warning event keeps this much of a workbench note or reason
PERIODS = {"month": "M", "quarter": "Q"}

# when each step is done, and what its window runs from
_DONE = {
    "acknowledge": "acknowledged_at",
    "first_action": "first_action_at",
    "revisit": "revisit_at",
}
_FROM = {"acknowledge": "issued_at", "first_action": "issued_at", "revisit": "resolved_at"}


# the case page ---------------------------------------------------------------------------


def deadlines(w: WarningRecord, policy: RoutingPolicy, now: dt.datetime) -> list[dict[str, Any]]:
    """Each step of ``w`` with its deadline: ``step``, ``due`` (UTC), ``done`` (UTC or
    None) and ``status``: ``on_time``, ``late`` (done after it), ``overdue`` (not done and
    past it), ``pending``; the pending step's deadline is the warning's own (an escalation
    or a raise may have moved it). A revisit before the resolution is not listed."""
    route = policy.route(w.tier)
    out = []
    for step in STEPS:
        start = getattr(w, _FROM[step])
        if start is None:
            continue
        due = w.due_at if (w.due_step == step and w.due_at) else start + route.within(step)
        done = getattr(w, _DONE[step])
        if done is not None:
            status = "on_time" if done <= due else "late"
        elif not w.is_open:
            continue
        else:
            status = "overdue" if now > due else "pending"
        out.append({"step": step, "due": due, "done": done, "status": status})
    return out


def case_warning(
    store: Store, dispute_id: str, policy: RoutingPolicy, now: dt.datetime
) -> dict[str, Any] | None:
    """The case page's warning: the open one (else the latest), its deadlines and events
    (newest first), who acknowledged it, and the case's earlier warnings; None when the
    case never had one."""
    held = store.warnings_for(dispute_id)
    if not held:
        return None
    current = next((w for w in held if w.is_open), held[0])
    record, events = store.warning(current.warning_id)
    ack = next((e for e in events if e.kind == "acknowledge"), None)
    return {
        "w": record,
        "overdue": record.overdue(now),
        "deadlines": deadlines(record, policy, now),
        "events": list(reversed(events)),
        "acknowledged": ack and {"key_name": ack.by, "at": ack.at},
        "earlier": [w for w in held if w.warning_id != record.warning_id],
    }


def _short(text: str) -> str:
    text = text.strip()
    return text if len(text) <= EVENT_NOTE else text[: EVENT_NOTE - 1] + "…"


def record_action(
    store: Store,
    settings: Settings,
    dispute_id: str,
    action: Mapping[str, Any],
    *,
    by: str,
    request_id: str,
) -> str:
    """Store a supervisor's action on a case; the flash label to show after it.

    On a case with an open warning the action is also that warning's event, written with it
    in one transaction: acknowledge (once), assign (acknowledging an unacknowledged warning
    first: whoever assigns it has seen it), note, raise (only up, with the reason). Without
    one, the action alone is stored (as before warnings). A step the warning cannot take now
    is refused with the loop's reason (409), and nothing is written."""
    kind = action["kind"]
    row = {"dispute_id": dispute_id, "key_name": by, **action}
    legacy = store.actions_for(dispute_id)
    seen = any(a["kind"] == "acknowledge" for a in legacy)
    warning = store.open_warnings([dispute_id]).get(dispute_id)
    if warning is None:
        if kind == "acknowledge" and seen:  # once is enough: no duplicate
            return "done_acknowledge_again"
        store.add_action(row, request_id)
        return f"done_{kind}"
    now = get_clock().utc_now()
    policy = policy_in_force(store, settings)

    def event(step: str, **fields: Any) -> WarningEvent:
        return WarningEvent(warning_id=warning.warning_id, kind=step, at=now, by=by, **fields)

    rows: list[dict[str, Any]] = [row]
    events: list[WarningEvent] = []
    if kind in ("acknowledge", "assign") and warning.state == "issued":
        events.append(event("acknowledge"))
        if kind == "assign" and not seen:
            rows.insert(0, {"dispute_id": dispute_id, "key_name": by, "kind": "acknowledge"})
    if kind == "acknowledge":
        if not events:
            return "done_acknowledge_again"
        rows = [] if seen else rows  # seen before its warning: only the warning's step is new
    elif kind == "assign":
        events.append(event("assign", owner=action["assignee"]))
    elif kind == "note":
        events.append(event("note", note=_short(action["note"])))
    else:
        events.append(
            raise_event(
                warning, action["tier"], _short(action["reason"]), by=by, policy=policy,
                roster=store.roster(), clock=get_clock(),
            )
        )  # fmt: skip
    try:
        store.add_actions_warned(rows, events, policy, by=by, request_id=request_id)
    except WarningStateError as refused:
        why = str(refused).splitlines()[0]
        raise ActionRefused(f"预警当前的状态不允许这一步：{why}", why) from refused
    return f"done_{kind}"


def warned_tier(store: Store, dispute_id: str, tier: str | None) -> str | None:
    """The higher of ``tier`` and the case's open warning's (which never falls): what a
    raise must beat."""
    warning = store.open_warnings([dispute_id]).get(dispute_id)
    if warning is None or tier_rank(warning.tier) <= tier_rank(tier):
        return tier
    return warning.tier


# the overview ----------------------------------------------------------------------------

COUNTS = ("open", "overdue_acknowledge", "overdue_first_action", "overdue_revisit", "unowned")


def warning_overview(
    open_warnings: Iterable[WarningRecord], now: dt.datetime, township: str | None = None
) -> dict[str, Any]:
    """Open warnings now, per township and tier: open, overdue by the step that is late
    (acknowledge, first action, revisit) and unowned; with the county's (or the township's)
    totals per tier. Staff's deadlines, not households: counts are shown as they are."""
    rows: dict[tuple[str, str], dict[str, int]] = {}
    totals = {t: dict.fromkeys(COUNTS, 0) for t in TIERS}
    for w in open_warnings:
        town = w.township or "—"
        if township and town != township:
            continue
        cell = rows.setdefault((town, w.tier), dict.fromkeys(COUNTS, 0))
        hits = ["open"]
        if w.overdue(now):
            hits.append(f"overdue_{w.due_step}")
        if w.owner is None:
            hits.append("unowned")
        for key in hits:
            cell[key] += 1
            totals[w.tier][key] += 1
    ordered = sorted(
        rows.items(),
        key=lambda kv: (
            -sum(v["open"] for (t, _), v in rows.items() if t == kv[0][0]),
            kv[0][0],
            TIERS.index(kv[0][1]),
        ),
    )
    return {
        "rows": [{"township": town, "tier": tier, **counts} for (town, tier), counts in ordered],
        "totals": totals,
        "overdue": sum(totals[t][k] for t in TIERS for k in COUNTS if k.startswith("overdue_")),
    }


# the evaluation page ---------------------------------------------------------------------


def evaluation_view(
    records: list[WarningRecord],
    dataset: Any,
    policy: RoutingPolicy,
    *,
    horizon_days: int,
    period: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """Per tier and period (month or quarter of the issue, local time): warnings issued,
    acknowledged and first acted on in time, revisited, closed (the loop's
    :func:`~riskwarn.loop.process_measures`), and outcomes once the horizon has passed
    (:func:`~riskwarn.loop.warning_outcomes`, :func:`~riskwarn.loop.rates`); outcomes by
    tier and by whether anything was done, with the caution beside them."""
    if not records:
        return {"rows": [], "by_handling": [], "horizon_days": horizon_days, "period": period}
    clock = get_clock()
    frame = pd.DataFrame([w.model_dump() for w in records])
    local = pd.to_datetime(frame["issued_at"]).map(lambda t: clock.to_local(t.to_pydatetime()))
    frame["period"] = pd.to_datetime(local).dt.to_period(PERIODS[period]).astype(str)
    frame["handled"] = frame["actions"] > 0
    process = process_measures(frame, policy, by=["tier", "period"], now=now)
    outcomes = warning_outcomes(dataset, frame, horizon_days=horizon_days, to_local=clock.to_local)
    by_period = rates(outcomes, ["tier", "period"]).drop(columns="warnings")
    table = process.merge(by_period, on=["tier", "period"], how="left")
    table = table.sort_values(
        ["period", "tier"], ascending=[False, True], key=_tier_order
    ).reset_index(drop=True)
    handling = rates(outcomes, ["tier", "handled"]).sort_values(
        ["tier", "handled"], key=_tier_order
    )
    return {
        "rows": _plain(table),
        "by_handling": _plain(handling),
        "horizon_days": horizon_days,
        "period": period,
        "caution": {"zh": CAUTION_ZH, "en": CAUTION},
    }


def _tier_order(column: pd.Series) -> pd.Series:
    return column.map(TIERS.index) if column.name == "tier" else column


def _plain(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def loop_routes(workbench: Workbench) -> list[Route]:
    """The evaluation page's route (``/evaluation?period=month&township=…``)."""

    def _evaluation(ctx: Ctx, township: str | None, period: str) -> dict[str, Any]:
        b = ctx.backend
        now = get_clock().utc_now()
        meta = getattr(b.scorer.model, "metadata", None)
        return evaluation_view(
            b.store.warning_records(township),
            b.scorer.dataset,
            policy_in_force(b.store, workbench.settings),
            horizon_days=getattr(meta, "horizon_days", None) or 90,
            period=period,
            now=now,
        )

    async def evaluation(ctx: Ctx) -> Response:
        params = ctx.request.query_params
        township = params.get("township") or None
        period = params.get("period") if params.get("period") in PERIODS else "month"
        ev = await run_in_threadpool(_evaluation, ctx, township, period)
        towns = sorted({str(t) for t in ctx.backend.scorer.dataset.grids["township"].dropna()})
        return workbench.render(
            ctx, "evaluation.html", ev=ev, township=township or "", towns=towns, TIERS=TIERS
        )

    return [Route("/evaluation", workbench.guard(evaluation), name="evaluation")]
