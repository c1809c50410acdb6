"""Snapshots: the (dispute, as_of) units of the prediction task, with their labels.

Open and label follow docs/contract.md exactly: a dispute is open at t when it was
reported at or before t and its last ``closed``/``reopened`` event at or before t (if any)
is a reopening; the label is 1 when an incident occurs in ``(as_of, as_of + H]`` that is
linked to the dispute by ``dispute_id`` or through any of its parties.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskwarn._dataset import Dataset
from riskwarn.errors import ConfigError

from ._graph import unique_inverse
from ._index import NS_DAY, Index


def _timestamp(value: object, what: str) -> pd.Timestamp:
    try:
        t = pd.Timestamp(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"expected {what} as a date like 2024-01-31, got {value!r}; pass an ISO date"
        ) from exc
    if pd.isna(t):
        raise ConfigError(f"expected {what} as a date like 2024-01-31, got {value!r}")
    return t


def open_disputes(dataset: Dataset, as_of: object) -> list[str]:
    """Ids of the disputes open at ``as_of`` (sorted), e.g. for batch scoring."""
    t = _timestamp(as_of, "as_of")
    index = Index.of(dataset)
    mask = index.open_mask(int(t.value))
    return [str(x) for x in index.dispute_ids[mask]]


def _grid(dataset: Dataset, start: object, end: object, every: int) -> pd.DatetimeIndex:
    if every < 1:
        raise ConfigError(f"expected every >= 1 day, got {every}; pass a positive number of days")
    first = dataset.start if start is None else _timestamp(start, "start")
    last = dataset.end if end is None else _timestamp(end, "end")
    return grid_dates(first, last, every)


def grid_dates(first: object, last: object, every: int) -> pd.DatetimeIndex:
    """The snapshot dates: ``first``'s midnight, then every ``every`` days up to ``last``."""
    if pd.isna(first) or pd.isna(last):
        return pd.DatetimeIndex([], dtype="datetime64[ns]")
    start = pd.Timestamp(first).normalize()  # type: ignore[arg-type]
    return pd.date_range(start, last, freq=f"{every}D").astype("datetime64[ns]")


def _linked_incidents(index: Index) -> pd.DataFrame:
    """(dispute, time) of every incident linked to a dispute by id or through a party."""
    direct = index.incident_dispute >= 0
    by_id = pd.DataFrame({"d": index.incident_dispute[direct], "i": np.flatnonzero(direct)})
    pi = index.person_incidents
    pd_ = index.person_disputes
    inc = pd.DataFrame(
        {"p": np.repeat(np.arange(index.n_persons), np.diff(pi.start)), "i": pi.cols["incident"]}
    )
    disp = pd.DataFrame(
        {"p": np.repeat(np.arange(index.n_persons), np.diff(pd_.start)), "d": pd_.cols["dispute"]}
    )
    by_party = inc.merge(disp, on="p")[["d", "i"]]
    links = pd.concat([by_id, by_party], ignore_index=True).drop_duplicates()
    links["time"] = index.incident_time[links["i"].to_numpy()]
    return links[["d", "time"]]


def _labels(index: Index, disputes: np.ndarray, as_of: np.ndarray, horizon: int) -> np.ndarray:
    """1 when a linked incident falls in (as_of, as_of + horizon days], else 0."""
    links = _linked_incidents(index)
    out = np.zeros(len(disputes), dtype=np.int8)
    if links.empty or len(disputes) == 0:
        return out
    # one search for all rows: times replaced by their ranks, so (dispute, time) is one key
    d, times = links["d"].to_numpy(np.int64), links["time"].to_numpy(np.int64)
    ranks = unique_inverse(np.concatenate([times, np.asarray(as_of, dtype=np.int64)]))[1]
    width = int(ranks.max()) + 1
    keys = d * width + ranks[: len(times)]
    order = np.argsort(keys, kind="stable")
    keys, times, d = keys[order], times[order], d[order]
    k = np.searchsorted(keys, disputes * width + ranks[len(times) :], side="right")
    found = k < len(keys)
    at = np.minimum(k, len(keys) - 1)
    found &= (d[at] == disputes) & (times[at] <= as_of + horizon * NS_DAY)
    out[found] = 1
    return out


