"""Features built as Dask tasks, equal to the single-process build.

``riskwarn features DIR --out F --dask SCHEDULER`` (or ``--dask local:N``): the driver
loads and checks the dataset (the contract check and the digest need all of it), then the
features are built in two kinds of task, run together on the cluster, and written as one
features file in the single-process order:

- **case features by county** (every feature but the graph and area ones: the case, its
  events, its parties, their dispute, petition, flag and incident histories). One task per
  county takes the county's disputes and only the rows those features read: the disputes'
  rows and events, their parties, the parties' other disputes (for their histories), the
  petitions by the parties or about the disputes, the parties' flags and incidents. A
  party living in another county, or a dispute of theirs recorded there, comes along as
  one of these rows, so nothing crosses a border unseen; these features never look past
  a case's own parties, so the values are the single-process ones.
- **graph and area features by date range**. These are not local: a party's component,
  core number and PageRank depend on the whole component, which in a province's
  relationship graph reaches across counties (the graph of everyone's ties is mostly one
  component), and an area's rate is shrunk toward its county's. So they are computed per
  snapshot date over the whole province's graph, exactly as in one process, and the dates
  are cut into one contiguous range per worker. Each such task holds only the tables the
  graph and the area rates read (people, grids, relationships, disputes, parties, events,
  incidents; no petitions, flags or interventions).

Both kinds run :meth:`FeatureBuilder.transform` (``kinds="case"`` / ``kinds="day"``) on the
same rows a single process would, so the file equals the single-process one value for
value (tests/features/test_dask.py checks it on a province with cross-county ties).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from riskwarn._dataset import Dataset
from riskwarn.errors import ConfigError

KEYS = ["dispute_id", "as_of"]
NO_COUNTY = ""
"""The partition of the disputes in a grid with no county."""
LOCAL_WORKERS = 2


def require_distributed() -> Any:
    """The ``distributed`` module, or an error that says how to install it."""
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - the extra is in the lock
        raise ConfigError(
            "expected the Dask extra for --dask: install it with "
            "`pip install 'riskwarn[distributed]'` (dask, distributed, lightgbm[dask])"
        ) from exc
    return distributed


@contextmanager
def dask_client(address: str) -> Iterator[Any]:
    """A ``distributed.Client`` on ``address``: a scheduler (``tcp://host:8786``) or
    ``local`` / ``local:N`` for a LocalCluster of N single-threaded worker processes."""
    distributed = require_distributed()
    if address == "local" or address.startswith("local:"):
        raw = address.partition(":")[2] or str(LOCAL_WORKERS)
        if not raw.isdigit() or int(raw) < 1:
            raise ConfigError(f"expected --dask local:N with N >= 1 workers, got {address!r}")
        import dask

        # no work stealing: a fit's parts stay on the workers that hold their rows, so the
        # same data gives the same trees (a stolen part would change who trains on what)
        with (
            dask.config.set({"distributed.scheduler.work-stealing": False}),
            distributed.LocalCluster(
                n_workers=int(raw), threads_per_worker=1, dashboard_address=":0"
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            yield client
        return
    try:
        client = distributed.Client(address, timeout="30s")
    except OSError as exc:
        raise ConfigError(
            f"expected a Dask scheduler at {address!r}, could not connect: {exc}; start one "
            "(`dask scheduler`) or pass --dask local:2"
        ) from exc
    with client:
        yield client


# the partitions --------------------------------------------------------------------------
@dataclass(frozen=True)
class Partition:
    """One county's disputes (whose case features it builds) and the rows those read."""

    county: str
    disputes: np.ndarray
    dataset: Dataset


def case_partitions(ds: Dataset) -> list[Partition]:
    """One partition per county of the disputes' grids (sorted; disputes whose grid has no
    county form the partition ``""``), each with the rows its case features read."""
    grids = ds.grids.drop_duplicates("grid_id")
    county = pd.Series(
        grids["county"].astype("object").to_numpy(), index=grids["grid_id"].astype("object")
    )
    found = county.reindex(ds.disputes["grid_id"].astype("object").to_numpy()).to_numpy()
    d_county = np.where(pd.isna(found), NO_COUNTY, found).astype(object)
    dp = ds.dispute_parties
    out = []
    for name in sorted(set(d_county.tolist())):
        own = ds.disputes["dispute_id"][d_county == name]
        people = dp["person_id"][dp["dispute_id"].isin(own)].unique()
        mine = dp["person_id"].isin(people)
        disputes = set(own) | set(dp["dispute_id"][mine])
        pet = ds.petitions
        ip = ds.incident_persons
        incidents = set(ip["incident_id"][ip["person_id"].isin(people)])
        incidents |= set(ds.incidents["incident_id"][ds.incidents["dispute_id"].isin(own)])
        sub = Dataset(
            persons=ds.persons[ds.persons["person_id"].isin(people)],
            grids=ds.grids,
            person_flags=ds.person_flags[ds.person_flags["person_id"].isin(people)],
            relationships=ds.relationships.iloc[:0],
            disputes=ds.disputes[ds.disputes["dispute_id"].isin(disputes)],
            dispute_parties=dp[mine | dp["dispute_id"].isin(own)],
            dispute_events=ds.dispute_events[ds.dispute_events["dispute_id"].isin(own)],
            petitions=pet[pet["person_id"].isin(people) | pet["dispute_id"].isin(own)],
            incidents=ds.incidents[ds.incidents["incident_id"].isin(incidents)],
            incident_persons=ip[ip["incident_id"].isin(incidents)],
            interventions=ds.interventions.iloc[:0],
        )
        out.append(Partition(name, own.to_numpy(dtype=object), sub))
    return out


def day_dataset(ds: Dataset) -> Dataset:
    """The tables the graph and area features read (the others left empty)."""
    return Dataset(
        **{
            name: frame.iloc[:0] if name in _NOT_FOR_DAYS else frame
            for name, frame in ds.tables().items()
        }
    )


_NOT_FOR_DAYS = ("person_flags", "petitions", "interventions")


def date_ranges(dates: pd.DatetimeIndex, n: int) -> list[pd.DatetimeIndex]:
    """``dates`` cut into at most ``n`` contiguous, non-empty ranges of near-equal length."""
    return [dates[a:b] for a, b in _bounds(len(dates), n) if b > a]


def _bounds(size: int, n: int) -> list[tuple[int, int]]:
    cuts = np.linspace(0, size, max(1, min(n, size)) + 1).round().astype(int)
    return list(zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True))


