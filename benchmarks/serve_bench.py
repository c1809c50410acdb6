"""How fast does riskwarn answer? The service against MLflow's own server, same model.

Starts ``riskwarn serve`` and ``mlflow models serve --env-manager local`` on the same
registered model, on loopback, and measures:

- latency (p50, p99) for one client sending one case at a time;
- throughput with 32 concurrent clients (from a lean load generator by default, since
  it shares the machine's cores with the server; ``--client httpx`` for httpx's);

for ``POST /v1/score`` (features from the stored history, calibrated risk, tier and five
reasons with SHAP contributions) and for MLflow's ``POST /invocations`` (risk and tier
from features the caller already computed). Every loop is bounded by a request count and a
time limit. Without ``--tracking-uri`` it simulates a county, trains a model and registers
it in a temporary MLflow store first.

New cases (``--new-case-persons``, default 100,000 and 1,000,000 people): a county of that
size is simulated and served holding its records up to a week before its last day; the
disputes reported since are sent as full cases (``case``: dispute, parties, events) scored
on that last day, one client, with five reasons. Those reported that day are what the case
platform sends when it registers a dispute (target: p99 at most 30 ms at 100,000 people,
at most 1.5 times that at 1,000,000); those reported on the days before join the scoring
day's graphs (their links change their parties' components), printed beside them.

    python benchmarks/serve_bench.py                      # everything in a temp folder
    python benchmarks/serve_bench.py --persons 20000 --requests 2000 --out bench.json
    python benchmarks/serve_bench.py --new-case-persons 50000   # smaller new-case counties
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

BIN = Path(sys.executable).parent
TARGET_P99_MS = 15.0
TARGET_SPEEDUP = 2.0
TARGET_NEW_CASE_P99_MS = 30.0  # at 100,000 people; at most 1.5 times that at 1,000,000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def started(argv: list[str], env: dict[str, str], ready_url: str, log: Path) -> Iterator[None]:
    """Run ``argv`` in its own process group until the block ends; wait until it is ready."""
    with log.open("w") as out:
        proc = subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 900  # loading a million people's history takes a while
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{argv[0]} exited early; see {log}")
                try:
                    if httpx.get(ready_url, timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{argv[0]} not ready after 900 s; see {log}")
                time.sleep(0.5)
            yield
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def prepare(args: argparse.Namespace, root: Path) -> dict:
    """A dataset directory, a registered champion model and the environment to serve them."""
    from riskwarn import load_dataset, simulate, write_dataset

    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "RISKWARN_HOME": str(root / "home"),
        "RISKWARN_DB_URL": f"sqlite:///{root / 'service.db'}",
        "BENTOML_DO_NOT_TRACK": "True",
        "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD": "false",
    }
    if args.data:
        data = Path(args.data)
        dataset = load_dataset(data)
    else:
        print(f"simulating a county of {args.persons} people over {args.years} years", flush=True)
        dataset = simulate(persons=args.persons, years=args.years, seed=args.seed)
        data = write_dataset(dataset, root / "county")
    tracking = args.tracking_uri
    if tracking is None:
        import mlflow

        from riskwarn.training import TrainConfig, train

        tracking = f"sqlite:///{root / 'mlflow.db'}"
        env["MLFLOW_TRACKING_URI"] = tracking
        os.environ.update({k: env[k] for k in ("RISKWARN_HOME", "MLFLOW_TRACKING_URI")})
        print("training and registering a model", flush=True)
        outcome = train(
            data, TrainConfig(bootstrap=0, baselines=False), tracking_uri=tracking, dataset=dataset
        )
        mlflow.MlflowClient(tracking).set_registered_model_alias(
            "riskwarn", "champion", outcome.run.model_version
        )
    env["MLFLOW_TRACKING_URI"] = tracking
    return {"env": env, "data": data, "dataset": dataset, "tracking": tracking}


def cases(dataset, n: int, seed: int) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Up to ``n`` disputes open on the last day of the data, scored as of that day: the
    case platform scores today's cases today (the feature builder keeps a day's graph)."""
    from riskwarn.features import open_disputes

    as_of = dataset.end.normalize()
    ids = open_disputes(dataset, as_of)
    frame = pd.DataFrame({"dispute_id": ids, "as_of": [as_of] * len(ids)})
    return frame.sample(n=min(n, len(frame)), random_state=seed).reset_index(drop=True)


