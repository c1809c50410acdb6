"""The riskwarn scoring service: a BentoML 1.4 class-based service.

``riskwarn serve`` runs it with ``bentoml serve``; each worker process builds one
:class:`RiskService` (the model, the store, the history in memory) from the settings it
reads once (:class:`riskwarn.config.Settings`). The service mounts two ASGI apps with
``@bentoml.asgi_app``: the public API (:mod:`~riskwarn.serving._api`, at ``/``: ``/v1/*``,
``/docs.json``, and ``/`` sending a browser to the pages) and the supervisor workbench (at
``/ui``). BentoML answers ``/livez``, ``/readyz`` (through :meth:`RiskService.__is_ready__`)
and ``/metrics`` itself.

Everything that touches the store runs in a worker thread, never on the event loop, and
waits for a busy store at most ``store_wait`` seconds (then 503 with ``Retry-After``).

Workers: each worker holds its own copy of the history (read from the store at start) and,
before answering a score or an explanation, re-reads it when the store's row counts differ
from its copy's (checked at most every ``HISTORY_CHECK`` seconds), so several replicas on
one PostgreSQL store score what any of them ingested (docs/scale.md).
With ``riskwarn serve --workers N`` (N > 1) scoring, explaining and snapshots are safe, but
``/v1/ingest`` and ``/v1/reload`` are refused: they would change one worker's copy only.
Ingest checks ids against the store, not only its own copy, so a record loaded behind the
service's back is refused with a 422, never written twice; after ``history load
--replace`` while serving, POST /v1/reload so that scores read the new history. A worker
exits when its master dies (``watch_parent``), so a killed master leaves no worker holding
the port.

A correction or expiry made elsewhere (``riskwarn records correct|expire`` on the store,
another worker's admin API) is seen without a reload: every worker asks the store for its
newest record version once a second, in a thread of its own, and when it changed re-reads
the history in that thread and swaps it in whole; requests never wait for it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
import signal
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import anyio
import bentoml
import pandas as pd
from starlette.concurrency import run_in_threadpool

from riskwarn.clock import get_clock
from riskwarn.config import Settings
from riskwarn.errors import (
    ConfigError,
    ModelMismatchError,
    ModelNotFoundError,
    RequestError,
    RiskwarnError,
    ServiceUnavailableError,
    UnknownRecordError,
    UnknownRouteError,
)
from riskwarn.loop import RoutingPolicy, WarningEvent
from riskwarn.serving import _metrics
from riskwarn.serving._answers import Assessed, assess, audit_entries, top_reasons
from riskwarn.serving._api import api
from riskwarn.serving._facts import Facts
from riskwarn.serving._http import (
    RequestIds,
    error_response,
    issue_dict,
    request_id_of,
)
from riskwarn.serving._ingest import check_records, extend
from riskwarn.serving._keys import Caller, authenticate, authorize, bearer_key
from riskwarn.serving._rights import with_corrections
from riskwarn.serving._schemas import (
    BatchItem,
    BatchRequest,
    BatchResponse,
    ExplainRequest,
    ExplainResponse,
    IngestResponse,
    ModelInfo,
    ReloadRequest,
    ReloadResponse,
    ScoreRequest,
    ScoreResponse,
    ScoreResult,
    SnapshotRequest,
    SnapshotResponse,
    iso,
)
from riskwarn.serving._scorer import Scorer, Target
from riskwarn.serving._store import Store
from riskwarn.serving._warnings import (
    event_counts,
    places,
    policy_in_force,
    snapshot_round,
    tier_policy_version,
)
from riskwarn.serving._workbench import make_workbench
from riskwarn.serving._workbench._monitor import latest_run, monitor_summary
from riskwarn.training import Scores, latest_monitor, load_model
from riskwarn.vocab import ROLES, roles_at_least

logger = logging.getLogger("riskwarn.serving")

RECORDS_RECHECK = 1.0
"""Seconds between a worker's looks at the store's newest record version (corrections and
expiries made outside it)."""
HISTORY_CHECK = 2.0
"""Seconds between a worker's checks, in its watcher thread, that its copy of the history
is the store's (one row count per table): a record another replica ingested is scored here
once the next check has re-read it."""


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


@dataclass(frozen=True)
class Served:
    """The history a worker answers from: the scorer over it and the facts about it,
    replaced together (ingest, reload) so a request sees one or the other, whole."""

    scorer: Scorer
    facts: Facts

    @classmethod
    def of(cls, scorer: Scorer) -> Served:
        return cls(scorer, Facts.of(scorer.dataset))


def watch_parent(interval: float = 1.0) -> None:
    """Stop this worker when its parent (the serving master) is gone, so that a killed
    master does not leave a worker holding the port."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        logger.warning("the serving master (pid %s) is gone; this worker stops", parent)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(10)
        os._exit(1)

    threading.Thread(target=watch, name="riskwarn-watch-parent", daemon=True).start()


