"""The closed loop on the workbench, as pure values: a warning's deadlines on the case
page, the overview's open and overdue warnings per township and tier, and the evaluation
page's measures and outcomes from stored warnings (the loop's own functions)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from riskwarn.clock import FixedClock, get_clock, use_clock
from riskwarn.features import label_cases
from riskwarn.loop import WarningEvent, WarningRecord, apply_event, load_policy
from riskwarn.serving._workbench._loop import deadlines, evaluation_view, warning_overview

from .conftest import Served

POLICY = load_policy()
T0 = dt.datetime(2026, 3, 1, 8, 0)


def warning(
    wid: str, tier: str, township: str, *steps: tuple[str, float, dict], at: dt.datetime = T0,
    dispute: str | None = None,
) -> WarningRecord:  # fmt: skip
    w = apply_event(None, WarningEvent(
        warning_id=wid, kind="issue", at=at, dispute_id=dispute or f"D-{wid}", tier=tier,
        risk=0.2, model_version="1", owner_level=POLICY.route(tier).level, township=township,
    ), POLICY)  # fmt: skip
    for kind, hours, fields in steps:
        e = WarningEvent(warning_id=wid, kind=kind, at=at + dt.timedelta(hours=hours), **fields)
        w = apply_event(w, e, POLICY)
    return w


ACT = {"action": "visit", "result": "agreement"}


def test_deadlines_say_what_was_on_time_late_overdue_or_pending() -> None:
    w = warning("W1", "red", "东关", ("acknowledge", 6, {}))  # red: acknowledge within 4 h
    steps = {d["step"]: d for d in deadlines(w, POLICY, T0 + dt.timedelta(hours=30))}
    assert steps["acknowledge"]["status"] == "late"
    assert steps["first_action"]["status"] == "overdue"  # 24 h after issue
    assert steps["first_action"]["due"] == T0 + dt.timedelta(hours=24)
    assert "revisit" not in steps  # nothing resolved yet
    soon = {d["step"]: d["status"] for d in deadlines(w, POLICY, T0 + dt.timedelta(hours=7))}
    assert soon == {"acknowledge": "late", "first_action": "pending"}
    done = warning(
        "W2", "red", "东关", ("acknowledge", 1, {}), ("assign", 2, {"owner": "甲"}),
        ("act", 3, ACT), ("resolve", 4, {}),
    )  # fmt: skip
    steps = {d["step"]: d for d in deadlines(done, POLICY, T0 + dt.timedelta(hours=5))}
    assert [s["status"] for s in steps.values()] == ["on_time", "on_time", "pending"]
    assert steps["revisit"]["due"] == T0 + dt.timedelta(hours=4 + 168)


def test_the_overview_counts_open_and_overdue_warnings_by_township_and_tier() -> None:
    held = [
        warning("W1", "red", "东关"),  # acknowledge overdue after 4 h
        warning("W2", "red", "东关", ("acknowledge", 1, {})),  # first action due at 24 h
        warning("W3", "orange", "东关", ("acknowledge", 1, {}), ("assign", 2, {"owner": "甲"})),
        warning(
            "W4", "blue", "西湖", ("acknowledge", 1, {}), ("assign", 2, {"owner": "乙"}),
            ("act", 3, ACT), ("resolve", 4, {}),
        ),  # revisit within 720 h of the resolution
    ]  # fmt: skip
    now = T0 + dt.timedelta(hours=30)
    ov = warning_overview(held, now)
    cells = {(r["township"], r["tier"]): r for r in ov["rows"]}
    assert list(cells) == [("东关", "red"), ("东关", "orange"), ("西湖", "blue")]
    assert cells[("东关", "red")] | {} == {
        "township": "东关", "tier": "red", "open": 2, "overdue_acknowledge": 1,
        "overdue_first_action": 1, "overdue_revisit": 0, "unowned": 2,
    }  # fmt: skip
    assert cells[("东关", "orange")]["overdue_first_action"] == 0  # 72 h
    assert ov["totals"]["red"]["open"] == 2 and ov["overdue"] == 2
    late = warning_overview(held, T0 + dt.timedelta(hours=4 + 721), township="西湖")
    assert [r["overdue_revisit"] for r in late["rows"]] == [1]


def test_the_evaluation_reads_process_and_outcomes_per_tier_and_period(served: Served) -> None:
    ds = served.dataset
    incidents = ds.incidents.dropna(subset=["dispute_id"]).sort_values("occurred_at")
    horizon = 90
    hit = incidents[incidents["occurred_at"] + pd.Timedelta(days=horizon) < ds.end].iloc[-1]
    local = pd.Timestamp(hit["occurred_at"]) - pd.Timedelta(days=10)
    ids = ds.disputes["dispute_id"].astype(str).head(200)
    labels = label_cases(ds, ids, [local] * len(ids), horizon)
    calm = str(labels.loc[labels["label"] == 0, "dispute_id"].iloc[0])
    with use_clock(FixedClock(T0)):
        clock = get_clock()
        at = clock.to_utc(local.to_pydatetime())
        records = [
            warning("W1", "red", "东关", ("acknowledge", 1, {}), at=at, dispute=str(hit["dispute_id"])),
            warning("W2", "red", "东关", ("acknowledge", 9, {}), ("assign", 10, {"owner": "甲"}),
                    ("act", 11, ACT), at=at, dispute=calm),
            warning("W3", "orange", "西湖", at=at + dt.timedelta(days=40), dispute=calm),
        ]  # fmt: skip
        ev = evaluation_view(records, ds, POLICY, horizon_days=horizon, period="month", now=T0)
    month = f"{local:%Y-%m}"
    red = next(r for r in ev["rows"] if r["tier"] == "red")
    assert (red["period"], red["warnings"], red["known"], red["events"]) == (month, 2, 2, 1)
    assert red["acknowledged_on_time"] == 0.5 and red["acted_on_time"] == 0.5  # W1: never
    assert red["rate"] == 0.5 and red["low"] < 0.5 < red["high"]
    handling = {(r["tier"], r["handled"]): r for r in ev["by_handling"]}
    assert handling[("red", True)]["events"] == 0 and handling[("red", False)]["events"] == 1
    assert "注意" in ev["caution"]["zh"] and "Caution" in ev["caution"]["en"]
    quarters = evaluation_view(records, ds, POLICY, horizon_days=horizon, period="quarter", now=T0)
    assert all("Q" in r["period"] for r in quarters["rows"])
    assert (
        evaluation_view([], ds, POLICY, horizon_days=horizon, period="month", now=T0)["rows"] == []
    )
