"""The riskwarn scoring service: a BentoML 1.4 class-based service.

Configured from the environment, because BentoML builds the service object in its own
worker processes (``riskwarn serve`` sets these):

- ``RISKWARN_MODEL_URI``: the model to serve (default ``models:/riskwarn@champion``);
- ``MLFLOW_TRACKING_URI``: where that model is registered (default the embedded store);
- ``RISKWARN_DB_URL``: the store of history, keys, audit, snapshots, actions.

Every endpoint but liveness and readiness needs ``Authorization: Bearer KEY`` (the
workbench under ``/ui`` signs its users in with the same keys). Roles are ranked, and each
inherits the endpoints of the roles below it:

- ``scorer`` (the case platform): ``/v1/score``, ``/v1/score_batch``, ``/v1/model``;
- ``supervisor``: those, ``/v1/explain`` and the workbench pages;
- ``admin``: all of them, ``/v1/ingest``, ``/v1/reload`` and ``/v1/snapshot``.

Every score and explanation is written to the append-only audit log. Errors come back as
``{"error": ..., "detail": [...], "issues": [...]}`` with their 4xx status; ``error`` names
each field path, what was expected and what came (``cases[0].top_k: expected less than or
equal to 50, got 99``), as the OpenAPI document at ``/docs.json`` describes.

Workers: each worker process holds its own copy of the history (read from the store at
start). With ``riskwarn serve --workers N`` (N > 1) scoring, explaining and snapshots are
safe, but ``/v1/ingest`` and ``/v1/reload`` are refused: they would change one worker's
copy only. Ingest through a single-worker service (or load with ``riskwarn history load``
and restart). Ingest checks ids against the store, not only its own copy, so a record
loaded behind the service's back is refused with a 422, never written twice; after
``history load --replace`` while serving, POST /v1/reload so that scores read the new
history.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import inspect
import json
import os
import uuid
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import bentoml
from fastapi import FastAPI, Request
from starlette.responses import JSONResponse

from riskwarn import config
from riskwarn.errors import (
    ConfigError,
    ModelMismatchError,
    ModelNotFoundError,
    RequestError,
    RiskwarnError,
    UnknownRecordError,
)
from riskwarn.serving._http import KeyGuard, error_response, quiet_client_errors
from riskwarn.serving._ingest import check_records, extend
from riskwarn.serving._keys import Caller, authenticate, authorize, bearer_key
from riskwarn.serving._schemas import (
    BatchRequest,
    BatchResponse,
    ExplainRequest,
    ExplainResponse,
    IngestRequest,
    IngestResponse,
    ModelInfo,
    ReloadRequest,
    ReloadResponse,
    ScoreRequest,
    ScoreResponse,
    ScoreResult,
    SnapshotRequest,
    SnapshotResponse,
)
from riskwarn.serving._scorer import Scorer, Scores, iso, reasons
from riskwarn.serving._store import Store
from riskwarn.serving._workbench import make_workbench
from riskwarn.training import load_model


@contextlib.contextmanager
def _bentoml_quiet() -> Iterator[None]:
    """bentoml 1.4.39 warns of its own deprecated calls (pathspec's 'gitwildmatch', pydantic's
    ``__get_pydantic_core_schema__``) while its SDK loads and builds a service; not ours."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", category=DeprecationWarning, module=r"(_bentoml_sdk|pathspec|bentoml)\b"
        )
        yield


with _bentoml_quiet():
    bentoml.service  # noqa: B018 - load the lazy SDK here


DEFAULT_MODEL_URI = "models:/riskwarn@champion"


def _error(exc: RiskwarnError) -> JSONResponse:
    return error_response(exc)


def _answers(method: Callable[..., Any]) -> Callable[..., Any]:
    """Turn riskwarn's own errors into JSON answers with their 4xx status (sync or async)."""

    def failed(exc: RiskwarnError, ctx: bentoml.Context) -> JSONResponse:
        # BentoML sets the answer's status from the context after the method returns.
        ctx.response.status_code = exc.http_status_code()
        return _error(exc)

    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return await method(*args, **kwargs)
            except RiskwarnError as exc:
                return failed(exc, kwargs["ctx"])

        return async_wrapper

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except RiskwarnError as exc:
            return failed(exc, kwargs["ctx"])

    return wrapper


def _single_worker(what: str) -> None:
    """ConfigError unless the service runs one worker (see the module's docstring)."""
    workers = int(os.environ.get("RISKWARN_WORKERS", "1") or 1)
    if workers > 1:
        raise ConfigError(
            f"{what}: expected a service with one worker, got {workers} (--workers "
            f"{workers}); each worker holds its own copy of the history, so this would change "
            "one of them only. Serve with --workers 1 to ingest or reload, or load with "
            "`riskwarn history load` and restart the service"
        )


def _request_id() -> str:
    return uuid.uuid4().hex


def _now() -> dt.datetime:
    return dt.datetime.now()


