"""Features files: labelled snapshots with every feature, in Parquet, with their provenance.

``riskwarn features DIR --out FILE.parquet`` writes one; ``riskwarn train --features`` and
``riskwarn experiment run --features`` read it instead of building the features again, so
a dataset's features are built once and every experiment reuses them. The file's Parquet
metadata (key ``riskwarn.features``) records what it was built from: the dataset's digest,
the feature registry version, the snapshot grid (every, horizon, start, end) and the
``--train-until`` cut if any. A reader checks the digest and the registry version before
using a file, and says which differ.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from riskwarn.errors import ConfigError

from ._registry import REGISTRY, REGISTRY_VERSION

METADATA_KEY = b"riskwarn.features"
SNAPSHOT_COLUMNS = ("dispute_id", "as_of", "label", "label_known")


@dataclass(frozen=True)
class FeatureFile:
    """What a features file was built from (its Parquet metadata)."""

    dataset_digest: str
    registry_version: str
    every: int
    horizon: int
    start: str | None = None  # the --start given, ISO; None: the first dispute's day
    end: str | None = None  # the --end given, ISO; None: the end of the data
    train_until: str | None = None  # the --train-until cut, ISO; None: all the data
    retention: str | None = None  # the --retention policy's digest; None: no policy
    rows: int = 0

    @property
    def until(self) -> pd.Timestamp | None:
        return None if self.train_until is None else pd.Timestamp(self.train_until)

    @classmethod
    def of(cls, path: str | Path) -> FeatureFile:
        """The provenance recorded in features file ``path`` (its metadata only)."""
        p = Path(path)
        if not p.is_file():
            raise ConfigError(
                f"expected a features file written by `riskwarn features`, got {str(p)!r}, "
                "which does not exist"
            )
        try:
            meta = pq.read_schema(p).metadata or {}
        except (pa.ArrowInvalid, OSError) as exc:
            raise ConfigError(f"expected a Parquet features file, got {str(p)!r}: {exc}") from exc
        raw = meta.get(METADATA_KEY)
        if raw is None:
            raise ConfigError(
                f"{p} holds no riskwarn features metadata; write it with "
                "`riskwarn features DIR --out FILE.parquet`"
            )
        return cls(**json.loads(raw))

    def check(self, digest: str, path: str | Path) -> None:
        """Raise a :class:`ConfigError` unless the file was built from a dataset with
        ``digest`` by this code's feature registry; the message names both of each."""
        wrong = []
        if self.dataset_digest != digest:
            wrong.append(f"dataset digest {self.dataset_digest} (this dataset: {digest})")
        if self.registry_version != REGISTRY_VERSION:
            wrong.append(
                f"feature registry {self.registry_version} (this code: {REGISTRY_VERSION})"
            )
        if wrong:
            raise ConfigError(
                f"features file {path} was built with {' and '.join(wrong)}; rebuild it from "
                f"this dataset with `riskwarn features DIR --out {path}` or train without "
                "--features"
            )


def write_features(table: pd.DataFrame, path: str | Path, info: FeatureFile) -> Path:
    """Write ``table`` (snapshot columns, then every registry feature) to ``path`` as
    Parquet, with ``info`` in the file's metadata."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    meta = dict(arrow.schema.metadata or {})
    meta[METADATA_KEY] = json.dumps(asdict(info) | {"rows": len(table)}).encode()
    pq.write_table(arrow.replace_schema_metadata(meta), out)
    return out


def read_features(path: str | Path) -> tuple[pd.DataFrame, FeatureFile]:
    """The table in features file ``path`` (columns typed as ``build_features`` types
    them) and its provenance."""
    from ._builder import column

    info = FeatureFile.of(path)
    table = pd.read_parquet(path)
    missing = [c for c in (*SNAPSHOT_COLUMNS, *REGISTRY.names()) if c not in table.columns]
    if missing:
        raise ConfigError(
            f"{path} lacks columns {missing[:5]}; rebuild it with `riskwarn features`"
        )
    out = {
        "dispute_id": table["dispute_id"].astype("str"),
        "as_of": table["as_of"].astype("datetime64[ns]"),
        "label": table["label"].astype("Int8"),
        "label_known": table["label_known"].astype(bool),
    }
    for name in REGISTRY.names():
        out[name] = column(name, table[name].to_numpy())
    return pd.DataFrame(out), info
