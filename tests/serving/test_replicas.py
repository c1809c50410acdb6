"""Province deployment without containers: an MLflow tracking server backed by PostgreSQL
(train, register and promote through it), and two ``riskwarn serve`` replicas on one
PostgreSQL store that load their model from that server. A record ingested through one
replica is scored by the other, and every score either replica gives is audited exactly
once in the shared store."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from riskwarn.serving import Store, create_key
from riskwarn.training import LGBMConfig, TrainConfig, load_model, promote, train

from .conftest import Served, Serving, free_port, fresh_database

MLFLOW = str(Path(sys.executable).with_name("mlflow"))


@pytest.fixture(scope="module")
def tracking(postgres: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``mlflow server`` on its own PostgreSQL database, artifacts proxied to a folder."""
    db = fresh_database(postgres).replace("postgresql://", "postgresql+psycopg://")
    port = free_port()
    artifacts = tmp_path_factory.mktemp("artifacts")
    proc = subprocess.Popen(
        [
            MLFLOW,
            "server",
            "--backend-store-uri",
            db,
            "--artifacts-destination",
            artifacts.as_uri(),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    try:
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"mlflow server exited: {proc.stderr.read()[-2000:]!r}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "mlflow server did not start"
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        proc.stderr.close()


@pytest.fixture(scope="module")
def champion(served: Served, tracking: str) -> Iterator[str]:
    """A model trained and registered through the server, promoted to champion. MLflow's
    set_tracking_uri also sets MLFLOW_TRACKING_URI: both are put back for the modules after
    this one, whose services would otherwise look for their model on a stopped server."""
    import mlflow

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", os.environ.get("MLFLOW_TRACKING_URI", ""))
        config = TrainConfig(bootstrap=0, baselines=False, lgbm=LGBMConfig(n_estimators=80))
        outcome = train(served.data, config, tracking_uri=tracking, dataset=served.dataset)
        decision = promote(tracking)
        assert decision.promoted, decision
        yield str(outcome.run.model_version)
    mlflow.set_tracking_uri(served.tracking_uri)
    mlflow.set_registry_uri(served.tracking_uri)


def _records(grid: str) -> dict:
    return {
        "persons": [
            {"person_id": "RP-1", "gender": "male", "grid_id": grid, "birth_year": 1970},
            {"person_id": "RP-2", "gender": "female", "grid_id": grid},
        ],
        "disputes": [
            {
                "dispute_id": "RD-1",
                "reported_at": "2024-12-01T09:00:00",
                "grid_id": grid,
                "category": "debt",
                "source": "hotline",
                "threat_reported": True,
                "violence_reported": False,
                "weapon_mentioned": False,
            }
        ],
        "dispute_parties": [
            {"dispute_id": "RD-1", "person_id": "RP-1", "role": "claimant"},
            {"dispute_id": "RD-1", "person_id": "RP-2", "role": "respondent"},
        ],
    }


def test_two_replicas_share_one_store_and_the_registry_on_postgresql(
    served: Served, postgres: str, tracking: str, champion: str
) -> None:
    assert load_model(tracking_uri=tracking).version == champion
    url = fresh_database(postgres)
    store = Store(url).create()
    store.append_history(served.dataset.tables())
    scorer = {"Authorization": f"Bearer {create_key(store, 'scorer', 'platform')[1]}"}
    admin = {"Authorization": f"Bearer {create_key(store, 'admin', 'ops')[1]}"}
    env = {
        **os.environ,
        "RISKWARN_HOME": str(served.home),
        "MLFLOW_TRACKING_URI": tracking,
        "RISKWARN_DB_URL": url,
        "BENTOML_DO_NOT_TRACK": "True",
    }
    one, two = Serving(env, "--workers", "1"), Serving(env, "--workers", "1")
    try:
        for replica in (one, two):  # both serve the champion from the server's registry
            info = httpx.get(f"{replica.url}/v1/model", headers=scorer, timeout=30).json()
            assert info["version"] == champion
        grid = str(served.dataset.grids["grid_id"].iloc[0])
        r = httpx.post(f"{one.url}/v1/ingest", json=_records(grid), headers=admin, timeout=60)
        assert r.status_code == 200, r.text
        ingested = time.monotonic()
        body = {"dispute_id": "RD-1", "as_of": "2024-12-10"}
        while True:  # the other replica sees it once its copy is checked against the store
            got = httpx.post(f"{two.url}/v1/score", json=body, headers=scorer, timeout=60)
            if got.status_code == 200:
                break
            assert got.status_code == 404, got.text
            assert time.monotonic() - ingested < 30, "replica two never saw the ingest"
            time.sleep(0.1)
        assert 0.0 <= got.json()["risk"] <= 1.0
        ids = [got.json()["request_id"]]
        held = served.dataset.disputes["dispute_id"].iloc[:10].tolist()
        for i, dispute in enumerate(held):
            replica = (one, two)[i % 2]
            r = httpx.post(
                f"{replica.url}/v1/score",
                json={"dispute_id": dispute, "as_of": "2024-06-30"},
                headers=scorer,
                timeout=60,
            )
            assert r.status_code == 200, r.text
            ids.append(r.json()["request_id"])
    finally:
        one.stop()
        two.stop()
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        counts = dict(
            conn.execute(
                sa.text(
                    "SELECT request_id, count(*) FROM audit_log "
                    "WHERE request_id = ANY(:ids) GROUP BY request_id"
                ),
                {"ids": ids},
            ).all()
        )
    engine.dispose()
    store.close()
    assert counts == dict.fromkeys(ids, 1)  # every score audited exactly once
