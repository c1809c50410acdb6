"""The API's declarations: scoring endpoints run in the worker's scoring threads, at most
``RISKWARN_THREADS`` at once, whatever the number of callers."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from riskwarn.serving._scorer import Scorer

from .conftest import App, Served

APP_ENV = {"RISKWARN_THREADS": "2"}


class Overlap:
    """Counts how many calls of a wrapped function run at the same time."""

    def __init__(self) -> None:
        self.now = self.most = 0
        self.lock = threading.Lock()

    def wrap(self, func):  # type: ignore[no-untyped-def]
        def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)
            try:
                time.sleep(0.15)  # long enough for every caller to be waiting
                return func(*args, **kwargs)
            finally:
                with self.lock:
                    self.now -= 1

        return counted


def _open_ids(served: Served, n: int) -> list[str]:
    from riskwarn.features import open_disputes

    return list(open_disputes(served.dataset, served.dataset.end.normalize())[:n])


@pytest.mark.parametrize(
    ("path", "role", "body"),
    [
        ("/v1/score", "scorer", lambda d: {"dispute_id": d}),
        ("/v1/explain", "supervisor", lambda d: {"dispute_id": d}),
        ("/v1/score_batch", "scorer", lambda d: {"cases": [{"dispute_id": d}]}),
    ],
)
def test_scoring_runs_in_as_many_threads_as_set(
    app: App, served: Served, monkeypatch: pytest.MonkeyPatch, path, role, body
) -> None:  # type: ignore[no-untyped-def]
    overlap = Overlap()
    monkeypatch.setattr(Scorer, "score", overlap.wrap(Scorer.score))
    ids = _open_ids(served, 6)
    headers = app.keys.header(role)

    def call(dispute: str) -> int:
        return app.client.post(path, json=body(dispute), headers=headers).status_code

    with ThreadPoolExecutor(len(ids)) as pool:
        statuses = list(pool.map(call, ids))
    assert statuses == [200] * len(ids)
    assert overlap.most == 2  # six callers, two scoring threads: never more, and both used


def test_other_endpoints_do_not_wait_for_scoring(
    app: App, served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow scoring call holds its scoring thread, not the service: the model card is
    answered meanwhile."""
    release = threading.Event()
    original = Scorer.score

    def slow(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        release.wait(10)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Scorer, "score", slow)
    ids = _open_ids(served, 2)
    scorer = app.keys.header("scorer")
    with ThreadPoolExecutor(3) as pool:
        held = [
            pool.submit(app.client.post, "/v1/score", json={"dispute_id": d}, headers=scorer)
            for d in ids
        ]
        time.sleep(0.3)
        started = time.monotonic()
        model = app.client.get("/v1/model", headers=scorer)
        waited = time.monotonic() - started
        release.set()
        assert [f.result().status_code for f in held] == [200, 200]
    assert model.status_code == 200 and waited < 5
