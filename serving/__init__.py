"""riskwarn.serving: the scoring service and everything it keeps.

``riskwarn serve`` runs :data:`service` (a BentoML 1.4 class-based service) over a
:class:`Store` that holds the history of every dispute, the API keys (hashes only), the
append-only audit log, score snapshots and supervisors' actions.

    >>> from starlette.testclient import TestClient       # doctest: +SKIP
    >>> from riskwarn.serving import service               # doctest: +SKIP
    >>> with TestClient(service.to_asgi()) as client: ...  # doctest: +SKIP
"""

from __future__ import annotations

from riskwarn.serving._ingest import check_records, extend
from riskwarn.serving._keys import Caller, authenticate, authorize, bearer_key, create_key
from riskwarn.serving._schemas import (
    MAX_BATCH,
    BatchRequest,
    BatchResponse,
    CaseIn,
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
from riskwarn.serving._scorer import TIER_ORDER, Scorer, check_model
from riskwarn.serving._service import RiskService, take_snapshot
from riskwarn.serving._store import ACTION_KINDS, ROLES, Store

service = RiskService

__all__ = [
    "ACTION_KINDS",
    "MAX_BATCH",
    "ROLES",
    "TIER_ORDER",
    "BatchRequest",
    "BatchResponse",
    "Caller",
    "CaseIn",
    "ExplainRequest",
    "ExplainResponse",
    "IngestRequest",
    "IngestResponse",
    "ModelInfo",
    "Reason",
    "RiskService",
    "ScoreRequest",
    "ScoreResponse",
    "ScoreResult",
    "Scorer",
    "Store",
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
