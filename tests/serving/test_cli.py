"""The serving commands through the installed ``riskwarn`` entry point: keys, history, and
``serve`` for real (BentoML on a loopback port), including its refusals."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from riskwarn.client import RiskClient
from riskwarn.serving import Store, create_key

from .conftest import Served, Serving, free_port, serve_env

RISKWARN = str(Path(sys.executable).with_name("riskwarn"))


_env = serve_env


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([RISKWARN, *args], capture_output=True, text=True, timeout=300, env=env)


def test_keys_create_list_revoke(served: Served, tmp_path: Path) -> None:
    env = _env(served, tmp_path / "service.db")
    made = run(env, "keys", "create", "--role", "scorer", "--name", "platform")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("rwk_")
    listed = run(env, "keys", "list")
    assert "platform\tscorer" in listed.stdout and key not in listed.stdout
    revoked = run(env, "keys", "revoke", "platform")
    assert revoked.returncode == 0 and "revoked platform" in revoked.stdout
    assert Store(f"sqlite:///{tmp_path / 'service.db'}").list_keys()[0]["revoked_at"] is not None


def test_history_load_refuses_to_mix(served: Served, tmp_path: Path) -> None:
    db = tmp_path / "service.db"
    env = _env(served, db)
    loaded = run(env, "history", "load", str(served.data))
    assert loaded.returncode == 0, loaded.stderr
    assert f"{len(served.dataset.disputes)} disputes" in loaded.stdout
    again = run(env, "history", "load", str(served.data))
    assert again.returncode == 1 and "--replace" in again.stderr
    counts = Store(f"sqlite:///{db}").history_counts()
    assert counts["disputes"] == len(served.dataset.disputes)


def test_serve_refuses_a_missing_model_with_one_line(served: Served, tmp_path: Path) -> None:
    env = _env(served, tmp_path / "service.db")
    result = run(env, "serve", "--model", "models:/riskwarn@nobody", "--port", "1")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "models:/riskwarn@nobody" in lines[0], result.stderr


@pytest.fixture
def server(served: Served, tmp_path: Path) -> Iterator[tuple[Serving, dict[str, str]]]:
    db = tmp_path / "service.db"
    key = create_key(Store(f"sqlite:///{db}").create(), "scorer")[1]
    service = Serving(_env(served, db), "--data", str(served.data), "--threads", "3")
    try:
        yield service, {"scorer": key}
    finally:
        service.stop()


@pytest.mark.slow
def test_serve_answers_over_http(server: tuple[Serving, dict[str, str]], served: Served) -> None:
    service, keys = server
    url = service.url
    # the workers allocate from two glibc arenas (their memory stays flat under load)
    [worker] = service.workers()
    environ = Path(f"/proc/{worker}/environ").read_bytes().split(b"\0")
    assert b"MALLOC_ARENA_MAX=2" in environ
    assert b"RISKWARN_THREADS=3" in environ  # --threads reaches the worker's settings
    [dispute] = served.dataset.disputes["dispute_id"].iloc[-1:]
    with RiskClient(url, keys["scorer"]) as client:
        answer = client.score(dispute, as_of=served.dataset.end.normalize())
    assert 0 <= answer["risk"] <= 1
    assert httpx.get(f"{url}/livez").status_code == 200
    # an idle connection stays open longer than a client's keep-alive (httpx drops its own
    # after 5 s): a request sent on it then is answered, not reset
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        for _ in range(2):
            conn.request("GET", "/livez")  # the second on the same socket, 6 s idle later
            answer = conn.getresponse()  # a reset connection raises RemoteDisconnected
            assert answer.status == 200
            answer.read()
            time.sleep(6)
    finally:
        conn.close()
    assert httpx.get(f"{url}/metrics").status_code == 401
    metrics = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {keys['scorer']}"})
    assert metrics.status_code == 200 and "bentoml_service_request" in metrics.text
    for series in (
        'riskwarn_scores_total{endpoint="score",tier="',
        "riskwarn_model_info{",
        "riskwarn_monitor_alarms{kind=",
        "riskwarn_store_newest_record_seconds ",
        'riskwarn_request_seconds_bucket{endpoint="score"',
    ):
        assert series in metrics.text, series


@pytest.fixture(scope="module")
def stale_model(served: Served, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The champion registered again as ``riskwarn@stale``, claiming another feature
    registry version (as a model trained by an older riskwarn would)."""
    import json

    import mlflow

    client = mlflow.MlflowClient(served.tracking_uri)
    version = client.get_model_version_by_alias("riskwarn", "champion").version
    local = tmp_path_factory.mktemp("stale")
    mlflow.set_tracking_uri(served.tracking_uri)
    path = Path(
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/riskwarn/{version}", dst_path=str(local)
        )
    )
    [meta] = list(path.glob("artifacts/*/metadata.json"))
    meta.write_text(json.dumps(json.loads(meta.read_text()) | {"registry_version": "0-old"}))
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(path), "model")
    made = mlflow.register_model(f"runs:/{run.info.run_id}/model", "riskwarn")
    client.set_registered_model_alias("riskwarn", "stale", made.version)
    return "models:/riskwarn@stale"


