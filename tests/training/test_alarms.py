"""The four alarm rules on planted months and drift, and silence without them."""

from __future__ import annotations

import datetime as dt

from riskwarn.training import FeatureDrift, Month, find_alarms

DATES = [dt.datetime(2024, 1, 1) + dt.timedelta(days=30 * i) for i in range(6)]
TOP = [f"f{i}" for i in range(12)]


def month(i: int, oe=(1.0, 0.8, 1.2), slope=(1.0, 0.7, 1.3), auc=(0.8, 0.7, 0.9), matured=True):  # type: ignore[no-untyped-def]
    figures = {"observed_expected": oe, "calibration_slope": slope, "roc_auc": auc}
    return Month(
        as_of=DATES[i],
        rows=400,
        matured=matured,
        events=10 if matured else None,
        estimated={"event_rate": 0.025, "roc_auc": 0.8},
        realised={k: {"value": v, "lo": lo, "hi": hi} for k, (v, lo, hi) in figures.items()}
        if matured
        else {},
        score_psi=0.01,
        score_ks=0.02,
    )


def drift(i: int, feature: str, psi: float) -> FeatureDrift:
    return FeatureDrift(
        as_of=DATES[i],
        feature=feature,
        kind="number",
        psi=psi,
        test="ks",
        statistic=0.1,
        p_value=0.5,
        missing_reference=0.0,
        missing_current=0.0,
        importance=0.1,
        weighted=0.1 * psi,
    )


def kinds(months, drifts=(), lo=0.75):  # type: ignore[no-untyped-def]
    return [
        (a.kind, a.as_of) for a in find_alarms(months, drifts, training_auc_lo=lo, top_features=TOP)
    ]


def test_silence_when_every_figure_is_within_its_bounds() -> None:
    months = [month(i) for i in range(6)]
    drifts = [drift(i, f, 0.1) for i in range(6) for f in TOP]
    assert kinds(months, drifts) == []


def test_observed_expected_outside_one_for_two_matured_months_in_a_row() -> None:
    low = (0.5, 0.3, 0.8)
    months = [
        month(0),
        month(1, oe=low),
        month(2),
        month(3, oe=low),
        month(4, oe=low),
        month(5, oe=low),
    ]
    # one month alone (1) is not enough; from the second of a run on, each month alarms
    assert kinds(months) == [("observed_expected", DATES[4]), ("observed_expected", DATES[5])]


def test_a_month_not_yet_matured_neither_alarms_nor_breaks_a_run() -> None:
    low = (0.5, 0.3, 0.8)
    months = [month(0, oe=low), month(1, oe=low), month(2, matured=False)]
    assert kinds(months) == [("observed_expected", DATES[1])]


def test_calibration_slope_outside_one_for_two_months_in_a_row() -> None:
    steep = (1.6, 1.2, 2.0)
    months = [month(0, slope=steep), month(1, slope=steep), month(2)]
    assert kinds(months) == [("calibration_slope", DATES[1])]


def test_auc_alarm_needs_the_whole_interval_below_the_training_lower_bound() -> None:
    months = [
        month(0, auc=(0.70, 0.60, 0.80)),  # point below 0.75, interval reaches above: quiet
        month(1, auc=(0.62, 0.52, 0.72)),  # wholly below: alarm
    ]
    assert kinds(months) == [("auc_below_training", DATES[1])]
    assert kinds(months, lo=None) == []  # a model without a training interval: no AUC rule


def test_psi_alarm_only_for_the_ten_most_important_features() -> None:
    months = [month(0, matured=False)]
    drifts = [drift(0, "f3", 0.3), drift(0, "f11", 0.9), drift(0, "f4", 0.25)]
    found = find_alarms(months, drifts, training_auc_lo=0.75, top_features=TOP)
    assert [(a.kind, a.feature) for a in found] == [("feature_psi", "f3")]
    assert "PSI 0.30 > 0.25" in found[0].message


def test_with_few_events_only_the_exact_observed_expected_decides() -> None:
    few = [
        month(i, oe=(0.3, 0.1, 0.7), slope=(2.0, 1.5, 2.5), auc=(0.5, 0.4, 0.6)) for i in range(2)
    ]
    few = [m.model_copy(update={"events": 5}) for m in few]
    # with 5 events a month the bootstrapped slope and AUC decide nothing; the exact O/E does
    assert kinds(few) == [("observed_expected", DATES[1])]