def _results(scores: Scores, version: str, top_k: list[int]) -> list[ScoreResult]:
    names, values = scores.names, scores.values
    return [
        ScoreResult(
            dispute_id=case.dispute_id,
            as_of=iso(case.as_of),
            risk=float(scores.risk[i]),
            tier=str(scores.tiers[i]),
            model_version=version,
            reasons=reasons(names, values[i], scores.contrib[i], top_k[i]),
        )
        for i, case in enumerate(scores.cases)
    ]


def _audit_rows(caller: Caller, action: str, request_id: str, results: list[Any]) -> list[dict]:
    return [
        {
            "key_name": caller.name,
            "action": action,
            "request_id": request_id,
            "dispute_id": r.dispute_id,
            "as_of": dt.datetime.fromisoformat(r.as_of),
            "model_version": r.model_version,
            "risk": r.risk,
            "tier": r.tier,
        }
        for r in results
    ]


model_app = FastAPI(title="riskwarn model", openapi_url=None, docs_url=None, redoc_url=None)


@model_app.exception_handler(RiskwarnError)
async def _model_app_error(_: Request, exc: RiskwarnError) -> JSONResponse:
    return _error(exc)


@model_app.get("/model", response_model=ModelInfo)
def get_model(request: Request) -> ModelInfo:
    """Model version, training windows, metrics, tier thresholds and the model card."""
    svc = bentoml.get_current_service()
    caller = request.state.caller
    svc.store.audit([{"key_name": caller.name, "action": "model", "request_id": _request_id()}])
    return svc.model_info()


with _bentoml_quiet():  # the service is built while this module loads

    @bentoml.service(
        name="riskwarn",
        workers=int(os.environ.get("RISKWARN_WORKERS", "1")),
        traffic={"timeout": 120},
        logging={"access": {"enabled": False}},
    )
    @bentoml.asgi_app(model_app, path="/v1", name="model")
    class RiskService:
        """riskwarn: risk, tier and reasons for disputes, for the case platform."""

        def __init__(self) -> None:
            self.model_uri = os.environ.get("RISKWARN_MODEL_URI", DEFAULT_MODEL_URI)
            self.tracking_uri = config.tracking_uri()
            self.store = Store(config.store_url()).create()
            model = load_model(self.model_uri, tracking_uri=self.tracking_uri)
            self.scorer = Scorer(model, self.store.read_dataset())

        # access ------------------------------------------------------------------------------

        def caller(self, authorization: str | None, roles: tuple[str, ...], what: str) -> Caller:
            caller = authenticate(self.store, bearer_key(authorization))
            authorize(caller, roles, what)
            return caller

        @staticmethod
        def _caller(ctx: bentoml.Context) -> Caller:
            return ctx.request.state.caller  # set by KeyGuard

        def _current_history(self) -> Any:
            """The history as the store holds it: this worker's copy, or the store's when it
            changed behind the service's back (``history load --replace``)."""
            held = self.scorer.dataset
            mine = {name: len(frame) for name, frame in held.tables().items()}
            if self.store.history_counts() != mine:
                self.scorer = self.scorer.with_dataset(self.store.read_dataset())
            return self.scorer.dataset

        # scores ------------------------------------------------------------------------------

        def model_info(self) -> ModelInfo:
            m = self.scorer.model
            meta = dict(m.metadata or {})
            return ModelInfo(
                version=str(m.version),
                uri=str(m.uri),
                registry_version=str(m.registry_version),
                feature_names=list(m.feature_names),
                thresholds=dict(m.thresholds),
                windows=dict(meta.get("windows") or {}),
                metrics=dict(meta.get("metrics") or {}),
                card=str(meta.get("model_card") or meta.get("card") or ""),
                metadata=json.loads(json.dumps(meta, default=str)),
            )

        @bentoml.api(route="/v1/score")
        @_answers
        async def score(self, request: ScoreRequest, /, ctx: bentoml.Context) -> ScoreResponse:
            """Risk, tier and the top reasons for one case (stored dispute or full case).

            A few milliseconds of work, done on the event loop: no thread hand-off."""
            caller, scorer = self._caller(ctx), self.scorer
            case = scorer.resolve(request, _now())
            scores = scorer.score([case])
            version = str(scorer.model.version)
            result = _results(scores, version, [request.top_k])[0]
            request_id = _request_id()
            self.store.audit(_audit_rows(caller, "score", request_id, [result]))
            return ScoreResponse(request_id=request_id, **result.model_dump())

        @bentoml.api(route="/v1/score_batch")
        @_answers
        def score_batch(self, request: BatchRequest, /, ctx: bentoml.Context) -> BatchResponse:
            """Up to 1,000 cases in one call; the same answers as /v1/score, in order.

            Runs in BentoML's worker thread, not on the event loop, so a large batch does not
            hold up single cases."""
            caller = self._caller(ctx)
            scorer, now = self.scorer, _now()
            cases = [scorer.resolve(r, now, f"cases[{i}].") for i, r in enumerate(request.cases)]
            scores = scorer.score(cases)
            version = str(scorer.model.version)
            results = _results(scores, version, [r.top_k for r in request.cases])
            request_id = _request_id()
            self.store.audit(_audit_rows(caller, "score", request_id, results))
            return BatchResponse(request_id=request_id, model_version=version, results=results)

        @bentoml.api(route="/v1/explain")
        @_answers
        async def explain(
            self, request: ExplainRequest, /, ctx: bentoml.Context
        ) -> ExplainResponse:
            """Every feature's contribution and the base value (for the pages and audits)."""
            caller, scorer = self._caller(ctx), self.scorer
            case = scorer.resolve(request, _now())
            scores = scorer.score([case])
            version = str(scorer.model.version)
            answer = ExplainResponse(
                request_id=_request_id(),
                dispute_id=case.dispute_id,
                as_of=iso(case.as_of),
                risk=float(scores.risk[0]),
                tier=str(scores.tiers[0]),
                model_version=version,
                base_value=float(scores.base[0]),
                contributions=reasons(scores.names, scores.values[0], scores.contrib[0], None),
            )
            self.store.audit(_audit_rows(caller, "explain", answer.request_id, [answer]))
            return answer

        # history and model -------------------------------------------------------------------

        @bentoml.api(route="/v1/ingest")
        @_answers
        def ingest(self, request: IngestRequest, /, ctx: bentoml.Context) -> IngestResponse:
            """Append new records (contract tables); a bad record rejects the whole batch."""
            caller = self._caller(ctx)
            _single_worker("POST /v1/ingest")
            current = self._current_history()
            frames = check_records(request.model_dump(), current)
            added = self.store.append_history(frames)  # checks the ids against the store
            self.scorer = self.scorer.with_dataset(extend(current, frames))
            request_id = _request_id()
            self.store.audit(
                [
                    {
                        "key_name": caller.name,
                        "action": "ingest",
                        "request_id": request_id,
                        "detail": json.dumps(added),
                    }
                ]
            )
            return IngestResponse(request_id=request_id, added=added)

        @bentoml.api(route="/v1/reload")
        @_answers
        def reload(self, request: ReloadRequest, /, ctx: bentoml.Context) -> ReloadResponse:
            """Load the model again (the alias may point elsewhere now) and re-read the store."""
            caller = self._caller(ctx)
            _single_worker("POST /v1/reload")
            uri = request.model or self.model_uri
            try:
                scorer = Scorer(
                    load_model(uri, tracking_uri=self.tracking_uri), self.store.read_dataset()
                )
            except ModelNotFoundError as exc:
                raise UnknownRecordError(f"model: {exc}") from exc
            except ModelMismatchError as exc:
                raise RequestError(f"model: {exc}") from exc
            self.scorer, self.model_uri = scorer, uri
            request_id = _request_id()
            version = str(scorer.model.version)
            self.store.audit(
                [
                    {
                        "key_name": caller.name,
                        "action": "reload",
                        "request_id": request_id,
                        "model_version": version,
                        "detail": uri,
                    }
                ]
            )
            return ReloadResponse(
                request_id=request_id,
                model_version=version,
                model_uri=uri,
                disputes=len(scorer.dataset.disputes),
            )

        @bentoml.api(route="/v1/snapshot")
        @_answers
        def snapshot(self, request: SnapshotRequest, /, ctx: bentoml.Context) -> SnapshotResponse:
            """Score every dispute open at ``as_of`` and store the scores (the queue's source)."""
            caller = self._caller(ctx)
            request_id = _request_id()
            as_of, stored = take_snapshot(self.scorer, self.store, request.as_of or _now())
            self.store.audit(
                [
                    {
                        "key_name": caller.name,
                        "action": "snapshot",
                        "request_id": request_id,
                        "as_of": as_of,
                        "model_version": str(self.scorer.model.version),
                        "detail": json.dumps({"stored": stored}),
                    }
                ]
            )
            return SnapshotResponse(request_id=request_id, as_of=iso(as_of), stored=stored)


