"""The public HTTP API: one declaration per endpoint, from which everything else derives.

Each endpoint is declared once with :func:`endpoint`: its route and method, the least key
role it needs, its tag (one per audience), the request and response models (the function's
signature) and the riskwarn errors it may answer. From that one declaration come

- access control: :class:`Endpoint` checks the bearer key and its role before it reads a
  body, so a caller without the right key learns nothing and sends nothing for long;
- the OpenAPI document at ``/docs.json`` (title, version, the bearer scheme, an operation
  named after the function, one response per error with its status);
- error handling: every error becomes the one error body in :mod:`~riskwarn.serving._http`.

The API is a FastAPI app that the BentoML service mounts with ``@bentoml.asgi_app`` (as
BentoML documents for custom authentication and API documentation), with its endpoints
calling the service instance through ``bentoml.get_current_service``. ``@bentoml.api``
methods cannot carry this contract: BentoML names their operations
``{service}__{method}`` under one fixed tag, its OpenAPI objects have no place for a
security scheme, it answers its own errors as ``[{"error": ...}]`` and masks 401 and 403,
and it gives the version of a built Bento only.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import anyio
import bentoml
from fastapi import Depends, FastAPI, Query, Request, Security
from fastapi import Path as FastPath
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, RedirectResponse, Response

import riskwarn
from riskwarn._contract import ID_MAX_LENGTH
from riskwarn.errors import (
    AuthenticationError,
    ConfigError,
    ContractError,
    MethodNotAllowedError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RiskwarnError,
    StoreUnavailableError,
    UnknownRecordError,
    UnsupportedMediaTypeError,
    WarningStateError,
)
from riskwarn.loop import parse_policy
from riskwarn.serving import _metrics
from riskwarn.serving._http import (
    JsonBody,
    MalformedRequest,
    error_response,
    logger,
    malformed,
    request_id_of,
    translate,
)
from riskwarn.serving._keys import Caller
from riskwarn.serving._lineage import CorrectionRequest, CorrectionResponse, correct_on_service
from riskwarn.serving._report import PersonReport, audited_report
from riskwarn.serving._schema import WARNING_ID_LENGTH
from riskwarn.serving._schemas import (
    ID_PATTERN,
    TEXT_PATTERN,
    ActionReport,
    BatchRequest,
    BatchResponse,
    ErrorResponse,
    ExplainRequest,
    ExplainResponse,
    IngestRequest,
    IngestResponse,
    ModelInfo,
    ReloadRequest,
    ReloadResponse,
    RoutingPolicyRequest,
    RoutingPolicyResponse,
    ScoreRequest,
    ScoreResponse,
    SnapshotRequest,
    SnapshotResponse,
    Tier,
    WarningDetail,
    WarningEventRequest,
    WarningList,
)
from riskwarn.serving._store import waits_from
from riskwarn.serving._warnings import send_event, warning_detail, warning_list
from riskwarn.vocab import WARNING_STATES

DESCRIPTION = """\
Risk of an extreme incident (homicide, serious injury, self-harm, arson) within the model's
horizon for open disputes, with the tier to act on (red, orange, yellow, blue), the reasons
behind it in Chinese and English, and the case's status. Scores inform people; a supervisor
may raise a tier (`override`), never lower it.