class SnapshotTaken(NamedTuple):
    """What a snapshot did: the moment scored, the scores stored, and the warning events
    it caused (issues, re-scores, escalations)."""

    as_of: dt.datetime
    stored: int
    events: list[WarningEvent]


def take_snapshot(
    scorer: Scorer,
    store: Store,
    when: Any,
    *,
    by: str = "cli",
    request_id: str = "-",
    policy: RoutingPolicy | None = None,
    settings: Settings | None = None,
) -> SnapshotTaken:
    """Score all disputes open at ``when`` and store one snapshot row each, with the
    snapshot's audit row, and the warnings the scores issue, re-score and escalate (with
    theirs), all in one transaction: a snapshot without its warnings is never seen.
    ``policy``: the routing policy (default :func:`policy_in_force`); ``settings`` give
    the lowest tier warned (``RISKWARN_WARN_TIER``, default orange)."""
    as_of = pd.Timestamp(when).floor("s")
    cases = scorer.open_cases(as_of)
    model = scorer.model
    version = str(model.version)
    rows, facts = [], []
    for start in range(0, len(cases), 1000):
        chunk = cases[start : start + 1000]
        scores = scorer.score(chunk, top_k=3)
        for i, case in enumerate(chunk):
            rows.append(
                {
                    "dispute_id": case.dispute_id,
                    "as_of": as_of.to_pydatetime(),
                    "model_version": version,
                    "risk": float(scores.risk[i]),
                    "tier": str(scores.tier[i]),
                    "reasons": [r.to_dict() for r in scores.reasons[i]],
                }
            )
            facts.append(tuple(f.code for f in scores.key_facts[i]))
    settings = settings or Settings.from_env()
    policy = policy or policy_in_force(store, settings)
    decide = snapshot_round(
        rows,
        facts,
        places(scorer.dataset),
        policy,
        tier_policy_version(model.metadata.tier_policy),
        min_tier=settings.warn_tier,
    )
    stored, events = store.add_snapshots_warned(
        rows,
        decide,
        policy,
        by=by,
        request_id=request_id,
        as_of=as_of.to_pydatetime(),
        model_version=version,
    )
    return SnapshotTaken(as_of.to_pydatetime(), stored, events)


# BentoML's documented way to keep its OpenTelemetry middleware from making a span: every
# URL excluded. Without an exporter configured a span goes nowhere, yet BentoML records each
# one and its timeout middleware keeps it (in the context its timer holds) until the request
# timeout passes: memory and time for nothing. RISKWARN_TRACE_REQUESTS=1 turns spans on.
UNTRACED = {"excluded_urls": [".*"]}
DECLARED = Settings.from_env()  # what the declaration below reads, once, as the module loads