def test_serve_refuses_a_model_of_another_registry_in_one_line(
    served: Served, stale_model: str, tmp_path: Path
) -> None:
    env = _env(served, tmp_path / "service.db")
    result = run(env, "serve", "--model", stale_model, "--port", "1")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "registry" in lines[0] and "0-old" in lines[0] and "retrain" in lines[0]


def _loaded_store(served: Served, db: Path, keys: bool = True) -> None:
    store = Store(f"sqlite:///{db}").create()
    store.append_history(served.dataset.tables())
    if keys:
        create_key(store, "scorer")
    store.close()


def test_serve_refuses_a_store_it_cannot_serve_in_one_line(served: Served, tmp_path: Path) -> None:
    """No store file (deleted?), a file that is not riskwarn's, a store without disputes or
    without a live key: each refused before any worker starts, and nothing is made."""
    import sqlalchemy as sa

    cases = {}
    cases["missing"] = (tmp_path / "gone.db", "no store at")
    foreign = tmp_path / "mlflow.db"
    with sa.create_engine(f"sqlite:///{foreign}").begin() as conn:
        conn.exec_driver_sql("CREATE TABLE experiments (id INTEGER)")
    cases["foreign"] = (foreign, "is not a riskwarn store")
    empty = tmp_path / "empty.db"
    create_key(Store(f"sqlite:///{empty}").create(), "scorer")
    cases["no history"] = (empty, "holds no disputes")
    keyless = tmp_path / "keyless.db"
    _loaded_store(served, keyless, keys=False)
    cases["no keys"] = (keyless, "no live API key")
    for what, (db, message) in cases.items():
        result = run(_env(served, db), "serve", "--port", str(free_port()))
        assert result.returncode == 1, (what, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (what, result.stderr)
        assert "serving" not in result.stderr
    assert not (tmp_path / "gone.db").exists()


def test_serve_on_a_port_in_use_says_so_in_one_line(served: Served, tmp_path: Path) -> None:
    db = tmp_path / "service.db"
    _loaded_store(served, db)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(_env(served, db), "serve", "--port", str(port))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"port {port} on 127.0.0.1 is in use" in lines[0], result.stderr


@pytest.mark.slow
def test_a_killed_master_takes_its_workers_and_the_port_with_it(
    served: Served, tmp_path: Path
) -> None:
    db = tmp_path / "service.db"
    _loaded_store(served, db)
    service = Serving(_env(served, db))
    workers = service.kill(workers=False)
    assert workers, "expected worker processes under the master"
    deadline = time.monotonic() + 20
    while any(Path(f"/proc/{w}").exists() for w in workers):
        assert time.monotonic() < deadline, "a worker outlived its master"
        time.sleep(0.2)
    again = Serving(_env(served, db), port=service.port)  # the port is free: a restart serves
    again.stop()


# records: people's data rights ----------------------------------------------------------


def _records_env(tmp_path: Path) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKWARN_")}
    env["RISKWARN_HOME"] = str(tmp_path / "home")
    return env


def test_records_correct_history_lineage_and_a_refusal(good: Path, tmp_path: Path) -> None:
    env, db = _records_env(tmp_path), f"sqlite:///{tmp_path / 'service.db'}"
    assert run(env, "history", "load", str(good), "--db", db).returncode == 0
    fix = ["records", "correct", "persons", "--id", "P1", "--db", db, "--no-recompute"]
    first = run(env, *fix, "--set", "birth_year=1981", "--reason", "ID card checked")
    assert first.returncode == 0, first.stderr
    assert "correction #1 of persons 'P1'" in first.stdout and "birth_year" in first.stdout
    assert "influenced: 2 own disputes" in first.stdout  # D1 and D3
    second = run(env, *fix, "--set", "birth_year=1982", "--reason", "typo")
    assert "superseding correction #1" in second.stdout, second.stderr
    refused = run(env, *fix, "--set", "gender=mle", "--reason", "x")
    assert refused.returncode == 1 and "gender" in refused.stderr and "male" in refused.stderr
    chain = run(env, "records", "history", "persons", "--id", "P1", "--db", db).stdout
    assert len(chain.strip().splitlines()) == 2 and "(supersedes #1)" in chain
    assert Store(db).read_dataset().persons.set_index("person_id").loc["P1", "birth_year"] == 1982
    lineage = run(env, "records", "lineage", "persons", "--id", "P1", "--db", db)
    assert "own disputes: D1, D3" in lineage.stdout, lineage.stderr


def test_records_expire_dry_run_then_apply_once(good: Path, tmp_path: Path) -> None:
    env, db = _records_env(tmp_path), f"sqlite:///{tmp_path / 'service.db'}"
    assert run(env, "history", "load", str(good), "--db", db).returncode == 0
    expire = ["records", "expire", "--at", "2030-01-01", "--db", db, "--no-recompute"]
    before = Store(db).read_dataset().digest()
    dry = run(env, *expire)
    assert dry.returncode == 0, dry.stderr
    assert "dry run" in dry.stdout and "2 petitions" in dry.stdout
    assert Store(db).read_dataset().digest() == before
    applied = run(env, *expire, "--apply")
    assert "expired and deleted: 1 person_flags, 1 relationships, 2 petitions" in applied.stdout
    again = run(env, *expire, "--apply")
    assert "expired and deleted: nothing" in again.stdout, again.stderr
    actions = [e["action"] for e in Store(db).audit_entries()]
    assert actions.count("records:expire") == 1
