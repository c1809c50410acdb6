"""Serving fixtures: a simulated county, a real model trained on it and registered in a
temporary MLflow SQLite store, a store file with its history and one key per role, and the
service running in process."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pytest
import sqlalchemy as sa

from riskwarn import Dataset, simulate, write_dataset
from riskwarn.serving import Store, create_key, service
from riskwarn.training import TrainConfig, train

from ._postgres import INSTALL, cluster, server_bin


@dataclass(frozen=True)
class Served:
    """What the serving tests share."""

    data: Path  # the county as a contract directory
    dataset: Dataset
    tracking_uri: str
    home: Path


_SERVED: list[Served] = []  # one county and model per session, wherever the fixture is used


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    if _SERVED:  # tests/riskwarn/test_client.py imports this fixture too
        yield _SERVED[0]
        return
    root = tmp_path_factory.mktemp("serving")
    home = root / "home"
    home.mkdir()
    dataset = simulate(persons=10000, years=3, seed=11)
    data = write_dataset(dataset, root / "county")
    tracking_uri = f"sqlite:///{root / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RISKWARN_HOME", str(home))
        mp.setenv("MLFLOW_TRACKING_URI", tracking_uri)
        mp.setenv("BENTOML_DO_NOT_TRACK", "True")
        mp.delenv("RISKWARN_DB_URL", raising=False)
        mp.delenv("RISKWARN_MODEL_URI", raising=False)
        outcome = train(
            data,
            TrainConfig(bootstrap=0, baselines=False),
            tracking_uri=tracking_uri,
            dataset=dataset,
        )
        mlflow.MlflowClient(tracking_uri).set_registered_model_alias(
            "riskwarn", "champion", outcome.run.model_version
        )
        _SERVED.append(Served(data, dataset, tracking_uri, home))
        yield _SERVED[0]
        _SERVED.clear()


@dataclass
class Keys:
    scorer: str
    supervisor: str
    admin: str

    def header(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, role)}"}


def case_body(dataset: Dataset, dispute: str, as_of: object) -> dict:
    """The full case of a held dispute as a request's ``case``: its row, its parties and its
    events up to ``as_of``."""
    import pandas as pd

    as_of = pd.Timestamp(as_of)
    row = dataset.disputes.loc[dataset.disputes["dispute_id"] == dispute].iloc[0]
    parties = dataset.dispute_parties.loc[dataset.dispute_parties["dispute_id"] == dispute]
    events = dataset.dispute_events.loc[
        (dataset.dispute_events["dispute_id"] == dispute) & (dataset.dispute_events["at"] <= as_of)
    ]
    amount = row["amount_involved"]
    return {
        "dispute": {
            "dispute_id": dispute,
            "reported_at": row["reported_at"].strftime("%Y-%m-%dT%H:%M:%S"),
            "grid_id": row["grid_id"],
            "category": row["category"],
            "source": row["source"],
            "threat_reported": bool(row["threat_reported"]),
            "violence_reported": bool(row["violence_reported"]),
            "weapon_mentioned": bool(row["weapon_mentioned"]),
            "amount_involved": None if pd.isna(amount) else float(amount),
        },
        "parties": [
            {"person_id": p, "role": r}
            for p, r in zip(parties["person_id"], parties["role"], strict=True)
        ],
        "events": [
            {"at": a.strftime("%Y-%m-%dT%H:%M:%S"), "kind": k}
            for a, k in zip(events["at"], events["kind"], strict=True)
        ],
    }


def fresh_store(served: Served, path: Path) -> tuple[Store, Keys]:
    """A store file holding the county's history and one key per role."""
    store = Store(f"sqlite:///{path}").create()
    store.append_history(served.dataset.tables())
    keys = Keys(
        scorer=create_key(store, "scorer", "platform")[1],
        supervisor=create_key(store, "supervisor", "county-centre")[1],
        admin=create_key(store, "admin", "ops")[1],
    )
    return store, keys


def make_client(app: object):  # type: ignore[no-untyped-def]
    """Starlette's TestClient; it warns that it prefers httpx2 (not in the lock)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        from starlette.testclient import TestClient
    return TestClient(app)


@dataclass
class App:
    client: object
    store: Store
    keys: Keys


def forget_bentoml_metrics() -> None:
    """Unregister BentoML's Prometheus collectors from the process registry.

    A BentoML app registers its request metrics once, as a server process builds it once;
    tests build one app per module, so each module's app clears the last one's first.
    """
    from prometheus_client import REGISTRY

    for collector, names in list(REGISTRY._collector_to_names.items()):
        if any(n.startswith("bentoml_") for n in names):
            REGISTRY.unregister(collector)


@pytest.fixture(scope="module")
def app(
    served: Served, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[App]:
    """The service in process over its own store file (one per test module); a module's
    ``APP_ENV`` dict sets more settings for its service."""
    path = tmp_path_factory.mktemp("store") / "service.db"
    store, keys = fresh_store(served, path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RISKWARN_DB_URL", f"sqlite:///{path}")
        for name, value in getattr(request.module, "APP_ENV", {}).items():
            mp.setenv(name, value)
        forget_bentoml_metrics()
        try:
            with make_client(service.to_asgi()) as client:
                yield App(client, store, keys)
        finally:
            forget_bentoml_metrics()


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A PostgreSQL cluster for this session; fails, saying what to install, without one."""
    bin_dir = server_bin()
    if bin_dir is None:
        pytest.fail(INSTALL)
    with cluster(bin_dir) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A new store, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'service.db'}"
    else:
        url = fresh_database(request.getfixturevalue("postgres"))
    made = Store(url).create()
    yield made
    made.close()


def fresh_database(server: str) -> str:
    """A new, empty database on the ``postgres`` cluster; its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(
        server.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    engine.dispose()
    return f"{server.rsplit('/', 1)[0]}/{name}"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_env(served: Served, db: Path) -> dict[str, str]:
    """The environment ``riskwarn serve`` runs in over the store file ``db``."""
    import os

    return {
        **os.environ,
        "RISKWARN_HOME": str(served.home),
        "MLFLOW_TRACKING_URI": served.tracking_uri,
        "RISKWARN_DB_URL": f"sqlite:///{db}",
        "BENTOML_DO_NOT_TRACK": "True",
    }


class Serving:
    """``riskwarn serve`` in a process of its own on a loopback port, ready when made."""

    def __init__(self, env: dict[str, str], *args: str, port: int | None = None) -> None:
        import subprocess
        import sys
        import time

        import httpx

        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        riskwarn = str(Path(sys.executable).with_name("riskwarn"))
        self.proc = subprocess.Popen(
            [riskwarn, "serve", "--port", str(self.port), *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + 180
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"the service exited: {self.proc.stderr.read()[-2000:]!r}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the service did not get ready"
            time.sleep(0.2)

    def workers(self) -> list[int]:
        """The pids of the worker processes (children of the master)."""
        found = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                lines = status.read_text().splitlines()
            except OSError:
                continue
            if any(line.split() == ["PPid:", str(self.proc.pid)] for line in lines):
                found.append(int(status.parent.name))
        return found

    def kill(self, workers: bool = True) -> list[int]:
        """``kill -9`` of the master, and of its workers too unless ``workers`` is False
        (they run in process groups of their own); the workers' pids."""
        import contextlib
        import os
        import signal

        found = self.workers()
        for pid in [self.proc.pid, *(found if workers else [])]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._close()
        return found

    def stop(self) -> None:
        import os
        import signal

        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=60)
        self._close()

    def _close(self) -> None:
        if self.proc.stderr is not None:
            self.proc.stderr.close()
