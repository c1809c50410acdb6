"""How fast does riskwarn answer? The service against MLflow's own server, same model.

Starts ``riskwarn serve`` and ``mlflow models serve --env-manager local`` on the same
registered model, on loopback, and measures:

- latency (p50, p99) for one client sending one case at a time;
- throughput with 32 concurrent clients;

for ``POST /v1/score`` (features from the stored history, calibrated risk, tier and five
reasons with SHAP contributions) and for MLflow's ``POST /invocations`` (risk and tier
from features the caller already computed). Every loop is bounded by a request count and a
time limit. Without ``--tracking-uri`` it simulates a county, trains a model and registers
it in a temporary MLflow store first.

    python benchmarks/serve_bench.py                      # everything in a temp folder
    python benchmarks/serve_bench.py --persons 20000 --requests 2000 --out bench.json
"""

from __future__ import annotations

import argparse
import asyncio
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
            deadline = time.monotonic() + 180
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{argv[0]} exited early; see {log}")
                try:
                    if httpx.get(ready_url, timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{argv[0]} not ready after 180 s; see {log}")
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


def concurrent(
    build: Callable[[int], tuple[str, bytes, dict[str, str]]],
    n: int,
    clients: int,
    limit_s: float,
) -> dict:
    """Throughput of ``clients`` concurrent clients sending ``n`` requests in all."""

    async def main() -> tuple[int, float, list[float]]:
        counter = iter(range(n))
        latencies: list[float] = []
        stop = time.monotonic() + limit_s
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:

            async def worker() -> None:
                for i in counter:
                    if time.monotonic() > stop:
                        return
                    url, body, headers = build(i)
                    t = time.perf_counter()
                    r = await client.post(url, content=body, headers=headers)
                    latencies.append((time.perf_counter() - t) * 1000)
                    r.raise_for_status()

            for i in range(clients):  # warm-up, one round
                url, body, headers = build(i)
                (await client.post(url, content=body, headers=headers)).raise_for_status()
            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(clients)))
            return len(latencies), time.perf_counter() - start, latencies

    done, seconds, latencies = asyncio.run(main())
    ms = np.asarray(latencies)
    return {
        "clients": clients,
        "requests": done,
        "seconds": round(seconds, 2),
        "per_second": round(done / seconds, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
    }


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
        )
    rw_tput = results["riskwarn_concurrent"]["per_second"]
    ml_tput = results["mlflow_concurrent"]["per_second"]
    results["speedup"] = round(rw_tput / ml_tput, 2)
    results["meets_p99_target"] = results["riskwarn_one_client"]["p99_ms"] < TARGET_P99_MS
    results["meets_speedup_target"] = results["speedup"] >= TARGET_SPEEDUP
    return results


def report(results: dict) -> str:
    rw1, ml1 = results["riskwarn_one_client"], results["mlflow_one_client"]
    rwc, mlc = results["riskwarn_concurrent"], results["mlflow_concurrent"]
    return "\n".join(
        [
            "| | p50 (1 client) | p99 (1 client) | throughput (32 clients) |",
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
    parser.add_argument("--workers", type=int, default=1, help="riskwarn worker processes.")
    parser.add_argument("--limit", type=float, default=60, help="Seconds per loop at most.")
    parser.add_argument("--out", help="Write the figures as JSON here.")
    args = parser.parse_args(argv)
    results = run(args)
    print(report(results))
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
