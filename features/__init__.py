"""riskwarn.features: point-in-time snapshots, labels and features of disputes.

    >>> from riskwarn.features import build_snapshots, build_features
    >>> snaps = build_snapshots(dataset, every=30, horizon=90)    # doctest: +SKIP
    >>> table = build_features(dataset, snaps)                    # doctest: +SKIP

Every feature is declared once in :data:`REGISTRY` (docs/features.md is generated from
it); :class:`FeatureBuilder` computes them for snapshots, one held case, or a new case.
Key facts (:data:`FACTS`: an earlier incident between the parties, a recent threat, ...)
are declared the same way and computed by the same three paths (``facts``, ``facts_for``,
``facts_for_case``). :func:`build_features_dask` builds the same table as Dask tasks on a
cluster (``riskwarn[distributed]``; docs/scale.md).
"""

from __future__ import annotations

from ._builder import FeatureBuilder, build_facts, build_features
from ._dask import build_features_dask, dask_client
from ._facts import FACT_CODES, FACTS, FactSpec, KeyFact, fact_spec
from ._file import FeatureFile, read_features, write_features
from ._groups import snapshot_groups
from ._registry import REGISTRY, REGISTRY_VERSION, FeatureRegistry, write_feature_docs
from ._snapshots import build_snapshots, label_cases, open_disputes
from ._specs import FeatureSpec

__all__ = [  # noqa: RUF022 - plain sorted(), as tests/test_exported_members.py checks
    "FACTS",
    "FACT_CODES",
    "FactSpec",
    "FeatureBuilder",
    "FeatureFile",
    "FeatureRegistry",
    "FeatureSpec",
    "KeyFact",
    "REGISTRY",
    "REGISTRY_VERSION",
    "build_facts",
    "build_features",
    "build_features_dask",
    "build_snapshots",
    "dask_client",
    "fact_spec",
    "label_cases",
    "open_disputes",
    "read_features",
    "snapshot_groups",
    "write_feature_docs",
    "write_features",
]
