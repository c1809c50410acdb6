"""The service's own Prometheus series, beside BentoML's, on the same ``/metrics``.

- ``riskwarn_scores_total{endpoint, tier}``: cases answered, by the tier answered;
- ``riskwarn_model_info{version, registry_version, uri}``: 1 for the model served;
- ``riskwarn_store_newest_record_seconds``: the newest record the store holds (Unix time),
  so an alert can say when the history stops growing;
- ``riskwarn_request_seconds{endpoint}``: latency of each endpoint, a histogram;
- ``riskwarn_errors_total{endpoint, status}``: error answers by status;
- ``riskwarn_monitor_alarms{kind}``: alarms of the latest ``riskwarn monitor`` run on the
  served model, by kind (observed_expected, calibration_slope, auc_below_training,
  feature_psi), and ``riskwarn_monitor_observed_expected``: its latest matured O/E ratio,
  so a drift alarm reaches the same alerting as the service's own.

The series are made on first use, in the worker: BentoML sets up Prometheus' multiprocess
mode when a worker starts, after this module is imported, and ``prometheus_client`` must
not be set up before that (BentoML's metrics docs).
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_LOCK = threading.Lock()
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


@functools.cache
def _series() -> dict[str, Any]:
    import prometheus_client as prom

    return {
        "scores": prom.Counter(
            "riskwarn_scores", "Cases answered, by endpoint and tier.", ["endpoint", "tier"]
        ),
        "model": prom.Gauge(
            "riskwarn_model_info",
            "1 for the model served.",
            ["version", "registry_version", "uri"],
            multiprocess_mode="max",
        ),
        "newest": prom.Gauge(
            "riskwarn_store_newest_record_seconds",
            "The newest record the store holds, Unix time (its local time read in the "
            "county's time zone).",
            multiprocess_mode="max",
        ),
        "latency": prom.Histogram(
            "riskwarn_request_seconds",
            "Time to answer, by endpoint.",
            ["endpoint"],
            buckets=_BUCKETS,
        ),
        "errors": prom.Counter(
            "riskwarn_errors", "Error answers, by endpoint and status.", ["endpoint", "status"]
        ),
        "alarms": prom.Gauge(
            "riskwarn_monitor_alarms",
            "Alarms of the latest monitor run on the served model, by kind.",
            ["kind"],
            multiprocess_mode="max",
        ),
        "observed_expected": prom.Gauge(
            "riskwarn_monitor_observed_expected",
            "Observed/expected incidents in the latest matured month of the latest monitor run.",
            multiprocess_mode="max",
        ),
    }


def scored(endpoint: str, tiers: list[str]) -> None:
    counter = _series()["scores"]
    for tier in tiers:
        counter.labels(endpoint=endpoint, tier=tier).inc()


def answered(endpoint: str, seconds: float, status: int) -> None:
    _series()["latency"].labels(endpoint=endpoint).observe(seconds)
    if status >= 400:
        _series()["errors"].labels(endpoint=endpoint, status=str(status)).inc()


_SERVED: list[tuple[str, str, str]] = []


def model_served(version: str, registry_version: str, uri: str) -> None:
    """Mark this model as the one served (the one before goes to 0)."""
    gauge = _series()["model"]
    with _LOCK:
        for old in _SERVED:
            gauge.labels(*old).set(0)
        _SERVED[:] = [(version, registry_version, uri)]
        gauge.labels(version, registry_version, uri).set(1)


def store_newest(unix_seconds: float | None) -> None:
    if unix_seconds is not None:
        _series()["newest"].set(unix_seconds)


def monitored(summary: dict[str, Any] | None) -> None:
    """Publish the latest monitor run's alarms (``MonitorResult.summary()``); None: the
    served model was never monitored, every kind reads 0."""
    from riskwarn.training import ALARM_KINDS

    alarms = (summary or {}).get("alarms") or {}
    for kind in ALARM_KINDS:
        _series()["alarms"].labels(kind=kind).set(float(alarms.get(kind, 0)))
    ratio = (summary or {}).get("observed_expected")
    if ratio is not None:
        _series()["observed_expected"].set(float(ratio))
