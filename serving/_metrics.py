"""The service's own Prometheus series, beside BentoML's, on the same ``/metrics``.

- ``riskwarn_scores_total{endpoint, tier}``: cases answered, by the tier answered;
- ``riskwarn_model_info{version, registry_version, uri}``: 1 for the model served;
- ``riskwarn_store_newest_record_seconds``: the newest record the store holds (Unix time),
  so an alert can say when the history stops growing;
- ``riskwarn_request_seconds{endpoint}``: latency of each endpoint, a histogram;
- ``riskwarn_errors_total{endpoint, status}``: error answers by status.

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
