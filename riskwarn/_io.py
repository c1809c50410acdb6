"""Writing a dataset to a contract directory (CSV, Parquet, or a mix)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from riskwarn._contract import TABLES_BY_NAME
from riskwarn._dataset import Dataset
from riskwarn.errors import ConfigError


def _csv_frame(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Render dates, datetimes and bools the way the contract spells them in CSV."""
    out = frame.copy()
    for col in TABLES_BY_NAME[name].columns:
        s = out[col.name]
        if col.type == "date":
            out[col.name] = s.dt.strftime("%Y-%m-%d")
        elif col.type == "datetime":
            out[col.name] = s.dt.strftime("%Y-%m-%dT%H:%M:%S")
        elif col.type == "bool":
            out[col.name] = s.map({True: "true", False: "false"})
    return out


def write_dataset(
    dataset: Dataset,
    path: str | Path,
    format: str | Mapping[str, str] = "csv",
    *,
    skip_empty: bool = True,
) -> Path:
    """Write ``dataset`` as a contract directory at ``path`` and return the path.

    ``format`` is ``"csv"``, ``"parquet"``, or a mapping of table name to either (tables
    not named are written as CSV). Empty optional tables are left out unless
    ``skip_empty`` is false.
    """
    out = check_output_dir(path)
    formats = {
        name: format if isinstance(format, str) else format.get(name, "csv")
        for name in TABLES_BY_NAME
    }
    for name, fmt in formats.items():
        if fmt not in ("csv", "parquet"):
            raise ConfigError(f"format for {name} must be 'csv' or 'parquet', got {fmt!r}")
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in dataset.tables().items():
        # a table of an earlier dataset in this folder must not survive into this one
        for stale in (out / f"{name}.csv", out / f"{name}.parquet"):
            stale.unlink(missing_ok=True)
        if skip_empty and frame.empty and not TABLES_BY_NAME[name].required:
            continue
        if formats[name] == "parquet":
            frame.to_parquet(out / f"{name}.parquet", index=False)
        else:
            _csv_frame(name, frame).to_csv(out / f"{name}.csv", index=False)
    return out


def check_output_dir(path: str | Path) -> Path:
    """The folder to write a dataset into; refuses a path that is a file, before any work."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} is a file, not a folder: give a folder to write the tables into")
    return out
