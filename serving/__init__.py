"""riskwarn.serving: the scoring service and everything it keeps.

``riskwarn serve`` runs :data:`service` (a BentoML 1.4 class-based service) over a
:class:`Store` that holds the history of every dispute, the API keys (hashes only), the
append-only audit log, score snapshots and supervisors' actions, in a schema versioned with
Alembic migrations.

    >>> from starlette.testclient import TestClient       # doctest: +SKIP
    >>> from riskwarn.serving import service               # doctest: +SKIP
    >>> with TestClient(service.to_asgi()) as client: ...  # doctest: +SKIP
"""

from __future__ import annotations

import importlib as _importlib

from riskwarn.serving._ingest import check_records, extend
from riskwarn.serving._keys import Caller, authenticate, authorize, bearer_key, create_key
from riskwarn.serving._records import ACTION_KINDS
from riskwarn.serving._rights import influenced_disputes, record_key
from riskwarn.serving._schemas import (
    MAX_BATCH,
    ActionReport,
    BatchItem,
    BatchRequest,
    BatchResponse,
    CaseIn,
    CaseStatus,
    ErrorResponse,
    ExplainRequest,
    ExplainResponse,
    IngestRequest,
    IngestResponse,
    ItemError,
    ModelInfo,
    Override,
    Reason,
    RecordIssue,
    RoutingPolicyRequest,
    RoutingPolicyResponse,
    ScoreRequest,
    ScoreResponse,
    ScoreResult,
    ScoreWarning,
    WarningDetail,
    WarningEventOut,
    WarningEventRequest,
    WarningList,
    WarningOut,
)
from riskwarn.serving._store import Store

# The service and the scorer pull in BentoML, MLflow and the feature library (seconds to
# import); they load on first use so that `riskwarn keys` and `history` start quickly.
_LAZY = {
    "RiskService": ("riskwarn.serving._service", "RiskService"),
    "service": ("riskwarn.serving._service", "RiskService"),
    "take_snapshot": ("riskwarn.serving._service", "take_snapshot"),
    "Scorer": ("riskwarn.serving._scorer", "Scorer"),
    "CorrectionRequest": ("riskwarn.serving._lineage", "CorrectionRequest"),
    "CorrectionResponse": ("riskwarn.serving._lineage", "CorrectionResponse"),
    "correct_and_recompute": ("riskwarn.serving._lineage", "correct_and_recompute"),
    "lineage": ("riskwarn.serving._lineage", "lineage"),
    "recompute": ("riskwarn.serving._lineage", "recompute"),
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
    "ActionReport",
    "BatchItem",
    "BatchRequest",
    "BatchResponse",
    "Caller",
    "CaseIn",
    "CaseStatus",
    "CorrectionRequest",
    "CorrectionResponse",
    "ErrorResponse",
    "ExplainRequest",
    "ExplainResponse",
    "IngestRequest",
    "IngestResponse",
    "ItemError",
    "MAX_BATCH",
    "ModelInfo",
    "Override",
    "Reason",
    "RecordIssue",
    "RiskService",
    "RoutingPolicyRequest",
    "RoutingPolicyResponse",
    "ScoreRequest",
    "ScoreResponse",
    "ScoreResult",
    "ScoreWarning",
    "Scorer",
    "Store",
    "WarningDetail",
    "WarningEventOut",
    "WarningEventRequest",
    "WarningList",
    "WarningOut",
    "authenticate",
    "authorize",
    "bearer_key",
    "check_records",
    "correct_and_recompute",
    "create_key",
    "extend",
    "influenced_disputes",
    "lineage",
    "recompute",
    "record_key",
    "service",
    "take_snapshot",
]