# the tasks -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Grid:
    """The snapshot grid of the whole dataset: first and last as_of, spacing, horizon, and
    the data's end (where labels stop being known)."""

    first: pd.Timestamp
    last: pd.Timestamp
    every: int
    horizon: int
    data_end: pd.Timestamp

    def dates(self) -> pd.DatetimeIndex:
        from ._snapshots import grid_dates

        return grid_dates(self.first, self.last, self.every)


def case_task(part: Partition, grid: Grid) -> pd.DataFrame:
    """Snapshot columns and the case features of one partition's disputes."""
    from ._builder import FeatureBuilder
    from ._snapshots import build_snapshots

    snaps = build_snapshots(
        part.dataset,
        start=grid.first,
        end=grid.last,
        every=grid.every,
        horizon=grid.horizon,
        data_end=grid.data_end,
    )
    snaps = snaps[snaps["dispute_id"].isin(part.disputes)].reset_index(drop=True)
    table = FeatureBuilder(part.dataset).transform(snaps[KEYS], kinds=("case",))
    return pd.concat([snaps, table.drop(columns=KEYS)], axis=1)


def day_task(ds: Dataset, grid: Grid, first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
    """Keys and the graph and area features of every snapshot dated ``first`` to ``last``."""
    from ._builder import FeatureBuilder
    from ._snapshots import build_snapshots

    snaps = build_snapshots(
        ds, start=first, end=last, every=grid.every, horizon=grid.horizon, data_end=grid.data_end
    )
    return FeatureBuilder(ds).transform(snaps[KEYS], kinds=("day",))


def build_features_dask(
    dataset: Dataset,
    client: Any,
    *,
    start: object = None,
    end: object = None,
    every: int = 30,
    horizon: int = 90,
) -> pd.DataFrame:
    """What ``riskwarn features`` writes (snapshot columns, then every feature in registry
    order, sorted by as_of and dispute_id), built as Dask tasks on ``client``'s cluster:
    case features one task per county, graph and area features one task per date range."""
    from ._registry import REGISTRY

    grid = Grid(
        first=pd.Timestamp(dataset.start if start is None else start),  # type: ignore[arg-type]
        last=pd.Timestamp(dataset.end if end is None else end),  # type: ignore[arg-type]
        every=every,
        horizon=horizon,
        data_end=dataset.end,
    )
    parts, dates = case_partitions(dataset), grid.dates()
    if not parts or len(dates) == 0:  # nothing to build: the (empty) single-process table
        return _local(dataset, grid)
    workers = sorted(client.nthreads())
    cases = [client.submit(case_task, client.scatter(p), grid, pure=False) for p in parts]
    days_ds = client.scatter(day_dataset(dataset), broadcast=True)
    days = [  # one range per worker, so no worker holds two provinces' graphs at once
        client.submit(day_task, days_ds, grid, r[0], r[-1], workers=[worker], pure=False)
        for worker, r in zip(workers, date_ranges(dates, len(workers)), strict=False)
    ]
    by_case, by_day = _sorted(client.gather(cases)), _sorted(client.gather(days))
    if not by_case[KEYS].equals(by_day[KEYS]):
        raise RuntimeError(
            "the county tasks and the date-range tasks found different snapshots, which is a "
            "bug in riskwarn; build this file without --dask and report it"
        )
    names = REGISTRY.names()
    own = [c for c in by_case.columns if c not in names]
    merged = pd.concat([by_case, by_day.drop(columns=KEYS)], axis=1)
    return merged[[*own, *names]]


def _local(dataset: Dataset, grid: Grid) -> pd.DataFrame:
    from ._builder import build_features
    from ._snapshots import build_snapshots

    snaps = build_snapshots(
        dataset, start=grid.first, end=grid.last, every=grid.every, horizon=grid.horizon
    )
    table = build_features(dataset, snaps[KEYS])
    return pd.concat([snaps, table.drop(columns=KEYS)], axis=1)


def _sorted(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frame = pd.concat(frames, ignore_index=True)
    return frame.sort_values(KEYS[::-1], kind="stable").reset_index(drop=True)