Every call but the probes and this document needs `Authorization: Bearer KEY`; keys have a
role (`scorer` < `supervisor` < `admin`, each with the endpoints of those below), named on
each operation as `x-required-role`. Every error has the body `ErrorResponse`; every answer
carries `X-Request-ID` (yours, when you send one). Times are the county's local time
without a zone, as in the data contract; `override.at` is UTC.
"""

TAGS = [
    {"name": "scoring", "description": "For the case platform (scorer keys and above)."},
    {"name": "supervision", "description": "For supervisors' tools (supervisor keys)."},
    {"name": "administration", "description": "For operators (admin keys)."},
]


class BearerKey(HTTPBearer):
    """The key scheme as OpenAPI shows it; hands the endpoint the caller whose key the
    route checked before it read the body."""

    async def __call__(self, request: Request) -> Caller:  # type: ignore[override]
        return request.state.caller


BEARER = BearerKey(
    scheme_name="bearerKey",
    bearerFormat="rwk_<id>_<secret>",
    description="An API key from `riskwarn keys create --role ROLE`.",
)


@dataclass(frozen=True)
class Call:
    """What an endpoint needs besides its body: the service, the caller, the request id."""

    service: Any  # the RiskService instance of this worker
    caller: Caller
    request_id: str


async def current_call(request: Request, caller: Annotated[Caller, Security(BEARER)]) -> Call:
    return Call(bentoml.get_current_service(), caller, request_id_of(request.scope))


Called = Annotated[Call, Depends(current_call)]


class Endpoint(APIRoute):
    """A route of the API: checks the key and its role (from ``x-required-role``; for an
    endpoint that scores, in the scoring threads it will run in), reads the body within the
    service's limits (:class:`~riskwarn.serving._http.JsonBody`), then lets FastAPI validate
    it and call the endpoint; times every answer. Its writes wait for a busy store at most
    the store's wait from the request's arrival (:func:`~riskwarn.serving._store.waits_from`).
    """

    scores = False  # an endpoint that scores: see ScoringEndpoint

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()
        role = (self.openapi_extra or {}).get("x-required-role")
        name = self.name
        scoring = self.scores
        model = self.body_field.field_info.annotation if self.body_field is not None else None

        async def route(request: Request) -> Response:
            started = time.perf_counter()
            status = 500
            try:
                svc = bentoml.get_current_service()
                with waits_from(time.monotonic()):  # a busy store: 503 within its wait
                    response = await answer(svc, request)
                status = response.status_code
                return response
            except ClientDisconnect:  # gone before its body arrived: nobody to answer
                status = CLIENT_CLOSED
                return Response(status_code=CLIENT_CLOSED)
            except Exception as exc:
                status = translate(exc, request).http_status_code() if _ours(exc) else 500
                raise
            finally:
                _metrics.answered(name, time.perf_counter() - started, status)

        async def answer(svc: Any, request: Request) -> Response:
            header = request.headers.get("authorization")
            what = f"{request.method} {request.url.path}"
            request.state.caller = await anyio.to_thread.run_sync(
                svc.authorize, header, role, what, limiter=svc.scoring if scoring else None
            )
            if self.body_field is not None:
                limits = svc.settings
                request = JsonBody(request, limits.max_body, limits.max_depth)
                await request.body()
            try:
                return await handler(request)
            except RequestValidationError as exc:
                raise malformed(list(exc.errors()), model) from exc

        return route


class ScoringEndpoint(Endpoint):
    """A route whose endpoint runs in the worker's scoring threads (:func:`in_scoring_threads`),
    so its key check runs there too."""

    scores = True


CLIENT_CLOSED = 499  # the status proxies log for a client that left before its answer


def _ours(exc: Exception) -> bool:
    return isinstance(exc, (RiskwarnError, RequestValidationError, HTTPException))


def _responses(errors: Sequence[type[RiskwarnError]]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for ``errors`` (each status once, described by its error class)."""
    out: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        status = error.status_code
        doc = " ".join((error.__doc__ or "").strip().split("\n\n")[0].split()).replace("``", "`")
        if status in out:
            out[status]["description"] += f" Or: {doc}"
        else:
            out[status] = {"model": ErrorResponse, "description": doc}
    out["default"] = {"model": ErrorResponse, "description": "Any other error."}
    return out


_ALWAYS = (AuthenticationError, PermissionDeniedError, StoreUnavailableError)
_WITH_BODY = (MalformedRequest, PayloadTooLargeError, UnsupportedMediaTypeError)

api = FastAPI(
    title="riskwarn",
    version=riskwarn.__version__,
    description=DESCRIPTION,
    openapi_url="/docs.json",
    docs_url=None,
    redoc_url=None,
    openapi_tags=TAGS,
    separate_input_output_schemas=False,
)


