"""riskwarn.serving: the scoring service and everything it keeps.

``riskwarn serve`` runs :data:`service` (a BentoML 1.4 class-based service) over a
:class:`Store` that holds the history of every dispute, the API keys (hashes only), the
append-only audit log, score snapshots and supervisors' actions.

    >>> from starlette.testclient import TestClient       # doctest: +SKIP
    >>> from riskwarn.serving import service               # doctest: +SKIP
    >>> with TestClient(service.to_asgi()) as client: ...  # doctest: +SKIP
"""

from __future__ import annotations

import importlib as _importlib

from riskwarn.serving._ingest import check_records, extend
from riskwarn.serving._keys import Caller, authenticate, authorize, bearer_key, create_key
from riskwarn.serving._schemas import (
    MAX_BATCH,
    BatchRequest,
    BatchResponse,
    CaseIn,
    ErrorResponse,
    ExplainRequest,
    ExplainResponse,
    IngestRequest,
    IngestResponse,
    ModelInfo,
    Reason,
    ScoreRequest,
    ScoreResponse,
    ScoreResult,
)
from riskwarn.serving._store import ACTION_KINDS, ROLES, Store

# The service and the scorer pull in BentoML, MLflow and the feature library (seconds to
# import); they load on first use so that `riskwarn keys` and `history` start quickly.
_LAZY = {
    "RiskService": ("riskwarn.serving._service", "RiskService"),
    "service": ("riskwarn.serving._service", "RiskService"),
    "take_snapshot": ("riskwarn.serving._service", "take_snapshot"),
    "Scorer": ("riskwarn.serving._scorer", "Scorer"),
    "TIER_ORDER": ("riskwarn.serving._scorer", "TIER_ORDER"),
    "check_model": ("riskwarn.serving._scorer", "check_model"),
}


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module 'riskwarn.serving' has no attribute {name!r}")
    module, attr = _LAZY[name]
    value = getattr(_importlib.import_module(module), attr)
    globals()[name] = value
    return value


__all__ = [  # noqa: RUF022 - plain sorted(), as tests/test_exported_members.py checks
    "ACTION_KINDS",
    "BatchRequest",
    "BatchResponse",
    "Caller",
    "CaseIn",
    "ErrorResponse",
    "ExplainRequest",
    "ExplainResponse",
    "IngestRequest",
    "IngestResponse",
    "MAX_BATCH",
    "ModelInfo",
    "ROLES",
    "Reason",
    "RiskService",
    "ScoreRequest",
    "ScoreResponse",
    "ScoreResult",
    "Scorer",
    "Store",
    "TIER_ORDER",
    "authenticate",
    "authorize",
    "bearer_key",
    "check_model",
    "check_records",
    "create_key",
    "extend",
    "service",
    "take_snapshot",
]