def build_snapshots(
    dataset: Dataset,
    start: object = None,
    end: object = None,
    every: int = 30,
    horizon: int = 90,
    *,
    data_end: object = None,
) -> pd.DataFrame:
    """One row per dispute open at each ``as_of`` of the grid ``start, start+every, …, end``.

    Columns: ``dispute_id``, ``as_of`` (midnight), ``label`` (Int8, <NA> when unknown) and
    ``label_known`` (``as_of + horizon <= data_end``). ``start`` defaults to the day of
    the first dispute, ``end`` and ``data_end`` to ``dataset.end`` (``data_end``: where the
    data ends when ``dataset`` is one part of a larger one, e.g. a county of a province).
    Rows are sorted by as_of, dispute_id.
    """
    if horizon < 1:
        raise ConfigError(f"expected horizon >= 1 day, got {horizon}; pass a positive number")
    grid = _grid(dataset, start, end, every)
    index = Index.of(dataset)
    disputes, stamps = [], []
    for t in grid:
        open_ = np.flatnonzero(index.open_mask(int(t.value)))
        disputes.append(open_)
        stamps.append(np.full(len(open_), t.value, dtype=np.int64))
    d = np.concatenate(disputes) if disputes else np.array([], dtype=np.int64)
    t = np.concatenate(stamps) if stamps else np.array([], dtype=np.int64)
    last = dataset.end if data_end is None else pd.Timestamp(data_end)  # type: ignore[arg-type]
    end_ns = last.value if pd.notna(last) else np.iinfo(np.int64).min
    known = t + horizon * NS_DAY <= end_ns
    label = pd.array(_labels(index, d, t, horizon), dtype="Int8")
    label[~known] = pd.NA
    return pd.DataFrame(
        {
            "dispute_id": pd.array(index.dispute_ids[d], dtype="str"),
            "as_of": pd.to_datetime(t).astype("datetime64[ns]"),
            "label": label,
            "label_known": known,
        }
    )


def label_cases(
    dataset: Dataset, dispute_ids: object, as_of: object, horizon: int = 90
) -> pd.DataFrame:
    """The contract's label of any ``(dispute_id, as_of)`` pairs (e.g. warnings at their
    issue): ``label`` 1 when a linked incident falls in ``(as_of, as_of + horizon]`` (Int8,
    <NA> when the horizon runs past the data) and ``label_known``. Rows keep the input's
    order; an unknown dispute id is an error naming it."""
    if horizon < 1:
        raise ConfigError(f"expected horizon >= 1 day, got {horizon}; pass a positive number")
    ids = pd.Series(dispute_ids, dtype="str").reset_index(drop=True)
    t = pd.to_datetime(pd.Series(as_of)).astype("datetime64[ns]").reset_index(drop=True)
    if len(ids) != len(t):
        raise ConfigError(f"expected one as_of per dispute id, got {len(t)} for {len(ids)}")
    index = Index.of(dataset)
    position = pd.Series(np.arange(len(index.dispute_ids)), index=index.dispute_ids.astype(str))
    d = position.reindex(ids.to_numpy())
    if d.isna().any():
        missing = ids[d.isna().to_numpy()].iloc[0]
        raise ConfigError(f"dispute {missing!r} is not in the dataset; label only its disputes")
    stamps = t.to_numpy().astype(np.int64)
    end_ns = dataset.end.value if pd.notna(dataset.end) else np.iinfo(np.int64).min
    known = stamps + horizon * NS_DAY <= end_ns
    label = pd.array(_labels(index, d.to_numpy(np.int64), stamps, horizon), dtype="Int8")
    label[~known] = pd.NA
    return pd.DataFrame({"dispute_id": ids, "as_of": t, "label": label, "label_known": known})
