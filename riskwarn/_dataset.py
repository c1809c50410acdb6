"""The typed, in-memory form of a contract dataset.

A :class:`Dataset` holds one pandas DataFrame per contract table, always with every
contract column and the contract's dtypes (ids, enums and text as pandas strings, dates as
``datetime64[ns]``, nullable ints as ``Int64``). Optional tables that were not given are
empty frames, so downstream code never checks for absence.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

import numpy as np
import pandas as pd

from riskwarn._contract import ENDS_AT, KNOWN_FROM, TABLES, TABLES_BY_NAME
from riskwarn.errors import ContractError

_DTYPES = {
    "id": "str",
    "string": "str",
    "enum": "str",
    "int": "Int64",
    "float": "float64",
    "bool": "bool",
    "date": "datetime64[ns]",
    "datetime": "datetime64[ns]",
}


def column_dtype(type_: str) -> str:
    """The pandas dtype a contract column type is held in."""
    return _DTYPES[type_]


def empty_table(name: str) -> pd.DataFrame:
    """An empty frame with the columns and dtypes of contract table ``name``."""
    table = TABLES_BY_NAME[name]
    return pd.DataFrame({c.name: pd.Series([], dtype=column_dtype(c.type)) for c in table.columns})


def coerce_table(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` restricted to the contract columns of ``name``, in contract dtypes.

    Meant for frames that are already valid (the simulator's, the validator's output);
    it does not check values, :func:`riskwarn.validate_dataset` does.
    """
    table = TABLES_BY_NAME[name]
    out = {}
    for c in table.columns:
        s = frame[c.name] if c.name in frame.columns else pd.Series([None] * len(frame))
        dtype = column_dtype(c.type)
        if dtype.startswith("datetime64"):
            s = pd.to_datetime(s).astype(dtype)
        elif dtype == "str":
            s = s.astype("str").where(s.notna(), None) if len(s) else s.astype("str")
            s = s.astype("str")
        else:
            s = s.astype(dtype)
        out[c.name] = s.reset_index(drop=True)
    return pd.DataFrame(out)