def _authorize(header: str | None, roles: tuple[str, ...], what: str) -> Caller:
    return bentoml.get_current_service().caller(header, roles, what)


RiskService.add_asgi_middleware(KeyGuard, authorize=_authorize)
quiet_client_errors()
# The supervisor workbench (issue 7) is served by the same process under /ui; it signs its
# users in with supervisor or admin keys and reads this service's store and scorer.
RiskService.mount_asgi_app(
    make_workbench(bentoml.get_current_service), path="/ui", name="workbench"
)


def take_snapshot(
    scorer: Scorer, store: Store, when: dt.datetime, chunk: int = 1000
) -> tuple[Any, int]:
    """Score all disputes open at ``when`` and store one snapshot row each."""
    import pandas as pd

    as_of = pd.Timestamp(when).floor("s")
    cases = scorer.open_cases(as_of)
    version = str(scorer.model.version)
    stored = 0
    for start in range(0, len(cases), chunk):
        scores = scorer.score(cases[start : start + chunk])
        results = _results(scores, version, [3] * len(scores.cases))
        stored += store.add_snapshots(
            {
                "dispute_id": r.dispute_id,
                "as_of": as_of.to_pydatetime(),
                "model_version": r.model_version,
                "risk": r.risk,
                "tier": r.tier,
                "reasons": [x.model_dump() for x in r.reasons],
            }
            for r in results
        )
    return as_of.to_pydatetime(), stored