def feature_payloads(dataset, picked: pd.DataFrame, model) -> list[bytes]:  # type: ignore[no-untyped-def]
    """MLflow ``dataframe_split`` bodies, one case each, with the model's input features."""
    from riskwarn.features import build_features

    feats = build_features(dataset, picked)[model.feature_names]
    bodies = []
    for i in range(len(feats)):
        split = json.loads(feats.iloc[[i]].to_json(orient="split", index=False))
        bodies.append(json.dumps({"dataframe_split": split}).encode())
    return bodies


def one_at_a_time(
    send: Callable[[httpx.Client, int], httpx.Response], n: int, limit_s: float
) -> dict:
    """Latency of ``n`` sequential requests (after 30 of warm-up), in milliseconds."""
    times = []
    with httpx.Client(timeout=30) as client:
        for i in range(30):
            send(client, i).raise_for_status()
        stop = time.monotonic() + limit_s
        for i in range(n):
            t = time.perf_counter()
            r = send(client, i)
            times.append((time.perf_counter() - t) * 1000)
            r.raise_for_status()
            if time.monotonic() > stop:
                break
    ms = np.asarray(times)
    return {
        "requests": len(ms),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "mean_ms": round(float(ms.mean()), 2),
    }


async def _read_answer(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 answer off a kept-alive connection; return its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length, chunked = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
    if not chunked:
        await reader.readexactly(length)
        return status
    while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
        await reader.readexactly(size + 2)
    await reader.readuntil(b"\r\n")
    return status


def _request(url: str, body: bytes, headers: dict[str, str]) -> tuple[str, int, bytes]:
    """Host, port and the bytes of one HTTP/1.1 POST to ``url``."""
    parsed = httpx.URL(url)
    lines = [f"POST {parsed.raw_path.decode()} HTTP/1.1", f"Host: {parsed.host}:{parsed.port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines += [f"Content-Length: {len(body)}", "", ""]
    return parsed.host, parsed.port or 80, "\r\n".join(lines).encode() + body


def concurrent(
    build: Callable[[int], tuple[str, bytes, dict[str, str]]],
    n: int,
    clients: int,
    limit_s: float,
    client: str = "lean",
) -> dict:
    """Throughput of ``clients`` concurrent clients sending ``n`` requests in all.

    The load comes from this process, on the same two cores as the server it measures, so
    the client must cost little: ``lean`` writes each request's prepared bytes to one of
    ``clients`` kept-alive connections per server and reads the answer's status and length
    (about 0.04 of a core at 150-300 requests/s, measured); ``client="httpx"`` measures with
    ``httpx.AsyncClient`` instead. Both servers get the same client.
    """

    async def lean_post(conns: dict, url: str, body: bytes, headers: dict[str, str]) -> int:
        host, port, raw = _request(url, body, headers)
        if (host, port) not in conns:  # one kept-alive connection per client and server
            conns[host, port] = await asyncio.open_connection(host, port)
        reader, writer = conns[host, port]
        writer.write(raw)
        await writer.drain()
        return await _read_answer(reader)

    async def main() -> tuple[int, float, list[float]]:
        counter = iter(range(n))
        latencies: list[float] = []
        stop = time.monotonic() + limit_s
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        opened = httpx.AsyncClient(timeout=60, limits=limits) if client == "httpx" else None
        async with opened or contextlib.nullcontext() as pool:

            async def post(conn: dict, i: int) -> int:
                url, body, headers = build(i)
                if client == "lean":
                    return await lean_post(conn, url, body, headers)
                assert pool is not None
                return (await pool.post(url, content=body, headers=headers)).status_code

            async def worker(conn: dict) -> None:
                for i in counter:
                    if time.monotonic() > stop:
                        return
                    t = time.perf_counter()
                    status = await post(conn, i)
                    latencies.append((time.perf_counter() - t) * 1000)
                    if status != 200:
                        raise RuntimeError(f"request {i} answered {status}")

            conns: list[dict] = [{} for _ in range(clients)]
            for i, conn in enumerate(conns):  # warm-up, one round, opens the connections
                if (status := await post(conn, i)) != 200:
                    raise RuntimeError(f"warm-up request answered {status}")
            start = time.perf_counter()
            await asyncio.gather(*(worker(conn) for conn in conns))
            seconds = time.perf_counter() - start
            for conn in conns:
                for _, writer in conn.values():
                    writer.close()
            return len(latencies), seconds, latencies

    done, seconds, latencies = asyncio.run(main())
    ms = np.asarray(latencies)
    return {
        "client": client,
        "clients": clients,
        "requests": done,
        "seconds": round(seconds, 2),
        "per_second": round(done / seconds, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
    }


def _plain(row: dict) -> dict:
    """A table row as JSON values: timestamps as contract times, no NaN."""
    out = {}
    for k, v in row.items():
        if isinstance(v, pd.Timestamp):
            out[k] = f"{v:%Y-%m-%dT%H:%M:%S}"
        elif v is None or (isinstance(v, float) and v != v) or v is pd.NA or v is pd.NaT:
            out[k] = None
        else:
            out[k] = v.item() if isinstance(v, np.generic) else v
    return out


def new_case_bodies(dataset, served: Path) -> tuple[list[bytes], list[bytes], str]:  # type: ignore[no-untyped-def]
    """Write ``dataset`` as the service will hold it (records up to a week before its last
    day) to ``served``; return the disputes reported since as /v1/score bodies scored on
    the last day: those reported that day, and those reported on the days before."""
    from riskwarn import write_dataset

    as_of = pd.Timestamp(dataset.disputes["reported_at"].max())
    day = as_of.normalize()
    held_until = day - pd.Timedelta(days=7)
    write_dataset(dataset.cut(held_until), served, "parquet")
    d = dataset.disputes
    fresh = d[(d["reported_at"] > held_until) & (d["reported_at"] <= as_of)]
    parties = dataset.dispute_parties.groupby("dispute_id")
    events = dataset.dispute_events.groupby("dispute_id")
    today, before = [], []
    for row in fresh.to_dict("records"):
        did = row["dispute_id"]
        case = {
            "dispute": _plain(row),
            "parties": [
                _plain({"person_id": p["person_id"], "role": p["role"]})
                for p in parties.get_group(did).to_dict("records")
            ],
            "events": [
                _plain({"at": e["at"], "kind": e["kind"]})
                for e in (events.get_group(did).to_dict("records") if did in events.groups else [])
            ],
        }
        body = json.dumps({"case": case, "as_of": f"{as_of:%Y-%m-%dT%H:%M:%S}", "top_k": 5})
        (today if row["reported_at"] >= day else before).append(body.encode())
    return today, before, f"{as_of:%Y-%m-%d}"


def _poster(
    url: str, headers: dict[str, str], bodies: list[bytes]
) -> Callable[[httpx.Client, int], httpx.Response]:
    return lambda client, i: client.post(url, content=bodies[i % len(bodies)], headers=headers)


def new_case_figures(args: argparse.Namespace, state: dict) -> dict:
    """/v1/score for new cases on counties of each ``--new-case-persons`` size."""
    from riskwarn import simulate
    from riskwarn.serving import Store, create_key

    out = {}
    for persons in args.new_case_persons:
        root = Path(tempfile.mkdtemp(prefix=f"riskwarn-new-{persons}-"))
        print(f"new cases: simulating {persons} people", flush=True)
        today, before, day = new_case_bodies(
            simulate(persons=persons, years=args.years, seed=args.seed), root / "served"
        )
        env = {**state["env"], "RISKWARN_DB_URL": f"sqlite:///{root / 'service.db'}"}
        secret = create_key(Store(env["RISKWARN_DB_URL"]).create(), "scorer", "bench")[1]
        auth = {"Content-Type": "application/json", "Authorization": f"Bearer {secret}"}
        port = free_port()
        url = f"http://127.0.0.1:{port}/v1/score"
        argv = [str(BIN / "riskwarn"), "serve", "--model", args.model, "--port", str(port)]
        argv += ["--data", str(root / "served")]
        print(f"new cases: serving {persons} people", flush=True)
        with started(argv, env, f"http://127.0.0.1:{port}/readyz", root / "riskwarn.log"):
            figures = {"people": persons, "scoring_day": day}
            for name, bodies in (("registered_that_day", today), ("reported_days_before", before)):
                figures[name] = one_at_a_time(
                    _poster(url, auth, bodies), args.new_case_requests, args.limit
                )
                figures[name]["cases"] = len(bodies)
        out[str(persons)] = figures
        print(json.dumps(figures), flush=True)
    return out


def run(args: argparse.Namespace) -> dict:
    from riskwarn.serving import Store, create_key
    from riskwarn.training import load_model

    root = Path(tempfile.mkdtemp(prefix="riskwarn-bench-"))
    state = prepare(args, root)
    env, dataset = state["env"], state["dataset"]
    model = load_model(args.model, tracking_uri=state["tracking"])
    picked = cases(dataset, args.cases, args.seed)
    score_bodies = [
        json.dumps({"dispute_id": d, "as_of": f"{t:%Y-%m-%dT%H:%M:%S}", "top_k": 5}).encode()
        for d, t in zip(picked["dispute_id"], picked["as_of"], strict=True)
    ]
    mlflow_bodies = feature_payloads(dataset, picked, model)
    store = Store(env["RISKWARN_DB_URL"]).create()
    key = create_key(store, "scorer", "bench")[1]
    json_type = {"Content-Type": "application/json"}
    auth = {**json_type, "Authorization": f"Bearer {key}"}
    results: dict = {
        "model_version": model.version,
        "features": len(model.feature_names),
        "disputes": len(dataset.disputes),
        "cases": len(picked),
        "cpus": os.cpu_count(),
        "riskwarn_workers": args.workers,
    }

    rw_port, ml_port = free_port(), free_port()
    rw = f"http://127.0.0.1:{rw_port}"
    ml = f"http://127.0.0.1:{ml_port}"
    riskwarn_cmd = [str(BIN / "riskwarn"), "serve", "--model", args.model, "--port", str(rw_port)]
    riskwarn_cmd += ["--data", str(state["data"]), "--workers", str(args.workers)]
    mlflow_cmd = [str(BIN / "mlflow"), "models", "serve", "-m", args.model, "--env-manager"]
    mlflow_cmd += ["local", "-h", "127.0.0.1", "-p", str(ml_port)]

    print("riskwarn serve: starting", flush=True)
    with started(riskwarn_cmd, env, f"{rw}/readyz", root / "riskwarn.log"):
        k = len(score_bodies)
        first = httpx.post(f"{rw}/v1/score", content=score_bodies[0], headers=auth).json()
        results["reasons_per_answer"] = len(first["reasons"])
        results["riskwarn_one_client"] = one_at_a_time(
            lambda c, i: c.post(f"{rw}/v1/score", content=score_bodies[i % k], headers=auth),
            args.requests,
            args.limit,
        )
        results["riskwarn_concurrent"] = concurrent(
            lambda i: (f"{rw}/v1/score", score_bodies[i % k], auth),
            args.requests * 2,
            args.clients,
            args.limit,
            args.client,
        )
        print(json.dumps(results["riskwarn_one_client"]), flush=True)
    print("mlflow models serve: starting", flush=True)
    with started(mlflow_cmd, env, f"{ml}/ping", root / "mlflow.log"):
        k = len(mlflow_bodies)
        results["mlflow_one_client"] = one_at_a_time(
            lambda c, i: c.post(
                f"{ml}/invocations", content=mlflow_bodies[i % k], headers=json_type
            ),
            args.requests,
            args.limit,
        )
        results["mlflow_concurrent"] = concurrent(
            lambda i: (f"{ml}/invocations", mlflow_bodies[i % k], json_type),
            args.requests * 2,
            args.clients,
            args.limit,
            args.client,
        )
    rw_tput = results["riskwarn_concurrent"]["per_second"]
    ml_tput = results["mlflow_concurrent"]["per_second"]
    results["speedup"] = round(rw_tput / ml_tput, 2)
    results["meets_p99_target"] = results["riskwarn_one_client"]["p99_ms"] < TARGET_P99_MS
    results["meets_speedup_target"] = results["speedup"] >= TARGET_SPEEDUP
    if args.new_case_persons:
        results["new_cases"] = new_case_figures(args, state)
    return results


def new_case_report(new: dict) -> list[str]:
    """Lines for the new-case figures; the target is judged on the registration-day cases."""
    lines = [
        "",
        "| new cases, `/v1/score` with 5 reasons, 1 client | people | p50 | p99 |",
        "|---|---|---|---|",
    ]
    for f in new.values():
        for name, words in (
            ("registered_that_day", "registered on the scoring day"),
            ("reported_days_before", "reported the days before (join the day's graphs)"),
        ):
            x = f[name]
            lines.append(
                f"| {words}, {x['cases']} cases | {f['people']:,} | {x['p50_ms']} ms "
                f"| {x['p99_ms']} ms |"
            )
    small = new.get("100000", {}).get("registered_that_day")
    big = new.get("1000000", {}).get("registered_that_day")
    if small:
        lines.append(
            f"new-case p99 at 100,000 people {small['p99_ms']} ms (target {TARGET_NEW_CASE_P99_MS}"
            f" ms: {'met' if small['p99_ms'] <= TARGET_NEW_CASE_P99_MS else 'missed'})"
        )
    if small and big:
        ratio = big["p99_ms"] / small["p99_ms"]
        lines.append(
            f"at 1,000,000 people {big['p99_ms']} ms, {ratio:.2f} times (target at most 1.5: "
            f"{'met' if ratio <= 1.5 else 'missed'})"
        )
    return lines


def report(results: dict) -> str:
    rw1, ml1 = results["riskwarn_one_client"], results["mlflow_one_client"]
    rwc, mlc = results["riskwarn_concurrent"], results["mlflow_concurrent"]
    new = new_case_report(results["new_cases"]) if results.get("new_cases") else []
    return "\n".join(
        [
            f"| | p50 (1 client) | p99 (1 client) | throughput ({rwc['clients']} clients, "
            f"{rwc['client']} load generator) |",
            "|---|---|---|---|",
            f"| riskwarn `/v1/score`, with {results['reasons_per_answer']} reasons "
            f"| {rw1['p50_ms']} ms | {rw1['p99_ms']} ms | {rwc['per_second']}/s |",
            f"| MLflow `/invocations`, scores only | {ml1['p50_ms']} ms | {ml1['p99_ms']} ms "
            f"| {mlc['per_second']}/s |",
            "",
            f"throughput ratio {results['speedup']}x (target {TARGET_SPEEDUP}x); p99 target "
            f"{TARGET_P99_MS} ms {'met' if results['meets_p99_target'] else 'missed'}; "
            f"{results['cases']} cases of {results['disputes']} disputes, "
            f"{results['features']} features, model version {results['model_version']}, "
            f"{results['cpus']} CPUs, riskwarn workers {results['riskwarn_workers']}",
            *new,
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="Contract dataset directory (default: simulate one).")
    parser.add_argument("--tracking-uri", help="MLflow store holding the model (default: train).")
    parser.add_argument("--model", default="models:/riskwarn@champion")
    parser.add_argument("--persons", type=int, default=20000)
    parser.add_argument("--years", type=float, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cases", type=int, default=300, help="Distinct cases to cycle through.")
    parser.add_argument("--requests", type=int, default=1000, help="Sequential requests.")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument(
        "--client",
        choices=["lean", "httpx"],
        default="lean",
        help="Load generator for the concurrent figures (lean: prepared bytes on kept-alive "
        "connections; httpx: httpx.AsyncClient, which costs the shared cores more).",
    )
    parser.add_argument("--workers", type=int, default=1, help="riskwarn worker processes.")
    parser.add_argument("--limit", type=float, default=60, help="Seconds per loop at most.")
    parser.add_argument("--out", help="Write the figures as JSON here.")
    parser.add_argument(
        "--new-case-persons",
        type=int,
        nargs="*",
        default=[100_000, 1_000_000],
        help="County sizes for the new-case figures (none: skip them).",
    )
    parser.add_argument("--new-case-requests", type=int, default=500)
    args = parser.parse_args(argv)
    results = run(args)
    print(report(results))
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