def endpoint(
    path: str,
    *,
    role: str,
    tag: str,
    errors: Sequence[type[RiskwarnError]] = (),
    method: str = "POST",
    scores: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare an endpoint: ``path``, ``method``, the least ``role`` a key needs, its
    ``tag``, and the ``errors`` it may answer besides those of every endpoint. The
    function's name is the operation's name, its docstring the description, its body
    parameter and return annotation the request and response schemas. An endpoint that
    ``scores`` runs in the worker's scoring threads (:func:`in_scoring_threads`), the others
    in the thread pool FastAPI runs sync endpoints in."""

    def declare(func: Callable[..., Any]) -> Callable[..., Any]:
        body = () if method == "GET" else _WITH_BODY
        api.router.add_api_route(
            path,
            in_scoring_threads(func) if scores else func,
            methods=[method],
            operation_id=func.__name__,
            name=func.__name__,
            summary=(func.__doc__ or "").strip().splitlines()[0],
            tags=[tag],
            responses=_responses([*_ALWAYS, *body, *errors]),
            openapi_extra={"x-required-role": role},
            route_class_override=ScoringEndpoint if scores else Endpoint,
        )
        return func

    return declare


def in_scoring_threads(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` as a coroutine that runs it in its service's scoring threads
    (``RiskService.scoring``: BentoML's ``threads`` per worker, one by default), as BentoML
    runs a sync API. Scoring holds the GIL most of the time, so more threads than that only
    take turns, and lose time switching; a scoring request waits for a free one instead."""

    @functools.wraps(func)
    async def run(*, call: Call, **kwargs: Any) -> Any:
        work = functools.partial(func, call=call, **kwargs)
        return await anyio.to_thread.run_sync(work, limiter=call.service.scoring)

    return run


# the endpoints ------------------------------------------------------------------------


@endpoint("/v1/score", role="scorer", tag="scoring", errors=[UnknownRecordError], scores=True)
def score(request: ScoreRequest, call: Called) -> ScoreResponse:
    """Risk, tiers, status and top reasons of one case.

    A stored dispute by its ``dispute_id``, or a whole case (dispute, parties, events) not
    stored yet. Each answer is written to the audit log.
    """
    return call.service.score(request, call.caller, call.request_id)


@endpoint("/v1/score_batch", role="scorer", tag="scoring", scores=True)
def score_batch(request: BatchRequest, call: Called) -> BatchResponse:
    """Up to 1,000 cases in one call, each answered on its own.

    A case that cannot be scored (an unknown dispute, an ``as_of`` before it was
    registered) gets an ``error`` in its item; the others get their ``result``.
    """
    return call.service.score_batch(request, call.caller, call.request_id)


@endpoint("/v1/model", method="GET", role="scorer", tag="scoring")
def get_model(call: Called) -> ModelInfo:
    """The model served: version, windows, metrics, tier thresholds and its card."""
    return call.service.model_info(call.caller, call.request_id)


@endpoint(
    "/v1/explain", role="supervisor", tag="supervision", errors=[UnknownRecordError], scores=True
)
def explain(request: ExplainRequest, call: Called) -> ExplainResponse:
    """Every feature's contribution to one case's score, and the base value."""
    return call.service.explain(request, call.caller, call.request_id)


@endpoint("/v1/ingest", role="admin", tag="administration", errors=[ContractError])
def ingest(request: IngestRequest, call: Called) -> IngestResponse:  # type: ignore[valid-type]
    """Append new records, one list per contract table: the whole batch or nothing.

    Checked by the contract's rules, as ``riskwarn validate`` checks files; a record that
    breaks them is a 422 whose ``issues`` name the table, record and field.
    """
    return call.service.ingest(request, call.caller, call.request_id)


@endpoint("/v1/reload", role="admin", tag="administration", errors=[UnknownRecordError])
def reload(request: ReloadRequest, call: Called) -> ReloadResponse:
    """Load the model again (its alias may point elsewhere now) and re-read the store."""
    return call.service.reload(request, call.caller, call.request_id)


@endpoint("/v1/snapshot", role="admin", tag="administration")
def snapshot(request: SnapshotRequest, call: Called) -> SnapshotResponse:
    """Score every dispute open at ``as_of`` and store the scores (the queue reads them)."""
    return call.service.snapshot(request, call.caller, call.request_id)


# people's data rights (docs/rights.md) -------------------------------------------------


@endpoint(
    "/v1/records/correct",
    role="admin",
    tag="administration",
    errors=[ContractError, UnknownRecordError],
)
def correct_record(request: CorrectionRequest, call: Called) -> CorrectionResponse:
    """Correct one record by supersession, then recompute the scores it influenced.

    The corrected row replaces the record in the history; the old row is kept, marked
    superseded by the new one, with who, when and why. Checked by the contract's rules like
    ingest: a refused correction is a 422 whose ``issues`` name the table, record and field,
    and writes nothing. The answer lists the disputes whose scores the record influenced
    (its own, and those within two links in the people graph) and the current scores
    recomputed today.
    """
    return correct_on_service(call.service, request, call.caller.name, call.request_id)


@endpoint(
    "/v1/records/person/{person_id}",
    method="GET",
    role="admin",
    tag="administration",
    errors=[UnknownRecordError],
)
def person_report(person_id: str, call: Called) -> PersonReport:
    """What riskwarn holds about one person, for the person concerned (audited).

    Records by table (with their keys, for corrections), flags, the disputes and their
    current tiers, and each score's main reasons with the share that comes from other
    people's records (association) rather than the case's own. The workbench prints it
    as a Chinese page at ``/ui/person/{person_id}``.
    """
    return audited_report(call.service, person_id, call.caller.name, call.request_id)


# warnings: the closed loop (issue 14) -------------------------------------------------
# Declared before /v1/warnings/{warning_id} so that /v1/warnings/policy is not taken for an id.

WarningId = Annotated[str, FastPath(min_length=1, max_length=WARNING_ID_LENGTH, pattern=ID_PATTERN)]


@endpoint(
    "/v1/warnings/policy", method="PUT", role="admin", tag="administration", errors=[ConfigError]
)
def put_routing_policy(request: RoutingPolicyRequest, call: Called) -> RoutingPolicyResponse:
    """Store a new routing policy version; warnings are routed by it from now on.

    Checked as ``riskwarn/loop/policy.toml`` is: a policy naming an unknown tier, level or
    channel, missing a tier or holding an unknown key is refused (400) with one line
    naming it. Audited.
    """
    policy = parse_policy(request.model_dump(), source="policy")
    call.service.store.add_routing_policy(policy, by=call.caller.name, request_id=call.request_id)
    return RoutingPolicyResponse(
        request_id=call.request_id, **policy.model_dump(mode="json", include={"version", "tiers"})
    )


class WarningFilter(BaseModel):
    """The query of ``GET /v1/warnings``; a parameter it does not name is refused (a
    misspelt filter would otherwise list every warning)."""

    model_config = ConfigDict(extra="forbid")

    tier: Tier | None = None
    state: Annotated[
        Literal[("open", *WARNING_STATES)] | None,  # type: ignore[valid-type]
        Field(description="A state, or 'open' for any but closed."),
    ] = None
    township: Annotated[str | None, Field(max_length=128, pattern=TEXT_PATTERN)] = None
    dispute_id: Annotated[
        str | None, Field(min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN)
    ] = None
    overdue: Annotated[
        bool | None, Field(description="Only those past (true) or not past (false) due.")
    ] = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 100
    offset: Annotated[int, Field(ge=0, le=1_000_000_000)] = 0


@endpoint("/v1/warnings", method="GET", role="scorer", tag="scoring", errors=[MalformedRequest])
def list_warnings(call: Called, query: Annotated[WarningFilter, Query()]) -> WarningList:
    """Warnings by tier, state, township, case and overdue, in pages of up to 1,000.

    Most urgent tier first, then the soonest deadline. Each item has its owner, its level
    and what is due by when (UTC). A query parameter not listed here is refused.
    """
    return warning_list(
        call.service.store,
        call.request_id,
        query.limit,
        query.offset,
        tier=query.tier.value if query.tier is not None else None,
        state=query.state,
        township=query.township,
        dispute_id=query.dispute_id,
        overdue=query.overdue,
    )


@endpoint(
    "/v1/warnings/{warning_id}",
    method="GET",
    role="scorer",
    tag="scoring",
    errors=[MalformedRequest, UnknownRecordError],
)
def get_warning(warning_id: WarningId, call: Called) -> WarningDetail:
    """One warning and its whole history (issue, re-scores, steps, actions, escalations)."""
    return warning_detail(call.service.store, warning_id, call.request_id)


@endpoint(
    "/v1/warnings/{warning_id}/actions",
    role="scorer",
    tag="scoring",
    errors=[UnknownRecordError, WarningStateError],
)
def report_action(warning_id: WarningId, request: ActionReport, call: Called) -> WarningDetail:
    """Report what was done about a warning: a visit, a mediation session, a referral, a
    protective measure or another action, with when and its result.

    The warning must be assigned first (409 says what to do otherwise). Audited.
    """
    fields = request.model_dump(exclude={"kind"})
    return send_event(
        call.service.store,
        call.service.settings,
        warning_id,
        "act",
        action=request.kind,
        key_name=call.caller.name,
        request_id=call.request_id,
        **fields,
    )


@endpoint(
    "/v1/warnings/{warning_id}/events",
    role="supervisor",
    tag="supervision",
    errors=[UnknownRecordError, WarningStateError],
)
def warning_event(
    warning_id: WarningId, request: WarningEventRequest, call: Called
) -> WarningDetail:
    """Move a warning on: acknowledge, assign, resolve, record the return visit, close,
    reopen.

    No step is skipped: issued -> acknowledged -> assigned -> in hand (actions) -> resolved
    -> return visit -> closed; a closed warning may be reopened with a note. A step out of
    order is a 409 that says what to do first, and changes nothing. Audited.
    """
    fields = request.model_dump(exclude={"kind"})
    return send_event(
        call.service.store,
        call.service.settings,
        warning_id,
        request.kind,
        key_name=call.caller.name,
        request_id=call.request_id,
        **fields,
    )


@api.get("/", include_in_schema=False)
def home() -> RedirectResponse:
    """A browser at the root goes to the supervisor workbench."""
    return RedirectResponse("/ui/", status_code=307)


_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@api.api_route("/{path:path}", methods=_METHODS, include_in_schema=False)
def unknown(request: Request) -> Response:
    """Any other path: 405 when the path exists with other methods, else 404 (both in the
    one error body, as the framework's own answers would not be)."""
    path = request.url.path
    allow = sorted(
        {
            m
            for r in api.routes
            if isinstance(r, APIRoute) and r.endpoint is not unknown and r.path_regex.match(path)
            for m in r.methods or ()
        }
    )
    if allow:
        raise MethodNotAllowedError(
            f"{request.method} {path}: expected one of {', '.join(allow)}", tuple(allow)
        )
    raise HTTPException(404)


async def _answer_error(request: Request, exc: Exception) -> Response:
    """Every error, whatever raised it, as the one error body."""
    error = translate(exc, request)
    if error.http_status_code() >= 500:
        logger.warning("%s %s: %s", request.method, request.url.path, str(error).splitlines()[0])
    return error_response(error, request_id_of(request.scope))


async def _unexpected(request: Request, exc: Exception) -> Response:
    """A bug: 500 in the one error body; the traceback goes to the log."""
    logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    body = {
        "error": "an unexpected error; the service log has the details under this request id",
        "detail": [],
        "issues": [],
        "request_id": request_id_of(request.scope),
    }
    return JSONResponse(body, status_code=500)


for _kind in (RiskwarnError, RequestValidationError, HTTPException):
    api.add_exception_handler(_kind, _answer_error)
api.add_exception_handler(Exception, _unexpected)
