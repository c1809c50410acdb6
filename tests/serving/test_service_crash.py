"""``kill -9`` of the service at random moments of a large ingest: after each, the store
holds the whole batch with exactly one audit row under the request's id, or neither
(``benchmarks/fault_bench.py kill`` runs 50 trials of 80,000 records)."""

from __future__ import annotations

import json
import random
import sqlite3
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from riskwarn.serving import Store, create_key

from .conftest import Served, Serving, serve_env

RISKWARN = str(Path(sys.executable).with_name("riskwarn"))
TRIALS = 8
RECORDS = 20_000  # per batch, in four tables


def _batch(prefix: str, grid: str) -> bytes:
    n = RECORDS // 4
    return json.dumps(
        {
            "persons": [
                {"person_id": f"{prefix}P{i}", "gender": "male", "grid_id": grid} for i in range(n)
            ],
            "disputes": [
                {
                    "dispute_id": f"{prefix}D{i}",
                    "reported_at": "2024-06-01T09:00:00",
                    "grid_id": grid,
                    "category": "neighbor",
                    "source": "hotline",
                    "threat_reported": False,
                    "violence_reported": False,
                    "weapon_mentioned": False,
                }
                for i in range(n)
            ],
            "dispute_parties": [
                {"dispute_id": f"{prefix}D{i}", "person_id": f"{prefix}P{i}", "role": "claimant"}
                for i in range(n)
            ],
            "dispute_events": [
                {"dispute_id": f"{prefix}D{i}", "at": "2024-06-02T10:00:00", "kind": "visit"}
                for i in range(n)
            ],
        }
    ).encode()


def _held(db: Path, prefix: str, request_id: str) -> tuple[list[int], int]:
    conn = sqlite3.connect(db)
    try:
        rows = [
            conn.execute(f"SELECT count(*) FROM {t} WHERE {c} LIKE ?", (f"{prefix}%",)).fetchone()[
                0
            ]
            for t, c in (
                ("persons", "person_id"),
                ("disputes", "dispute_id"),
                ("dispute_parties", "dispute_id"),
                ("dispute_events", "dispute_id"),
            )
        ]
        audit = conn.execute(
            "SELECT count(*) FROM audit_log WHERE request_id = ?", (request_id,)
        ).fetchone()[0]
    finally:
        conn.close()
    return rows, audit


def _ingest(service: Serving, prefix: str, grid: str, headers: dict[str, str]) -> int:
    """POST one batch (request id ``kill-{prefix}``); its status, or 0 when the service died."""
    try:
        r = httpx.post(
            f"{service.url}/v1/ingest",
            content=_batch(prefix, grid),
            headers={**headers, "X-Request-ID": f"kill-{prefix}"},
            timeout=300,
        )
    except httpx.HTTPError:
        return 0
    return r.status_code


@pytest.mark.slow
def test_a_killed_ingest_leaves_the_whole_batch_with_its_audit_row_or_nothing(
    served: Served, tmp_path: Path
) -> None:
    db = tmp_path / "service.db"
    store = Store(f"sqlite:///{db}").create()
    store.append_history(served.dataset.tables())
    key = create_key(store, "admin")[1]
    store.close()
    env = serve_env(served, db)
    grid = str(served.dataset.grids["grid_id"].iloc[0])
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    # A whole ingest first, watching the store for the moment its transaction commits: the
    # kills then fall anywhere from reading the body to well after that commit.
    service = Serving(env)
    started, answered = time.monotonic(), []
    sender = threading.Thread(
        target=lambda: answered.append(_ingest(service, "K0-", grid, headers))
    )
    sender.start()
    while _held(db, "K0-", "kill-K0-")[1] == 0:
        assert time.monotonic() - started < 300, "the first ingest never committed"
        time.sleep(0.01)
    committed = time.monotonic() - started
    sender.join()
    assert answered == [200]
    service.kill()
    rng = random.Random(12)
    outcomes = []
    for k in range(1, TRIALS + 1):
        service = Serving(env)
        prefix = f"K{k}-"
        request_id = f"kill-{prefix}"
        sender = threading.Thread(target=_ingest, args=(service, prefix, grid, headers))
        sender.start()
        time.sleep(rng.uniform(0, committed * 2))
        service.kill()
        sender.join()
        rows, audit = _held(db, prefix, request_id)
        if rows == [RECORDS // 4] * 4 and audit == 1:
            outcomes.append("whole")
        elif rows == [0] * 4 and audit == 0:
            outcomes.append("nothing")
        else:
            pytest.fail(f"trial {k}: rows {rows} with {audit} audit rows")
    print(f"\n{TRIALS} kill -9 trials of {RECORDS:,} records: {outcomes}")
