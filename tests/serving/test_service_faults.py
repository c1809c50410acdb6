"""The service when its store fails under it: locked by another writer, corrupted, deleted.
The event loop stays free (liveness answers at once), readiness tells the truth, data
endpoints answer 503 with Retry-After in the one error body within the store's wait, and
everything recovers once the store does."""

from __future__ import annotations

import shutil
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .conftest import App, Served

APP_ENV = {"RISKWARN_STORE_WAIT": "2"}


def _open_id(served: Served) -> str:
    from riskwarn.features import open_disputes

    return open_disputes(served.dataset, served.dataset.end.normalize())[0]


def _score(app: App, dispute: str):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    r = app.client.post(
        "/v1/score", json={"dispute_id": dispute}, headers=app.keys.header("scorer")
    )
    return r, time.monotonic() - started


def test_a_locked_store_gives_503_in_bounded_time_and_liveness_stays_fast(
    app: App, served: Served
) -> None:
    dispute = _open_id(served)
    assert _score(app, dispute)[0].status_code == 200
    holder = sqlite3.connect(app.store.file, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        with ThreadPoolExecutor(6) as pool:
            scores = [pool.submit(_score, app, dispute) for _ in range(6)]
            ingest = pool.submit(
                app.client.post,
                "/v1/ingest",
                json={
                    "dispute_events": [{"dispute_id": dispute, "at": "2024-01-01", "kind": "visit"}]
                },
                headers=app.keys.header("admin"),
            )
            live = []
            while not all(f.done() for f in scores):
                started = time.monotonic()
                assert app.client.get("/livez").status_code == 200
                live.append(time.monotonic() - started)
                time.sleep(0.05)
            started = time.monotonic()
            ready = app.client.get("/readyz")
            ready_after = time.monotonic() - started
        assert max(live) < 0.1, f"/livez took up to {max(live):.3f} s while the store was locked"
        assert ready.status_code == 503 and ready_after < 5
        for future in [*scores]:
            r, took = future.result()
            assert r.status_code == 503 and took < 5, (r.status_code, took)
            assert r.headers["retry-after"] == "2"
            body = r.json()
            assert set(body) == {"error", "detail", "issues", "request_id"}
            assert "did not answer within 2 s" in body["error"]
        r = ingest.result()
        assert r.status_code == 503 and r.headers["retry-after"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert app.client.get("/readyz").status_code == 200
    assert _score(app, dispute)[0].status_code == 200


def test_a_corrupted_store_is_not_ready_and_answers_503(app: App, served: Served) -> None:
    dispute = _open_id(served)
    path: Path = app.store.file  # type: ignore[assignment]
    with app.store.engine.connect() as conn:  # a quiet store: every page in the file
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    saved = path.with_suffix(".saved")
    shutil.copyfile(path, saved)
    try:
        size = path.stat().st_size
        with path.open("r+b") as fh:  # a bad restore: the same size, nothing of SQLite's
            fh.write((b"garbage!" * (size // 8 + 1))[:size])
        ready = app.client.get("/readyz")
        assert ready.status_code == 503
        r = _score(app, dispute)[0]
        assert r.status_code == 503 and r.json()["request_id"] == r.headers["x-request-id"]
    finally:
        with saved.open("rb") as src, path.open("r+b") as dst:
            shutil.copyfileobj(src, dst)
        saved.unlink()
    app.store.engine.dispose()
    assert app.client.get("/readyz").status_code == 200


def test_a_store_deleted_while_serving_is_not_written_on(app: App, served: Served) -> None:
    """(Last in this module: the store does not come back.)"""
    dispute = _open_id(served)
    path: Path = app.store.file  # type: ignore[assignment]
    path.rename(path.with_name("moved.db"))
    r = app.client.post(
        "/v1/ingest",
        json={"dispute_events": [{"dispute_id": dispute, "at": "2024-01-01", "kind": "visit"}]},
        headers=app.keys.header("admin"),
    )
    assert r.status_code == 503 and "deleted or replaced" in r.json()["error"]
    assert not path.exists()  # nothing made a new, empty store in its place
    assert app.client.get("/readyz").status_code == 503
    assert _score(app, dispute)[0].status_code == 503
    assert app.client.get("/livez").status_code == 200