@dataclass(frozen=True)
class Dataset:
    """A contract dataset in memory: one typed DataFrame per table.

    Build one with :func:`riskwarn.load_dataset` (from files, validated) or
    :meth:`Dataset.from_frames` (from frames already valid, e.g. the simulator's).
    """

    persons: pd.DataFrame
    grids: pd.DataFrame
    person_flags: pd.DataFrame
    relationships: pd.DataFrame
    disputes: pd.DataFrame
    dispute_parties: pd.DataFrame
    dispute_events: pd.DataFrame
    petitions: pd.DataFrame
    incidents: pd.DataFrame
    incident_persons: pd.DataFrame
    interventions: pd.DataFrame

    @classmethod
    def from_frames(cls, **frames: pd.DataFrame) -> Dataset:
        """Assemble a dataset from frames named after contract tables; absent ones are empty."""
        unknown = set(frames) - set(TABLES_BY_NAME)
        if unknown:
            near = {
                name: difflib.get_close_matches(name, list(TABLES_BY_NAME), n=1)
                for name in sorted(unknown)
            }
            hints = ", ".join(
                f"{name!r}" + (f" (did you mean {m[0]!r}?)" if m else "")
                for name, m in near.items()
            )
            raise ContractError(
                f"unknown contract tables {hints}; expected names from {', '.join(TABLES_BY_NAME)}"
            )
        return cls(
            **{
                t.name: coerce_table(t.name, frames[t.name])
                if t.name in frames
                else empty_table(t.name)
                for t in TABLES
            }
        )

    def table(self, name: str) -> pd.DataFrame:
        return getattr(self, name)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def end(self) -> pd.Timestamp:
        """The latest timestamp anywhere in the data: where labels stop being known."""
        stamps = [
            self.table(t)[col].max()
            for t, col in KNOWN_FROM.items()
            if col is not None and len(self.table(t))
        ]
        stamps = [s for s in stamps if pd.notna(s)]
        return max(stamps) if stamps else pd.NaT

    @property
    def start(self) -> pd.Timestamp:
        """The first dispute's registration time."""
        return self.disputes["reported_at"].min()

    def cut(self, as_of: str | pd.Timestamp) -> Dataset:
        """What the platform knew at ``as_of``: rows dated after it dropped, unpassed ends blanked.

        This is the contract's point-in-time rule as a function; features of (d, t) built
        from ``ds.cut(t)`` must equal those built from ``ds``.
        """
        t = pd.Timestamp(as_of)
        out: dict[str, pd.DataFrame] = {}
        for name, frame in self.tables().items():
            col = KNOWN_FROM[name]
            if col is not None:
                stamp = frame[col]
                keep = stamp.isna() | (stamp <= t) if name == "relationships" else stamp <= t
                frame = frame.loc[keep.to_numpy()]
            end = ENDS_AT.get(name)
            if end is not None:
                frame = frame.copy()
                frame.loc[frame[end] > t, end] = pd.NaT
            out[name] = frame.reset_index(drop=True)
        kept_disputes = out["disputes"]["dispute_id"]
        out["dispute_parties"] = out["dispute_parties"][
            out["dispute_parties"]["dispute_id"].isin(kept_disputes)
        ].reset_index(drop=True)
        out["incident_persons"] = out["incident_persons"][
            out["incident_persons"]["incident_id"].isin(out["incidents"]["incident_id"])
        ].reset_index(drop=True)
        out["interventions"] = out["interventions"][
            out["interventions"]["dispute_id"].isin(kept_disputes)
        ].reset_index(drop=True)
        pet = out["petitions"]
        known_dispute = pet["dispute_id"].isna() | pet["dispute_id"].isin(kept_disputes)
        out["petitions"] = pet.assign(
            dispute_id=pet["dispute_id"].where(known_dispute.to_numpy(), None)
        )
        inc = out["incidents"]
        known_dispute = inc["dispute_id"].isna() | inc["dispute_id"].isin(kept_disputes)
        out["incidents"] = inc.assign(
            dispute_id=inc["dispute_id"].where(known_dispute.to_numpy(), None)
        )
        return replace(self, **out)

    def without(self, drop: Mapping[str, np.ndarray]) -> Dataset:
        """This dataset without the rows ``drop`` marks (a boolean mask per table name), and
        without what cannot stand alone: a dropped dispute's parties, events and
        interventions, a dropped incident's people; petitions and incidents that named a
        dropped dispute keep their own rows, with ``dispute_id`` blanked (as :meth:`cut`
        does for a dispute not yet known)."""
        unknown = set(drop) - set(TABLES_BY_NAME)
        if unknown:
            raise ContractError(f"unknown contract tables {sorted(unknown)} in rows to drop")
        out: dict[str, pd.DataFrame] = {}
        for name, frame in self.tables().items():
            mask = drop.get(name)
            if mask is not None and len(mask) and np.asarray(mask, dtype=bool).any():
                frame = frame.loc[~np.asarray(mask, dtype=bool)].reset_index(drop=True)
            out[name] = frame
        if len(out["disputes"]) < len(self.disputes):
            kept = out["disputes"]["dispute_id"]
            for name in ("dispute_parties", "dispute_events", "interventions"):
                frame = out[name]
                out[name] = frame[frame["dispute_id"].isin(kept)].reset_index(drop=True)
            for name in ("petitions", "incidents"):
                frame = out[name]
                known = frame["dispute_id"].isna() | frame["dispute_id"].isin(kept)
                out[name] = frame.assign(
                    dispute_id=frame["dispute_id"].where(known.to_numpy(), None)
                )
        if len(out["incidents"]) < len(self.incidents):
            ip = out["incident_persons"]
            keep = ip["incident_id"].isin(out["incidents"]["incident_id"])
            out["incident_persons"] = ip[keep].reset_index(drop=True)
        return replace(self, **out)

    def retained(self, policy: object, at: object) -> Dataset:
        """What may still be used at ``at`` under retention ``policy`` (a
        :class:`riskwarn.RetentionPolicy`): rows expired by then dropped (:meth:`without`)."""
        from riskwarn._retention import expiry

        return expiry(self, policy).retained(at)  # type: ignore[arg-type]

    def digest(self) -> str:
        """A content hash of the dataset (row order insensitive), for experiment tracking.

        Tables added to the contract later (``Table.extension``) count only when they hold
        rows, so a dataset keeps the digest it had before they existed.
        """
        h = hashlib.sha256()
        for name, frame in self.tables().items():
            if frame.empty and TABLES_BY_NAME[name].extension:
                continue
            h.update(name.encode())
            row_hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
            h.update(np.sort(row_hashes).tobytes())
        return h.hexdigest()[:16]

    def summary(self) -> dict[str, int]:
        """Row counts per table."""
        return {name: len(frame) for name, frame in self.tables().items()}