with _bentoml_quiet():  # the service is built while this module loads

    @bentoml.service(
        name="riskwarn",
        workers=DECLARED.workers,
        threads=DECLARED.threads,
        traffic={"timeout": DECLARED.request_timeout},
        logging={"access": {"enabled": False}},
        **({} if DECLARED.trace_requests else {"tracing": UNTRACED}),
    )
    @bentoml.asgi_app(api, path="/", name="api")
    @bentoml.asgi_app(make_workbench(bentoml.get_current_service), path="/ui", name="workbench")
    class RiskService:
        """riskwarn: risk, tiers and reasons for open disputes, for the case platform."""

        def __init__(self) -> None:
            self.settings = Settings.from_env()
            self.store = Store.open(self.settings.store_url, wait=self.settings.store_wait)
            self.model_uri = self.settings.model_uri
            model = load_model(self.model_uri, tracking_uri=self.settings.tracking_uri)
            self._swap_lock = threading.Lock()
            self._generation = 0
            self.records_seen = self.store.records_version()  # read before the history
            self.served = Served.of(Scorer(model, self.store.read_dataset()))
            self._ready = True
            self.monitor: dict[str, Any] | None = None
            self.scoring = anyio.CapacityLimiter(self.settings.threads)  # see _api
            self.monitored_version: str | None = None
            self._published()
            self._stopping = threading.Event()
            threading.Thread(
                target=self._watch_records, name="riskwarn-watch-records", daemon=True
            ).start()
            if self.settings.watch_parent:
                watch_parent()

        @bentoml.on_shutdown
        def stop_watching(self) -> None:
            self._stopping.set()

        # the history this worker answers from ----------------------------------------------

        def swap(self, served: Served, records: int | None = None) -> None:
            """Answer from ``served`` from now on; ``records``: the newest record version it
            holds (None: unchanged). Every replacement of the history goes through here, so
            a re-read that began before another replacement is dropped, not swapped in."""
            with self._swap_lock:
                self.served = served
                self._generation += 1
                if records is not None:
                    self.records_seen = records

        def took_correction(self, served: Served, version: int) -> None:
            """``served`` holds correction ``version`` made by this worker: counted as seen
            when it is the only one since the last look, else the watcher re-reads."""
            with self._swap_lock:
                seen = self.records_seen + 1 == version
            self.swap(served, version if seen else None)

        def refresh_records(self) -> bool:
            """Re-read the history when the store holds a correction or expiry this worker
            has not seen; whether it did."""
            version = self.store.records_version()
            with self._swap_lock:
                generation, seen = self._generation, self.records_seen
            if version == seen:
                return False
            began = time.perf_counter()
            held = self.served.scorer
            newer = self.store.record_versions(after=seen) if version > seen else []
            dataset = with_corrections(held.dataset, newer) if newer else None
            if dataset is None:  # an expiry (its content is gone), or a store started over
                version = self.store.records_version()
                dataset = self.store.read_dataset()
            else:
                version = newer[-1]["id"]
            if not self._swap_unless_replaced(generation, held.with_dataset(dataset), version):
                return False
            logger.info(
                "history re-read after record version %s (was %s) in %.2f s",
                version,
                seen,
                time.perf_counter() - began,
            )
            return True

        def refresh_history(self) -> bool:
            """Re-read the history when the store's row counts differ from this worker's
            copy (records another replica or worker ingested); whether it did."""
            with self._swap_lock:
                generation = self._generation
            held = self.served.scorer
            mine = {name: len(frame) for name, frame in held.dataset.tables().items()}
            if self.store.history_counts() == mine:
                return False
            records = self.store.records_version()
            scorer = held.with_dataset(self.store.read_dataset())
            if not self._swap_unless_replaced(generation, scorer, records):
                return False
            logger.info("history re-read: the store holds records this worker had not")
            return True

        def _swap_unless_replaced(self, generation: int, scorer: Scorer, records: int) -> bool:
            """Answer from ``scorer`` (holding record version ``records``) unless the history
            was replaced since ``generation`` was read (then the next look tries again)."""
            served = Served.of(scorer)
            with self._swap_lock:
                if self._generation != generation:
                    return False
                self.served, self.records_seen = served, records
                self._generation += 1
            self._published()
            return True

        def _watch_records(self) -> None:
            """Keep this worker's history the store's, off the request path: corrections and
            expiries every ``RECORDS_RECHECK`` seconds, the row counts (what other replicas
            ingested) every ``HISTORY_CHECK`` seconds."""
            last_counted = 0.0
            while not self._stopping.wait(min(RECORDS_RECHECK, HISTORY_CHECK)):
                try:
                    self.refresh_records()
                    if time.monotonic() - last_counted >= HISTORY_CHECK:
                        last_counted = time.monotonic()
                        self.refresh_history()
                except RiskwarnError as exc:  # a busy or missing store: try again next time
                    logger.warning("could not look for changes in the store: %s", exc)

        # what the workbench and the probes read ------------------------------------------

        @property
        def scorer(self) -> Scorer:
            return self.served.scorer

        def __is_ready__(self) -> bool:
            """Ready when the model is loaded and the store answers within a second on the
            file it opened (BentoML's readiness hook; it runs in a thread)."""
            try:
                self.store.check()
                ready = self.served.scorer.model is not None
                reason = ""
            except ServiceUnavailableError as exc:
                ready, reason = False, str(exc)
            if ready != self._ready:
                self._ready = ready
                logger.warning("readiness: %s", "ready" if ready else f"not ready: {reason}")
            return ready

        def _published(self) -> None:
            m, facts = self.served.scorer.model, self.served.facts
            _metrics.model_served(str(m.version), str(m.registry_version), str(m.uri))
            if facts.newest is not None:
                _metrics.store_newest(get_clock().to_utc(facts.newest).timestamp())
            if self.monitored_version != str(m.version):
                self.monitor = self._latest_monitor(str(m.version))
                self.monitored_version = str(m.version)
                _metrics.monitored(self.monitor)

        def _latest_monitor(self, version: str) -> dict[str, Any] | None:
            """The latest ``riskwarn monitor`` run's summary for the served model, read once
            per model (MLflow holds it); None when it was never monitored or MLflow cannot
            say, which the log tells."""
            from mlflow.exceptions import MlflowException

            try:
                result = latest_monitor(version, tracking_uri=self.settings.tracking_uri)
            except (MlflowException, OSError, ValueError) as exc:  # a missing or unreadable run
                logger.warning("no monitor result for model %s: %s", version, exc)
                return None
            if result is None:
                return None
            summary = monitor_summary(
                result, latest_run(version, tracking_uri=self.settings.tracking_uri)
            )
            for message in summary["alarm_messages"]:
                logger.warning("monitor alarm (model %s): %s", version, message)
            return summary

        # access --------------------------------------------------------------------------

        def authorize(self, header: str | None, role: str | None, what: str) -> Caller:
            """The caller behind the ``Authorization`` header, allowed ``role`` (None: any
            role); AuthenticationError (401) or PermissionDeniedError (403) otherwise."""
            caller = authenticate(self.store, bearer_key(header))
            authorize(caller, roles_at_least(role) if role else ROLES, what)
            return caller

        def _single_worker(self, what: str) -> None:
            workers = self.settings.workers
            if workers > 1:
                raise ConfigError(
                    f"{what}: expected a service with one worker, got {workers} (--workers "
                    f"{workers}); each worker holds its own copy of the history, so this would "
                    "change one of them only. Serve with --workers 1 to ingest or reload, or "
                    "load with `riskwarn history load` and restart the service"
                )

        # scoring -------------------------------------------------------------------------

        def _answer(
            self,
            served: Served,
            cases: list[Target],
            scores: Scores,
            caller: Caller,
            action: str,
            request_id: str,
            endpoint: str,
        ) -> list[Assessed]:
            """Each case's answer, recorded in the audit log with the tier it gives, in the
            transaction that reads the supervisors' raises it rests on."""
            version = str(served.scorer.model.version)
            done: list[Assessed] = []

            def entries(raised: dict[str, dict]) -> list[dict[str, Any]]:
                done[:] = assess(
                    cases, scores, raised, served.facts, version, self.settings.stale_days
                )
                return audit_entries(caller, action, request_id, done)

            ids = [c.dispute_id for c in cases]
            self.store.answered(ids, get_clock().utc_now(), entries)
            _metrics.scored(
                action if action != "score" else "score", [a.fields["tier"] for a in done]
            )
            return done

        def score(self, request: ScoreRequest, caller: Caller, request_id: str) -> ScoreResponse:
            served = self.served
            case = served.scorer.resolve(request, get_clock().local_now())
            scores = served.scorer.score([case], top_k=request.top_k)
            [a] = self._answer(served, [case], scores, caller, "score", request_id, "score")
            return ScoreResponse(
                request_id=request_id, **a.fields, reasons=top_reasons(scores, a, request.top_k)
            )

        def score_batch(
            self, request: BatchRequest, caller: Caller, request_id: str
        ) -> BatchResponse:
            served, now = self.served, get_clock().local_now()
            items: list[BatchItem | None] = [None] * len(request.cases)
            cases, where = [], []
            for i, r in enumerate(request.cases):
                try:
                    cases.append(served.scorer.resolve(r, now, f"cases[{i}]."))
                    where.append(i)
                except RequestError as exc:
                    items[i] = BatchItem(
                        index=i,
                        dispute_id=r.named,
                        result=None,
                        error={"status": exc.http_status_code(), "error": str(exc)},
                    )
            if cases:
                top_k = max(request.cases[i].top_k for i in where)
                scores = served.scorer.score(cases, top_k=top_k)
                done = self._answer(
                    served, cases, scores, caller, "score", request_id, "score_batch"
                )
                for i, a in zip(where, done, strict=True):
                    k = request.cases[i].top_k
                    result = ScoreResult(**a.fields, reasons=top_reasons(scores, a, k))
                    items[i] = BatchItem(
                        index=i, dispute_id=a.case.dispute_id, result=result, error=None
                    )
            return BatchResponse(
                request_id=request_id,
                model_version=str(served.scorer.model.version),
                scored=len(cases),
                failed=len(request.cases) - len(cases),
                results=[item for item in items if item is not None],
            )

        def explain(
            self, request: ExplainRequest, caller: Caller, request_id: str
        ) -> ExplainResponse:
            served = self.served
            case = served.scorer.resolve(request, get_clock().local_now())
            scores = served.scorer.score([case])
            [a] = self._answer(served, [case], scores, caller, "explain", request_id, "explain")
            return ExplainResponse(
                request_id=request_id,
                **a.fields,
                base_value=float(scores.base_value[0]),
                contributions=top_reasons(scores, a, None),
            )

        def model_info(self, caller: Caller, request_id: str) -> ModelInfo:
            m = self.served.scorer.model
            entry = {"key_name": caller.name, "action": "model", "request_id": request_id}
            self.store.audit([entry])
            meta = m.metadata
            return ModelInfo(
                version=str(m.version),
                uri=str(m.uri),
                kind=meta.kind,
                registry_version=str(m.registry_version),
                feature_names=list(m.feature_names),
                thresholds=dict(m.thresholds),
                floors=dict(meta.tier_policy.floors),
                windows={k: w.model_dump(mode="json") for k, w in meta.windows.items()},
                metrics=meta.model_dump(mode="json")["metrics"],
                card=meta.model_card,
                metadata=meta.model_dump(mode="json"),
            )

        # history and model ---------------------------------------------------------------

        def _current(self) -> Served:
            """The history as the store holds it: this worker's copy, or the store's when it
            changed behind the service's back (``history load --replace``)."""
            served = self.served
            mine = {name: len(frame) for name, frame in served.scorer.dataset.tables().items()}
            if self.store.history_counts() != mine:
                records = self.store.records_version()
                served = Served.of(served.scorer.with_dataset(self.store.read_dataset()))
                self.swap(served, records)
            return served

        def ingest(self, request: Any, caller: Caller, request_id: str) -> IngestResponse:
            self._single_worker("POST /v1/ingest")
            served = self._current()
            warned: list[Any] = []
            frames = check_records(request.model_dump(), served.scorer.dataset, warned)
            added = self.store.append_history(frames, by=caller.name, request_id=request_id)
            grown = served.scorer.with_dataset(extend(served.scorer.dataset, frames))
            self.swap(Served.of(grown))
            self._published()
            return IngestResponse(
                request_id=request_id, added=added, warnings=[issue_dict(i) for i in warned]
            )

        def reload(self, request: ReloadRequest, caller: Caller, request_id: str) -> ReloadResponse:
            self._single_worker("POST /v1/reload")
            uri = request.model or self.model_uri
            try:
                model = load_model(uri, tracking_uri=self.settings.tracking_uri)
                records = self.store.records_version()
                scorer = Scorer(model, self.store.read_dataset())
            except ModelNotFoundError as exc:
                raise UnknownRecordError(f"model: {exc}") from exc
            except ModelMismatchError as exc:
                raise RequestError(f"model: {exc}") from exc
            self.swap(Served.of(scorer), records)
            self.model_uri = uri
            self._published()
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

        def snapshot(
            self, request: SnapshotRequest, caller: Caller, request_id: str
        ) -> SnapshotResponse:
            when = request.as_of or get_clock().local_now()
            taken = take_snapshot(
                self.served.scorer,
                self.store,
                when,
                by=caller.name,
                request_id=request_id,
                policy=policy_in_force(self.store, self.settings),
                settings=self.settings,
            )
            return SnapshotResponse(
                request_id=request_id,
                as_of=iso(taken.as_of),
                stored=taken.stored,
                warnings=event_counts(taken.events),
            )


