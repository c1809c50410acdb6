"""The evaluation of the loop on simulated counties whose effect of handling is planted,
the process measures from warning records, and `riskwarn evaluate-warnings`."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from riskwarn import WarningLoop, simulate_with_truth, write_dataset
from riskwarn.loop import (
    CAUTION,
    WarningEvent,
    apply_event,
    evaluate_rounds,
    load_policy,
    process_measures,
    truth_rounds,
    warning_outcomes,
)


def county(effect: float, persons: int = 200_000, seed: int = 7):  # type: ignore[no-untyped-def]
    """Townships start the loop in four steps half a year apart; 80% of warnings handled."""
    loop = WarningLoop(
        handled_share=0.8, effect=effect, rollout_start=dt.date(2022, 7, 1), rollout_step_days=180
    )
    return simulate_with_truth(persons, 3, seed, interventions=loop, oracle=False)


@pytest.fixture(scope="module")
def planted():  # type: ignore[no-untyped-def]
    sim = county(0.9)
    return sim, evaluate_rounds(sim.dataset, truth_rounds(sim.truth.warnings), bootstrap=200)


@pytest.mark.slow
def test_the_stepped_rollout_finds_the_planted_effect(planted) -> None:  # type: ignore[no-untyped-def]
    _, ev = planted
    est = ev.stepped
    assert est.allowed and est.low <= 0.9 <= est.high
    assert est.low > 0.0  # the effect is seen, not only "not excluded"
    assert ev.as_of == pd.Timestamp("2024-12-31 23:59:59") or ev.as_of.year == 2024


@pytest.mark.slow
def test_without_an_effect_the_estimate_covers_none_while_the_naive_one_misleads() -> None:
    sim = county(0.0)
    ev = evaluate_rounds(sim.dataset, truth_rounds(sim.truth.warnings), bootstrap=200)
    assert ev.stepped.low <= 0.0 <= ev.stepped.high
    assert ev.naive.low > 0.2  # handled cases "look" safer here, though handling did nothing


@pytest.mark.slow
def test_outcomes_by_tier_and_handling_wait_for_the_horizon(planted) -> None:  # type: ignore[no-untyped-def]
    sim, ev = planted
    w = ev.warnings
    assert set(w["tier"]) == {"orange", "red"} and w["handled"].mean() > 0.5
    late = w["issued_at"] + pd.Timedelta(days=90) > sim.dataset.end
    assert w.loc[late, "outcome"].isna().all() and w.loc[~late, "outcome"].notna().all()
    table = ev.outcomes_by_handling
    assert set(table.columns) >= {"tier", "handled", "warnings", "known", "events", "rate"}
    assert table["warnings"].sum() == len(w)
    red = ev.outcomes_by_tier.set_index("tier")
    assert red.loc["red", "rate"] > red.loc["orange", "rate"]
    text = ev.text()
    assert CAUTION in text and "stepped rollout" in text and "naive" in text
    # an earlier --as-of knows fewer outcomes
    early = evaluate_rounds(
        sim.dataset, truth_rounds(sim.truth.warnings), as_of=pd.Timestamp("2024-03-31"),
        bootstrap=50,
    )  # fmt: skip
    assert early.warnings["outcome"].notna().sum() < w["outcome"].notna().sum()


def test_process_measures_from_warning_records() -> None:
    policy = load_policy()
    t0 = dt.datetime(2025, 3, 1, 8)

    def walk(wid: str, township: str, *steps: tuple[str, float, dict]):  # type: ignore[no-untyped-def]
        w = apply_event(None, WarningEvent(
            warning_id=wid, kind="issue", at=t0, dispute_id=wid, tier="orange", risk=0.2,
            model_version="1", owner_level="county", township=township,
        ), policy)  # fmt: skip
        for kind, hours, fields in steps:
            event = WarningEvent(
                warning_id=wid, kind=kind, at=t0 + dt.timedelta(hours=hours), **fields
            )
            w = apply_event(w, event, policy)
        return w.model_dump()

    act = {"action": "visit", "result": "agreement"}
    rows = pd.DataFrame([
        walk("W1", "东关", ("acknowledge", 2, {}), ("assign", 3, {"owner": "甲"}),
             ("act", 10, act), ("resolve", 20, {}), ("revisit", 100, act)),
        walk("W2", "东关", ("acknowledge", 30, {}), ("assign", 31, {"owner": "甲"}),
             ("act", 80, act), ("resolve", 90, {})),
        walk("W3", "西湖"),
    ])  # fmt: skip
    out = process_measures(rows).set_index("township")
    east = out.loc["东关"]
    assert east["warnings"] == 2 and east["hours_to_acknowledge"] == 16  # median of 2 and 30
    assert east["acknowledged_on_time"] == 0.5 and east["acted_on_time"] == 0.5
    assert east["revisit_rate"] == 0.5
    assert out.loc["西湖", "warnings"] == 1 and pd.isna(out.loc["西湖", "hours_to_acknowledge"])


def test_process_measures_by_period_leave_pending_steps_out_and_count_closed() -> None:
    policy = load_policy()
    t0 = dt.datetime(2025, 3, 1, 8)

    def record(wid: str, *steps: tuple[str, float, dict]) -> dict:
        w = apply_event(None, WarningEvent(
            warning_id=wid, kind="issue", at=t0, dispute_id=wid, tier="red", risk=0.3,
            model_version="1", owner_level="county", township="东关",
        ), policy)  # fmt: skip
        for kind, hours, fields in steps:
            at = t0 + dt.timedelta(hours=hours)
            w = apply_event(w, WarningEvent(warning_id=wid, kind=kind, at=at, **fields), policy)
        return {**w.model_dump(), "period": "2025-03"}

    act = {"action": "visit", "result": "agreement"}
    done = record(
        "W1",
        ("acknowledge", 1, {}),
        ("assign", 2, {"owner": "甲"}),
        ("act", 3, act),
        ("resolve", 4, {}),
        ("revisit", 5, act),
        ("close", 6, {}),
    )
    pending = record("W2")  # red: acknowledge within 4 h, act within 24 h
    rows = pd.DataFrame([done, pending])  # fmt: skip
    soon = process_measures(rows, by=["period", "tier"], now=t0 + dt.timedelta(hours=2)).iloc[0]
    assert (soon["period"], soon["tier"], soon["warnings"]) == ("2025-03", "red", 2)
    assert soon["acknowledged_on_time"] == 1.0 and soon["acted_on_time"] == 1.0  # W2 may still
    assert soon["closed"] == 0.5 and soon["revisit_rate"] == 1.0
    later = process_measures(rows, by=["tier"], now=t0 + dt.timedelta(hours=5)).iloc[0]
    assert later["acknowledged_on_time"] == 0.5 and later["acted_on_time"] == 1.0
    assert process_measures(rows, by=["tier"]).iloc[0]["acted_on_time"] == 0.5  # no now: late


def test_warning_outcomes_read_the_incidents_once_the_horizon_has_passed(good) -> None:  # type: ignore[no-untyped-def]
    from riskwarn import load_dataset

    ds = load_dataset(good)
    rows = pd.DataFrame({
        "warning_id": ["W1", "W2", "W3", "W4"],
        "dispute_id": ["D1", "D2", "D3", "DX"],
        "issued_at": [dt.datetime(2024, 3, 5), dt.datetime(2024, 2, 10),
                      dt.datetime(2024, 3, 20), dt.datetime(2024, 2, 1)],
    })  # fmt: skip
    out = warning_outcomes(ds, rows, horizon_days=30)
    assert out["outcome"].tolist()[:2] == [1.0, 0.0]  # an incident on 04-01 within 30 days
    assert out["outcome"].isna().tolist()[2:] == [True, True]  # horizon runs past; unknown case
    shifted = warning_outcomes(
        ds, rows, horizon_days=30, to_local=lambda t: t + dt.timedelta(days=30)
    )
    assert shifted["outcome"].isna().all()  # issued a month later: no horizon has passed


@pytest.fixture(scope="module")
def small_dir(tmp_path_factory):  # type: ignore[no-untyped-def]
    sim = county(0.5, persons=30_000, seed=3)
    return sim.write(tmp_path_factory.mktemp("looped") / "county", "parquet")


def test_the_command_prints_outcomes_caution_and_effects(small_dir, cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "report.json"
    done = cli("evaluate-warnings", str(small_dir), "--out", str(out), "--bootstrap", "50")
    assert done.returncode == 0, done.stderr
    assert "Outcomes by tier" in done.stdout and CAUTION in done.stdout
    assert "stepped rollout" in done.stdout and "naive" in done.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["warnings"] > 0 and len(report["effects"]) == 3
    assert report["caution"] == CAUTION


def test_the_command_refuses_data_it_cannot_evaluate(small_dir, cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from riskwarn import load_dataset

    plain = load_dataset(small_dir)
    bare = write_dataset(plain, tmp_path / "bare", "parquet")  # no _truth/ beside it
    done = cli("evaluate-warnings", str(bare))
    assert done.returncode == 1 and "--model" in done.stderr
    done = cli("evaluate-warnings", str(small_dir), "--min-tier", "purple")
    assert done.returncode == 1 and "purple" in done.stderr
