"""A small client for the riskwarn service, for the case platform and for tests.

    >>> from riskwarn.client import RiskClient
    >>> client = RiskClient("http://127.0.0.1:3000", key)        # doctest: +SKIP
    >>> client.score("D000123", as_of="2025-03-01")["tier"]       # doctest: +SKIP
    'orange'

Answers are the service's JSON as dicts. Errors come back as riskwarn's own exceptions
with the service's message (which names each field in error and what was expected) and
its request id: 400/405/413/415 :class:`~riskwarn.errors.RequestError` (or the subclass
for the status), 401 :class:`~riskwarn.errors.AuthenticationError`, 403
:class:`~riskwarn.errors.PermissionDeniedError`, 404
:class:`~riskwarn.errors.UnknownRecordError`, 422 :class:`~riskwarn.errors.ContractError`
(``issues`` as the service listed them), 503
:class:`~riskwarn.errors.ServiceUnavailableError` (``retry_after`` from the answer).
A generated client (``openapi-python-client`` on ``/docs.json``) works as well; this one
is small and has no code generation step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from riskwarn.errors import (
    AuthenticationError,
    ContractError,
    MethodNotAllowedError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RequestError,
    RiskwarnError,
    ServiceUnavailableError,
    UnknownRecordError,
    UnsupportedMediaTypeError,
)

__all__ = ["BATCH_LIMIT", "RiskClient"]

BATCH_LIMIT = 1000

_ERRORS: dict[int, type[RiskwarnError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: UnknownRecordError,
    405: MethodNotAllowedError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    422: ContractError,
}

When = str | dt.date | dt.datetime | None


def _when(value: When) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None, microsecond=0).isoformat()
    return value.isoformat()


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"error": response.text[:500] or response.reason_phrase}
    return body if isinstance(body, dict) else {"error": str(body)[:500]}


def _error(method: str, path: str, response: httpx.Response) -> RiskwarnError:
    """The service's error answer as the riskwarn error for its status."""
    body = _body(response)
    status = response.status_code
    request_id = body.get("request_id") or response.headers.get("x-request-id")
    text = f"{method} {path} -> {status}: {body.get('error') or response.reason_phrase}"
    if request_id:
        text += f" (request {request_id})"
    if status == 422:
        return ContractError(text, list(body.get("issues") or []))
    if status == 503:
        retry = response.headers.get("retry-after", "")
        return ServiceUnavailableError(text, int(retry) if retry.isdigit() else 5)
    if status >= 500:
        return RiskwarnError(text)
    return _ERRORS.get(status, RequestError)(text)


class RiskClient:
    """Calls the riskwarn service at ``url`` with an API key.

    ``client`` lets a caller pass its own ``httpx.Client`` (e.g. a test client bound to the
    app in process); otherwise one is made with ``timeout`` seconds. Every method takes a
    ``request_id`` to send as ``X-Request-ID`` (the service records it in its audit log and
    returns it); without one the service makes one.
    """

    def __init__(
        self,
        url: str,
        key: str,
        *,
        timeout: float = 30.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {key}"}
        self._client = client or httpx.Client(timeout=timeout)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> RiskClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        request_id: str | None = None,
    ) -> Any:
        headers = dict(self._headers)
        if request_id is not None:
            headers["X-Request-ID"] = request_id
        response = self._client.request(method, f"{self.url}{path}", json=body, headers=headers)
        if response.status_code >= 400:
            raise _error(method, path, response)
        return response.json()

    @staticmethod
    def _case(
        dispute_id: str | None, as_of: When, case: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if dispute_id is not None:
            body["dispute_id"] = dispute_id
        if case is not None:
            body["case"] = dict(case)
        if as_of is not None:
            body["as_of"] = _when(as_of)
        return body

    def score(
        self,
        dispute_id: str | None = None,
        as_of: When = None,
        *,
        case: Mapping[str, Any] | None = None,
        top_k: int = 5,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Risk, the model's tier and the tier to act on (with a supervisor's ``override``),
        the case's status, the store's ``data_as_of``, ``warnings`` and the top reasons.

        ``as_of`` is a date (the end of that day, as ``riskwarn score --as-of``), a datetime
        (that moment, local time) or their ISO text; None scores as of now.
        """
        body = {**self._case(dispute_id, as_of, case), "top_k": top_k}
        return self._call("POST", "/v1/score", body, request_id)

    def score_batch(
        self, cases: Iterable[Mapping[str, Any]], *, request_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Score many cases (dicts as for :meth:`score`), in calls of at most 1,000.

        One item per case, in order: ``{"index", "dispute_id", "result", "error"}``, with
        ``result`` an answer as :meth:`score` gives it, or ``error`` (``status``, ``error``)
        for a case that could not be scored; ``index`` counts across all calls.
        """
        items = [
            {k: _when(v) if k == "as_of" else v for k, v in c.items() if v is not None}
            for c in cases
        ]
        results: list[dict[str, Any]] = []
        for start in range(0, len(items), BATCH_LIMIT):
            chunk = {"cases": items[start : start + BATCH_LIMIT]}
            answer = self._call("POST", "/v1/score_batch", chunk, request_id)
            results.extend({**item, "index": start + item["index"]} for item in answer["results"])
        return results

    def explain(
        self,
        dispute_id: str | None = None,
        as_of: When = None,
        *,
        case: Mapping[str, Any] | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Every feature's contribution and the base value (needs a supervisor key)."""
        return self._call("POST", "/v1/explain", self._case(dispute_id, as_of, case), request_id)

    def model(self, *, request_id: str | None = None) -> dict[str, Any]:
        """The served model: version, windows, metrics, tier thresholds, card."""
        return self._call("GET", "/v1/model", None, request_id)

    def ingest(
        self, records: Mapping[str, list[Mapping[str, Any]]], *, request_id: str | None = None
    ) -> dict[str, Any]:
        """Append contract records (admin key); the whole batch or nothing."""
        body = {k: list(v) for k, v in records.items()}
        return self._call("POST", "/v1/ingest", body, request_id)