class KeyedInfra:
    """ASGI middleware: BentoML's own routes that tell about the service (``/metrics``,
    ``/schema.json``) need a key of any role; the probes and the API's document need none."""

    PATHS = frozenset({"/metrics", "/schema.json"})

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].rstrip("/") in self.PATHS:
            header = next(
                (v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None
            )
            try:
                svc = bentoml.get_current_service()
                await run_in_threadpool(svc.authorize, header, None, f"GET {scope['path']}")
            except RiskwarnError as exc:
                await error_response(exc, request_id_of(scope))(scope, receive, send)
                return
        await self.app(scope, receive, send)


class ControlledPaths:
    """ASGI middleware: a path holding a control character (a newline inside a
    ``warning_id``, say) matches none of BentoML's mounts, whose router would answer a
    plain-text 404; it gets the one error body instead."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and _CONTROL.search(scope["path"]):
            error = UnknownRouteError(
                f"{scope['method']} {scope['path']!r}: no such endpoint (a path holds no control "
                "characters); the OpenAPI document at /docs.json lists them"
            )
            await error_response(error, request_id_of(scope))(scope, receive, send)
            return
        await self.app(scope, receive, send)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

RiskService.add_asgi_middleware(RequestIds)
RiskService.add_asgi_middleware(KeyedInfra)
RiskService.add_asgi_middleware(ControlledPaths)
