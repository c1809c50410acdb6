"""A small client for the riskwarn service, for the case platform and for tests.

    >>> from riskwarn.client import RiskClient
    >>> client = RiskClient("http://127.0.0.1:3000", key)        # doctest: +SKIP
    >>> client.score("D000123", as_of="2025-03-01")["tier"]       # doctest: +SKIP
    'orange'

Answers are the service's JSON as dicts. Errors come back as riskwarn's own exceptions
with the service's message, which names each field in error and what was expected:
400/413/422 :class:`~riskwarn.errors.RequestError`, 401
:class:`~riskwarn.errors.AuthenticationError`, 403
:class:`~riskwarn.errors.PermissionDeniedError`, 404
:class:`~riskwarn.errors.UnknownRecordError`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from riskwarn.errors import (
    AuthenticationError,
    PermissionDeniedError,
    RequestError,
    RiskwarnError,
    UnknownRecordError,
)

__all__ = ["BATCH_LIMIT", "RiskClient"]

BATCH_LIMIT = 1000

_ERRORS: dict[int, type[RiskwarnError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: UnknownRecordError,
}

When = str | dt.date | dt.datetime | None


def _when(value: When) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None, microsecond=0).isoformat()
    return value.isoformat()


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase
    if not isinstance(body, dict):
        return str(body)[:500]
    text = str(body.get("error", ""))  # names each field: "cases[0].top_k: expected ..."
    detail = body.get("detail")
    if not text and isinstance(detail, list):  # a service from before errors named fields
        text = "; ".join(
            f"{'.'.join(str(p) for p in d.get('loc', ()))}: {d.get('msg', '')}"
            for d in detail
            if isinstance(d, dict)
        )
    return text or response.reason_phrase


class RiskClient:
    """Calls the riskwarn service at ``url`` with an API key.

    ``client`` lets a caller pass its own ``httpx.Client`` (e.g. a test client bound to the
    app in process); otherwise one is made with ``timeout`` seconds.
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

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        response = self._client.request(
            method, f"{self.url}{path}", json=body, headers=self._headers
        )
        if response.status_code >= 400:
            error = _ERRORS.get(response.status_code, RequestError)
            if response.status_code >= 500:
                error = RiskwarnError
            raise error(f"{method} {path} -> {response.status_code}: {_message(response)}")
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
    ) -> dict[str, Any]:
        """Risk, tier, model version, request id and the top reasons of one case.

        ``as_of`` is a date (the end of that day, as ``riskwarn score --as-of``), a datetime
        (that moment, local time) or their ISO text; None scores as of now.
        """
        return self._call(
            "POST", "/v1/score", {**self._case(dispute_id, as_of, case), "top_k": top_k}
        )

    def score_batch(self, cases: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Score many cases (dicts as for :meth:`score`), in calls of at most 1,000."""
        items = [
            {k: _when(v) if k == "as_of" else v for k, v in c.items() if v is not None}
            for c in cases
        ]
        results: list[dict[str, Any]] = []
        for start in range(0, len(items), BATCH_LIMIT):
            answer = self._call(
                "POST", "/v1/score_batch", {"cases": items[start : start + BATCH_LIMIT]}
            )
            results.extend(answer["results"])
        return results

    def explain(
        self,
        dispute_id: str | None = None,
        as_of: When = None,
        *,
        case: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Every feature's contribution and the base value (needs a supervisor key)."""
        return self._call("POST", "/v1/explain", self._case(dispute_id, as_of, case))

    def model(self) -> dict[str, Any]:
        """The served model: version, windows, metrics, tier thresholds, card."""
        return self._call("GET", "/v1/model")

    def ingest(self, records: Mapping[str, list[Mapping[str, Any]]]) -> dict[str, Any]:
        """Append contract records (admin key); the whole batch or nothing."""
        return self._call("POST", "/v1/ingest", {k: list(v) for k, v in records.items()})
