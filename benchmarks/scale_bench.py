"""Benchmark: one process against a Dask LocalCluster of 2 workers, side by side, for the
features and the training of simulated provinces.

    .venv/bin/python benchmarks/scale_bench.py                        # 100k and 300k persons
    .venv/bin/python benchmarks/scale_bench.py --persons 1000000      # the issue's size
    .venv/bin/python benchmarks/scale_bench.py --persons 50000 --years 2

Each province (``riskwarn simulate --counties 10``, Parquet) is simulated in a subprocess,
then each way is measured in a fresh subprocess of this script:

- **features**: ``build_snapshots`` + ``build_features`` in the process, against
  ``build_features_dask`` on a LocalCluster (2 worker processes, 1 thread each; case
  features one task per county, graph and area features one task per date range). Both
  tables must be equal value for value (checked). Printed: wall and CPU time of the
  driver, the driver's peak memory, and each worker's peak (reset when the cluster is up).
- **training**: the one pipeline (``fit_evaluate``: LightGBM search on validation,
  calibration, tiers, test metrics; no refit, no baselines) on the same features file, with
  LightGBM fitted in the process against ``dask_boosters`` on the LocalCluster. Printed:
  wall time, peaks, and the test ROC-AUC of each and their difference (issue 17: at most
  0.005).

With ``--replicas``, the service's figure: a county is simulated, a model trained and
registered, the history loaded into a store on a throwaway PostgreSQL cluster (the one the
tests start, ``tests/serving/_postgres.py``), and ``POST /v1/score`` driven by 16
concurrent clients against one ``riskwarn serve --workers 1`` and then against two such
replicas on the same store (clients alternate between them, as a proxy would). Printed:
throughput of each, their ratio (issue 17: at least 1.6), errors, and whether every
answered score left exactly one audit row.

    .venv/bin/python benchmarks/scale_bench.py --replicas --replica-persons 20000

Read the times honestly: this machine has 2 cores shared with other work, and a
LocalCluster of 2 workers competes for the same cores as its driver, so Dask cannot be
faster here; what these figures show is Dask's overhead (scattering the partitions,
starting tasks, LightGBM's network between workers, training every round because
lightgbm.dask has no early stopping) and how the work and memory divide. The load average
at each measurement is printed with it. The speed-up needs workers on other machines
(docs/scale.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from features_bench import cpu_s, peak_mib, reset_peak  # the same measures, beside this file

KEYS = ["dispute_id", "as_of"]


def _peak() -> float:
    return round(peak_mib())


def _warm() -> None:
    """Import riskwarn on a worker: a cluster's workers stay up between jobs, so their
    first import is the cluster's start, not the job's."""
    import riskwarn.features
    import riskwarn.training  # noqa: F401


@contextmanager
def _cluster() -> Iterator[Any]:
    from riskwarn.features import dask_client

    with dask_client("local:2") as client:
        client.run(_warm)
        yield client


# measured in a child process ---------------------------------------------------------------
def features_single(data: str) -> dict:
    import pandas as pd

    from riskwarn import load_dataset
    from riskwarn.features import build_features, build_snapshots

    ds = load_dataset(data)
    reset_peak()
    cpu, began = cpu_s(), time.perf_counter()
    snaps = build_snapshots(ds)
    table = build_features(ds, snaps[KEYS])
    frame = pd.concat([snaps, table.drop(columns=KEYS)], axis=1)
    out = {
        "wall_s": round(time.perf_counter() - began, 1),
        "driver_cpu_s": round(cpu_s() - cpu, 1),
        "driver_peak_mib": _peak(),
        "rows": len(frame),
        "load_average": os.getloadavg()[0],
    }
    frame.to_parquet(Path(data) / "_single_features.parquet")
    return out


def features_dask(data: str) -> dict:
    import pandas as pd

    from riskwarn import load_dataset
    from riskwarn.features import build_features_dask

    ds = load_dataset(data)
    with _cluster() as client:
        client.run(reset_peak)
        reset_peak()
        cpu, began = cpu_s(), time.perf_counter()
        frame = build_features_dask(ds, client)
        wall = time.perf_counter() - began
        workers = sorted(client.run(_peak).values())
    single = pd.read_parquet(Path(data) / "_single_features.parquet")
    pd.testing.assert_frame_equal(frame, single, check_exact=True)
    return {
        "wall_s": round(wall, 1),
        "driver_cpu_s": round(cpu_s() - cpu, 1),
        "driver_peak_mib": _peak(),
        "worker_peak_mib": workers,
        "rows": len(frame),
        "equal_to_single": True,
        "load_average": os.getloadavg()[0],
    }


def training(data: str, where: str) -> dict:
    from riskwarn import load_dataset
    from riskwarn.features import FeatureFile, write_features
    from riskwarn.features._registry import REGISTRY_VERSION
    from riskwarn.training import TrainConfig, build_table, dask_boosters, fit_evaluate
    from riskwarn.training import training_data as to_data

    ds = load_dataset(data)
    path = Path(data) / "_features.parquet"
    if not path.exists():
        import pandas as pd

        frame = pd.read_parquet(Path(data) / "_single_features.parquet")
        write_features(frame, path, FeatureFile(ds.digest(), REGISTRY_VERSION, 30, 90))
    config = TrainConfig(bootstrap=0, baselines=False, refit=False)
    data_ = to_data(build_table(ds, features=path), config)
    del ds

    def run(boosters=None):  # type: ignore[no-untyped-def]
        reset_peak()
        began = time.perf_counter()
        kw = {} if boosters is None else {"boosters": boosters}
        result = fit_evaluate(data_, config, **kw)
        return result, time.perf_counter() - began

    out: dict = {}
    if where == "single":
        result, wall = run()
    else:
        with _cluster() as client:
            client.run(reset_peak)
            result, wall = run(dask_boosters(client))
            out["worker_peak_mib"] = sorted(client.run(_peak).values())
    out |= {
        "wall_s": round(wall, 1),
        "driver_peak_mib": _peak(),
        "test_roc_auc": round(result.metrics["lightgbm"]["roc_auc"]["value"], 4),
        "trees": result.model.estimator.booster.num_trees(),
        "rows": len(data_.label),
        "load_average": os.getloadavg()[0],
    }
    return out


# two replicas on one PostgreSQL store --------------------------------------------------------
def replicas(persons: int, years: float, seed: int, requests: int, clients: int) -> dict:
    import argparse as ap
    import importlib.util

    import sqlalchemy as sa

    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here))
    import serve_bench as sb

    spec = importlib.util.spec_from_file_location(
        "riskwarn_pg", here.parent / "tests" / "serving" / "_postgres.py"
    )
    assert spec is not None and spec.loader is not None
    pg = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pg)
    from riskwarn.serving import Store, create_key

    bin_dir = pg.server_bin()
    if bin_dir is None:
        raise SystemExit(pg.INSTALL)
    with tempfile.TemporaryDirectory(prefix="scale-replicas-") as tmp, pg.cluster(bin_dir) as url:
        root = Path(tmp)
        args = ap.Namespace(data=None, persons=persons, years=years, seed=seed, tracking_uri=None)
        state = sb.prepare(args, root)
        store = Store(url).create()
        store.append_history(state["dataset"].tables())
        key = create_key(store, "scorer", "bench")[1]
        picked = sb.cases(state["dataset"], 200, seed)
        bodies = [
            json.dumps({"dispute_id": d, "as_of": t.strftime("%Y-%m-%d")}).encode()
            for d, t in zip(picked["dispute_id"], picked["as_of"], strict=True)
        ]
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        env = state["env"] | {"RISKWARN_DB_URL": url}
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))

        def audited() -> int:
            with engine.connect() as conn:
                return int(conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar() or 0)

        ports = [sb.free_port(), sb.free_port()]
        riskwarn = str(sb.BIN / "riskwarn")

        def serve(i: int):  # type: ignore[no-untyped-def]
            argv = [riskwarn, "serve", "--port", str(ports[i]), "--workers", "1"]
            ready = f"http://127.0.0.1:{ports[i]}/readyz"
            return sb.started(argv, env, ready, root / f"replica{i}.log")

        def load(n_replicas: int) -> dict:
            urls = [f"http://127.0.0.1:{p}/v1/score" for p in ports[:n_replicas]]
            before = audited()
            got = sb.concurrent(
                lambda i: (urls[i % len(urls)], bodies[i % len(bodies)], headers),
                requests,
                clients,
                limit_s=300,
            )
            got["audit_rows"] = audited() - before
            got["answered"] = got["requests"] + clients  # with the warm-up round
            return got

        out: dict = {"persons": persons, "clients": clients}
        with serve(0):
            out["replicas_1"] = load(1)
            with serve(1):
                out["replicas_2"] = load(2)
        engine.dispose()
        store.close()
    one, two = out["replicas_1"], out["replicas_2"]
    out["throughput_ratio"] = round(two["per_second"] / one["per_second"], 2)
    out["audited_once"] = all(r["audit_rows"] == r["answered"] for r in (one, two))
    return out


CHILDREN = {
    "features-single": lambda d: features_single(d),
    "features-dask": lambda d: features_dask(d),
    "train-single": lambda d: training(d, "single"),
    "train-dask": lambda d: training(d, "dask"),
}


def child(what: str, data: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", what, data], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"{what} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, nargs="+", default=[100_000, 300_000])
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--counties", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--replicas", action="store_true", help="the two-replica figure only")
    parser.add_argument("--replica-persons", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        what, data = args.child
        print(json.dumps(CHILDREN[what](data)))
        return
    if args.replicas:
        got = replicas(args.replica_persons, args.years, args.seed, args.requests, 16)
        print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
        for n in (1, 2):
            print(f"  {n} replica(s): {json.dumps(got[f'replicas_{n}'])}")
        print(
            f"  /v1/score throughput, two replicas / one: {got['throughput_ratio']} (target at "
            f"least 1.6); every answered score audited exactly once: {got['audited_once']}"
        )
        return
    print(f"{os.cpu_count()} cores; load average at start {os.getloadavg()[0]:.1f}")
    for persons in args.persons:
        with tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp:
            data = str(Path(tmp) / "province")
            cmd = [sys.executable, "-m", "riskwarn.cli", "simulate", data]
            cmd += ["--persons", str(persons), "--years", str(args.years)]
            cmd += ["--seed", str(args.seed), "--counties", str(args.counties)]
            cmd += ["--format", "parquet"]
            subprocess.run(cmd, check=True, capture_output=True)
            print(f"\n{persons:,} persons, {args.counties} counties, {args.years:g} years")
            results = {}
            for what in CHILDREN:  # each as it is measured: the training runs take a while
                results[what] = child(what, data)
                print(f"  {what:16s} {json.dumps(results[what])}", flush=True)
            f1, f2 = results["features-single"], results["features-dask"]
            t1, t2 = results["train-single"], results["train-dask"]
            print(
                f"  features: one process {f1['wall_s']} s, Dask {f2['wall_s']} s "
                f"(x{f2['wall_s'] / f1['wall_s']:.2f}); peak {f1['driver_peak_mib']} MiB vs "
                f"workers {f2['worker_peak_mib']} MiB "
                f"({max(f2['worker_peak_mib']) / f1['driver_peak_mib']:.0%} of one process; "
                "target at most 60%)"
            )
            print(
                f"  training: one process {t1['wall_s']} s, Dask {t2['wall_s']} s; test ROC-AUC "
                f"{t1['test_roc_auc']} vs {t2['test_roc_auc']} (difference "
                f"{abs(t1['test_roc_auc'] - t2['test_roc_auc']):.4f}; target at most 0.005)"
            )


if __name__ == "__main__":
    main()
