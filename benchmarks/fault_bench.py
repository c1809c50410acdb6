"""How does the service hold up under faults and hostile input? The figures of issue 12.

Runs ``riskwarn serve`` (one worker, loopback) over a simulated county and measures:

- ``kill``: N trials of ``kill -9`` of the service (master and worker) at a random moment
  of a large ingest; after each, the store holds the whole batch with exactly one audit
  row, or neither. Target: 0 batches without their audit row, 0 half batches.
- ``lock``: another process holds the store's write lock for 30 s. Targets: ``/livez``
  under 100 ms throughout, ``/readyz`` and the data endpoints 503 within 5 s, full
  recovery after.
- ``fuzz``: schemathesis with every check it has, at least 3,000 cases over all
  operations (positive and negative data), plus bodies sent as multipart (with and without
  a boundary), as text and form data, and JSON nested 1,000 and 30,000 levels deep.
  Target: 0 answers 5xx.
- ``soak``: 32 clients on loopback for 10 minutes. Targets: 0 errors, every score audited
  exactly once, the worker's memory flat after the first minute (start, 1 min, end).

    python benchmarks/fault_bench.py                       # all four, in a temp folder
    python benchmarks/fault_bench.py kill --trials 50 --records 80000
    python benchmarks/fault_bench.py soak --seconds 600 --clients 32 --out soak.json

Timings depend on the machine and what else runs on it; each figure prints beside its
target.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))  # serve_bench, a sibling script
from serve_bench import BIN, free_port, prepare

# the service ------------------------------------------------------------------------------


STARTED: list[Service] = []  # stopped at exit, whatever happened


class Service:
    """``riskwarn serve`` over ``db`` in its own process group."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        STARTED.append(self)
        self.env, self.log = env, log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 180) -> float:
        """Start and wait until ``/readyz`` says ready; the seconds it took."""
        started = time.monotonic()
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(
                [str(BIN / "riskwarn"), "serve", "--port", str(self.port)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"riskwarn serve exited early; see {self.log}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"not ready after {timeout} s; see {self.log}")
            time.sleep(0.2)

    def kill(self) -> None:
        """``kill -9`` of the whole service: master and workers at once (the workers run in
        process groups of their own)."""
        assert self.proc is not None
        for pid in [self.proc.pid, *self.worker_pids()]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()

    def worker_pids(self) -> list[int]:
        assert self.proc is not None
        out = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                text = status.read_text()
            except OSError:
                continue
            ppid = next((ln.split()[1] for ln in text.splitlines() if ln.startswith("PPid:")), "")
            if ppid == str(self.proc.pid):
                out.append(int(status.parent.name))
        return out


def rss_mib(pid: int) -> float:
    return _status(pid, "VmRSS") / 1024


def threads(pid: int) -> int:
    return int(_status(pid, "Threads"))


def _status(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return float(line.split()[1])
    return float("nan")


def setup(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    """A county loaded into a store, a model, a key per role, and the environment to serve."""
    from riskwarn.serving import Store, create_key

    state = prepare(args, root)
    db = root / "service.db"
    store = Store(f"sqlite:///{db}").create()
    store.replace_history(state["dataset"].tables())
    state["keys"] = {
        role: create_key(store, role, f"bench-{role}")[1]
        for role in ("scorer", "supervisor", "admin")
    }
    store.close()
    state["db"] = db
    state["env"]["RISKWARN_DB_URL"] = f"sqlite:///{db}"
    return state


def auth(key: str, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **more}


def open_ids(dataset: Any, n: int) -> tuple[list[str], str]:
    from riskwarn.features import open_disputes

    as_of = dataset.end.normalize()
    return list(open_disputes(dataset, as_of)[:n]), f"{as_of:%Y-%m-%d}"


# kill -9 during ingest ------------------------------------------------------------------------


def batch(prefix: str, grid: str, records: int) -> dict[str, list[dict]]:
    """``records`` new contract records in four tables, every id starting with ``prefix``."""
    n = max(1, records // 4)
    persons = [
        {"person_id": f"{prefix}P{i}", "gender": "female", "grid_id": grid} for i in range(n)
    ]
    disputes = [
        {
            "dispute_id": f"{prefix}D{i}",
            "reported_at": "2024-06-01T09:00:00",
            "grid_id": grid,
            "category": "debt",
            "source": "hotline",
            "threat_reported": False,
            "violence_reported": False,
            "weapon_mentioned": False,
        }
        for i in range(n)
    ]
    parties = [
        {"dispute_id": f"{prefix}D{i}", "person_id": f"{prefix}P{i}", "role": "claimant"}
        for i in range(n)
    ]
    events = [
        {"dispute_id": f"{prefix}D{i}", "at": "2024-06-02T10:00:00", "kind": "visit"}
        for i in range(n)
    ]
    return {
        "persons": persons,
        "disputes": disputes,
        "dispute_parties": parties,
        "dispute_events": events,
    }


def held(db: Path, prefix: str, request_id: str) -> tuple[dict[str, int], int]:
    """Rows of the batch ``prefix`` per table, and audit rows of ``request_id``."""
    conn = sqlite3.connect(db)
    try:
        counts = {
            table: conn.execute(
                f"SELECT count(*) FROM {table} WHERE {column} LIKE ?", (f"{prefix}%",)
            ).fetchone()[0]
            for table, column in (
                ("persons", "person_id"),
                ("disputes", "dispute_id"),
                ("dispute_parties", "dispute_id"),
                ("dispute_events", "dispute_id"),
            )
        }
        audit = conn.execute(
            "SELECT count(*) FROM audit_log WHERE request_id = ? AND action = 'ingest'",
            (request_id,),
        ).fetchone()[0]
    finally:
        conn.close()
    return counts, audit


def kill_trials(state: dict, root: Path, trials: int, records: int, seed: int) -> dict:
    rng = random.Random(seed)
    grid = str(state["dataset"].grids["grid_id"].iloc[0])
    service = Service(state["env"], root / "kill.log")
    headers = auth(state["keys"]["admin"], **{"Content-Type": "application/json"})
    # A small ingest to warm up, then a whole one, watching the store for the moment its
    # transaction commits: the kills fall anywhere from reading the body to well after it.
    starts = [service.start()]
    warm = json.dumps(batch("W0-", grid, 8)).encode()
    httpx.post(f"{service.url}/v1/ingest", content=warm, headers=headers).raise_for_status()
    body = json.dumps(batch("K0-", grid, records)).encode()
    answered: list[int] = []
    t = time.monotonic()
    sender = threading.Thread(
        target=lambda: answered.append(
            httpx.post(
                f"{service.url}/v1/ingest",
                content=body,
                timeout=600,
                headers={**headers, "X-Request-ID": "kill-0"},
            ).status_code
        )
    )
    sender.start()
    while held(state["db"], "K0-", "kill-0")[1] == 0:
        time.sleep(0.01)
    committed = time.monotonic() - t
    sender.join()
    full = time.monotonic() - t
    assert answered == [200], answered
    service.kill()
    outcomes: Counter[str] = Counter()
    problems = []
    for k in range(1, trials + 1):
        starts.append(service.start())
        prefix, request_id = f"K{k}-", f"kill-{k}"
        body = json.dumps(batch(prefix, grid, records)).encode()
        answered: list[int] = []

        def send(
            body: bytes = body, request_id: str = request_id, answered: list = answered
        ) -> None:
            try:
                answer = httpx.post(
                    f"{service.url}/v1/ingest",
                    content=body,
                    timeout=600,
                    headers={**headers, "X-Request-ID": request_id},
                )
                answered.append(answer.status_code)
            except httpx.HTTPError:
                answered.append(0)

        sender = threading.Thread(target=send)
        sender.start()
        time.sleep(rng.uniform(0, committed * 2))
        service.kill()
        sender.join()
        counts, audit = held(state["db"], prefix, request_id)
        whole = all(v == records // 4 for v in counts.values())
        empty = not any(counts.values())
        if whole and audit == 1:
            outcomes["whole batch with its audit row"] += 1
        elif empty and audit == 0:
            outcomes["nothing written"] += 1
        else:
            outcomes["BROKEN"] += 1
            problems.append({"trial": k, "rows": counts, "audit_rows": audit})
        if answered and answered[0] == 200:
            outcomes["answered 200 before the kill"] += 1
    service.stop()
    return {
        "trials": trials,
        "records_per_batch": 4 * (records // 4),
        "full_ingest_seconds": round(full, 2),
        "commit_after_seconds": round(committed, 2),
        "start_seconds_median": round(float(np.median(starts)), 1),
        "outcomes": dict(outcomes),
        "batches_without_audit_row": sum(1 for p in problems if p["audit_rows"] == 0),
        "half_batches": sum(1 for p in problems if 0 < sum(p["rows"].values()) < records // 4 * 4),
        "problems": problems,
    }


# store locked for 30 s -----------------------------------------------------------------------


def lock_trial(state: dict, root: Path, seconds: float) -> dict:
    service = Service(state["env"], root / "lock.log")
    service.start()
    ids, as_of = open_ids(state["dataset"], 1)
    score = {"dispute_id": ids[0], "as_of": as_of}
    headers = auth(state["keys"]["scorer"])
    httpx.post(f"{service.url}/v1/score", json=score, headers=headers).raise_for_status()
    holder = sqlite3.connect(state["db"], isolation_level=None, timeout=30)
    holder.execute("BEGIN IMMEDIATE")
    locked_at = time.monotonic()
    live: list[float] = []
    data: list[tuple[int, float]] = []
    readyz: list[tuple[int, float]] = []

    def probe_data() -> None:
        while time.monotonic() - locked_at < seconds - 5:
            t = time.monotonic()
            r = httpx.post(f"{service.url}/v1/score", json=score, headers=headers, timeout=30)
            data.append((r.status_code, time.monotonic() - t))
            time.sleep(0.5)

    def probe_ready() -> None:
        while time.monotonic() - locked_at < seconds - 5:
            t = time.monotonic()
            r = httpx.get(f"{service.url}/readyz", timeout=30)
            readyz.append((r.status_code, time.monotonic() - t))
            time.sleep(1)

    threads = [threading.Thread(target=probe_data), threading.Thread(target=probe_ready)]
    for th in threads:
        th.start()
    with httpx.Client(timeout=5) as client:
        while time.monotonic() - locked_at < seconds:
            t = time.monotonic()
            client.get(f"{service.url}/livez").raise_for_status()
            live.append(time.monotonic() - t)
            time.sleep(0.1)
    for th in threads:
        th.join()
    holder.execute("ROLLBACK")
    holder.close()
    released = time.monotonic()
    while True:
        r = httpx.post(f"{service.url}/v1/score", json=score, headers=headers, timeout=30)
        ready = httpx.get(f"{service.url}/readyz", timeout=30).status_code
        if r.status_code == 200 and ready == 200:
            break
        time.sleep(0.1)
    recovered = time.monotonic() - released
    service.stop()
    statuses = Counter(s for s, _ in data)
    return {
        "locked_seconds": seconds,
        "livez_requests": len(live),
        "livez_max_ms": round(max(live) * 1000, 1),
        "livez_p99_ms": round(float(np.percentile(live, 99)) * 1000, 1),
        "readyz_statuses": dict(Counter(s for s, _ in readyz)),
        "readyz_max_seconds": round(max(t for _, t in readyz), 2),
        "score_statuses": dict(statuses),
        "score_max_seconds": round(max(t for _, t in data), 2),
        "recovery_seconds": round(recovered, 2),
    }


# schemathesis ----------------------------------------------------------------------------------


def fuzz(state: dict, root: Path, cases: int) -> dict:
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    service = Service(state["env"], root / "fuzz.log")
    service.start()
    admin = auth(state["keys"]["admin"])
    spec = httpx.get(f"{service.url}/docs.json").json()
    # Schema-valid data may still name a dispute the store lacks (404), an as_of before its
    # registration (400) or records the contract refuses (422): the API documents these.
    config = schemathesis.config.SchemathesisConfig.from_dict(
        {"checks": {"positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES}}}
    )
    schema = schemathesis.openapi.from_dict(spec, config=config)
    operations = [result.ok() for result in schema.get_all_operations()]
    modes = list(schemathesis.GenerationMode)
    weight = sum(HEAVY.get(op.path, 1) for op in operations) * len(modes)
    per_run = max(1, int(cases / weight) + 1)
    statuses: Counter[int] = Counter()
    failures: Counter[str] = Counter()
    examples: dict[str, str] = {}
    sent = 0
    timeouts = 0
    with httpx.Client(base_url=service.url, timeout=600) as client:

        def send(case: schemathesis.Case) -> None:
            nonlocal sent, timeouts
            if (
                case.path == "/v1/reload"
                and isinstance(case.body, dict)
                and not case.body.get("model")
            ):
                case.body = {"model": "models:/riskwarn@no-such-alias"}  # a real one takes 1 s
            kwargs = case.as_transport_kwargs(base_url=service.url, headers=admin)
            kwargs.pop("cookies", None)
            if isinstance(kwargs.get("data"), (bytes, str)):
                kwargs["content"] = kwargs.pop("data")
            try:
                response = client.request(**kwargs)
            except httpx.TimeoutException:
                timeouts += 1
                return
            sent += 1
            statuses[response.status_code] += 1
            try:
                case.validate_response(response, headers=admin)
            except (Exception, BaseExceptionGroup) as exc:  # failed checks: count them by name
                name = type(exc).__name__
                for line in str(exc).splitlines():
                    if line.startswith("- "):
                        name = line[2:].strip()
                        break
                failures[name] += 1
                examples.setdefault(name, f"{case.method} {case.path}: {str(exc)[:300]}")

        for operation in operations:
            # a snapshot scores every open dispute, a batch up to 1,000: fewer of those
            share = HEAVY.get(operation.path, 1)
            examples_here = max(5, int(per_run * share))
            for mode in modes:

                @given(case=operation.as_strategy(generation_mode=mode))
                @settings(
                    max_examples=examples_here,
                    deadline=None,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                )
                def run(case: schemathesis.Case) -> None:
                    send(case)

                run()
        hostile = hostile_bodies()
        for path in (
            "/v1/score",
            "/v1/score_batch",
            "/v1/explain",
            "/v1/ingest",
            "/v1/reload",
            "/v1/snapshot",
        ):
            for content_type, body in hostile:
                headers = dict(admin)
                if content_type is not None:
                    headers["Content-Type"] = content_type
                response = client.post(path, content=body, headers=headers)
                sent += 1
                statuses[response.status_code] += 1
                body_json = response.json()
                if set(body_json) != {"error", "detail", "issues", "request_id"}:
                    failures["hostile body answered outside the error shape"] += 1
    service.stop()
    server_errors = sum(n for s, n in statuses.items() if s >= 500)
    return {
        "cases": sent,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "server_errors": server_errors,
        "client_timeouts_600s": timeouts,
        "check_failures": dict(failures),
        "check_failure_examples": examples,
    }


MULTIPART_FIELD = b'--xyz\r\nContent-Disposition: form-data; name="model"\r\n\r\nx\r\n--xyz--\r\n'


POSITIVE_STATUSES = ["2xx", "400", "401", "403", "404", "409", "422", "429"]
HEAVY = {"/v1/snapshot": 1 / 8, "/v1/score_batch": 1 / 2}


def hostile_bodies() -> list[tuple[str | None, bytes]]:
    deep = 1000
    deeper = 30_000
    return [
        ("multipart/form-data", b"garbage"),
        ("multipart/form-data; boundary=xyz", b"--xyz\r\ngarbage\r\n--xyz--\r\n"),
        ("multipart/form-data; boundary=xyz", MULTIPART_FIELD),
        ("text/plain", b'{"dispute_id": "D1"}'),
        ("application/x-www-form-urlencoded", b"dispute_id=D1"),
        (None, b'{"dispute_id": "D1"}'),
        ("application/json", b"[" * deep + b"]" * deep),
        ("application/json", b'{"cases": ' + b"[" * deeper + b"]" * deeper + b"}"),
        ("application/json", b'{"dispute_id": "\xff\xfe"}'),
        ("application/json", b'{"dispute_id": "D1", "top_k": 1' + b"0" * 5000 + b"}"),
        ("application/json", b'{"dispute_id": "\\ud800"}'),
        ("application/json", b'{"as_of": "9999-99-99", "dispute_id": "D1"}'),
        ("application/json", b""),
    ]


# the soak -------------------------------------------------------------------------------------


def soak(state: dict, root: Path, seconds: float, clients: int) -> dict:
    service = Service(state["env"], root / "soak.log")
    service.start()
    ids, as_of = open_ids(state["dataset"], 500)
    key = state["keys"]["scorer"]
    [worker] = service.worker_pids()
    statuses: Counter[int] = Counter()
    failures: Counter[str] = Counter()
    ok_ids: list[str] = []
    memory: dict[str, float] = {}
    timeline: list[float] = []  # each further minute
    thread_counts: list[int] = []  # the worker's threads then

    async def main() -> float:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            stop = time.monotonic() + seconds

            async def one(i: int) -> None:
                rid = f"soak-{uuid.uuid4().hex[:16]}"
                body = {"dispute_id": ids[i % len(ids)], "as_of": as_of, "top_k": 5}
                try:
                    r = await client.post(
                        f"{service.url}/v1/score",
                        json=body,
                        headers=auth(key, **{"X-Request-ID": rid}),
                    )
                    statuses[r.status_code] += 1
                    if r.status_code == 200:
                        ok_ids.append(rid)
                except httpx.HTTPError as exc:  # no answer: say which kind, to tell them apart
                    statuses[0] += 1
                    failures[type(exc).__name__] += 1

            async def loop(c: int) -> None:
                i = c
                while time.monotonic() < stop:
                    await one(i)
                    i += clients

            async def watch() -> None:
                await asyncio.sleep(5)  # after warm-up
                memory["start"] = rss_mib(worker)
                await asyncio.sleep(55)
                memory["1 min"] = rss_mib(worker)
                while True:  # the whole curve, to tell a plateau from a slow leak
                    await asyncio.sleep(60)
                    timeline.append(round(rss_mib(worker), 1))
                    thread_counts.append(threads(worker))

            started = time.monotonic()
            watcher = asyncio.create_task(watch())
            await asyncio.gather(*(loop(c) for c in range(clients)))
            memory["end"] = rss_mib(worker)
            watcher.cancel()
            return time.monotonic() - started

    took = asyncio.run(main())
    service.stop()
    conn = sqlite3.connect(state["db"])
    try:
        audited = Counter(
            dict(
                conn.execute(
                    "SELECT request_id, count(*) FROM audit_log WHERE request_id LIKE 'soak-%' "
                    "GROUP BY request_id"
                ).fetchall()
            )
        )
    finally:
        conn.close()
    missing = sum(1 for r in ok_ids if audited.get(r, 0) == 0)
    twice = sum(1 for r in ok_ids if audited.get(r, 0) > 1)
    total = sum(statuses.values())
    return {
        "seconds": round(took, 1),
        "clients": clients,
        "requests": total,
        "per_second": round(total / took, 1),
        "statuses": {str(k): v for k, v in statuses.items()},
        "errors": total - statuses.get(200, 0),
        "unanswered_by_kind": dict(failures),
        "scores_not_audited": missing,
        "scores_audited_twice": twice,
        "audit_rows_without_an_answer": len(set(audited) - set(ok_ids)),
        "worker_rss_mib": {k: round(v, 1) for k, v in memory.items()},
        "worker_rss_mib_each_minute_after_the_first": timeline,
        "worker_threads_each_minute_after_the_first": thread_counts,
    }


# report -------------------------------------------------------------------------------------------


def report(results: dict) -> str:
    lines = []
    if "kill" in results:
        k = results["kill"]
        lines.append(
            f"kill -9 during ingest: {k['trials']} trials of {k['records_per_batch']:,} records "
            f"(a whole ingest {k['full_ingest_seconds']} s, committed after "
            f"{k['commit_after_seconds']} s; kills uniform up to 2x that): {k['outcomes']}; "
            "batches without "
            f"their audit row {k['batches_without_audit_row']}, half batches {k['half_batches']} "
            "(target 0 and 0)"
        )
    if "lock" in results:
        lo = results["lock"]
        lines.append(
            f"store locked {lo['locked_seconds']:g} s: /livez max {lo['livez_max_ms']} ms over "
            f"{lo['livez_requests']} calls (target < 100 ms); /readyz {lo['readyz_statuses']} in "
            f"at most {lo['readyz_max_seconds']} s; /v1/score {lo['score_statuses']} in at most "
            f"{lo['score_max_seconds']} s (target 503 within 5 s); recovered "
            f"{lo['recovery_seconds']} s after release"
        )
    if "fuzz" in results:
        f = results["fuzz"]
        lines.append(
            f"schemathesis, all checks: {f['cases']:,} cases (target >= 3,000), statuses "
            f"{f['statuses']}; 5xx: {f['server_errors']} (target 0); no answer in 600 s: "
            f"{f['client_timeouts_600s']}; check failures: "
            f"{f['check_failures'] or 'none'}"
        )
    if "soak" in results:
        s = results["soak"]
        lines.append(
            f"soak: {s['clients']} clients for {s['seconds']} s, {s['requests']:,} scores "
            f"({s['per_second']}/s), errors {s['errors']} (target 0; unanswered "
            f"{s['unanswered_by_kind'] or 'none'}), not audited "
            f"{s['scores_not_audited']}, audited twice {s['scores_audited_twice']}; worker RSS "
            f"MiB {s['worker_rss_mib']}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "what",
        nargs="*",
        default=["kill", "lock", "fuzz", "soak"],
        choices=["kill", "lock", "fuzz", "soak"],
    )
    parser.add_argument("--data", help="Contract dataset directory (default: simulate one).")
    parser.add_argument("--tracking-uri", help="MLflow store holding the model (default: train).")
    parser.add_argument("--model", default="models:/riskwarn@champion")
    parser.add_argument("--persons", type=int, default=20000)
    parser.add_argument("--years", type=float, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--trials", type=int, default=50, help="kill -9 trials.")
    parser.add_argument("--records", type=int, default=80000, help="Records per ingest batch.")
    parser.add_argument("--lock-seconds", type=float, default=30)
    parser.add_argument("--cases", type=int, default=3000, help="schemathesis cases, at least.")
    parser.add_argument("--seconds", type=float, default=600, help="Soak duration.")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--out", help="Write the figures as JSON here.")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="riskwarn-faults-"))
    state = setup(args, root)
    results: dict[str, Any] = {"cpus": os.cpu_count()}
    try:
        run_all(args, state, root, results)
    finally:
        for service in STARTED:
            service.stop()
    print(report(results))
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


def run_all(args: argparse.Namespace, state: dict, root: Path, results: dict) -> None:
    for what in args.what:
        print(f"{what}: running", flush=True)
        if what == "kill":
            results["kill"] = kill_trials(state, root, args.trials, args.records, args.seed)
        elif what == "lock":
            results["lock"] = lock_trial(state, root, args.lock_seconds)
        elif what == "fuzz":
            results["fuzz"] = fuzz(state, root, args.cases)
        else:
            results["soak"] = soak(state, root, args.seconds, args.clients)
        print(report({what: results[what]}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
