"""The service's HTTP edge, in one place: riskwarn's errors as HTTP answers, request ids,
and how a JSON body is read.

- :func:`error_response` turns any :class:`~riskwarn.errors.RiskwarnError` into the one
  error body, ``{"error", "detail", "issues", "request_id"}`` (``ErrorResponse``), with
  the status the error carries (:meth:`~riskwarn.errors.RiskwarnError.http_status_code`),
  ``Retry-After`` on a 503 and ``Allow`` on a 405. :func:`translate` maps what the web
  framework raises (a validation error, an unknown route, a wrong method) into riskwarn's
  tree first, so every status is answered by the same code.
- :class:`RequestIds` (ASGI middleware) honours an incoming ``X-Request-ID`` or makes one,
  and returns it on every answer; error bodies and the audit log carry the same id.
- :class:`JsonBody` reads a request body once, refusing at once what is not JSON (415),
  too large (413) or nested too deep (400), before anything parses it.

A presented key is never part of a message, an answer or a log line.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import numpy as np
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from riskwarn.errors import (
    ContractError,
    MethodNotAllowedError,
    PayloadTooLargeError,
    RequestError,
    RiskwarnError,
    ServiceUnavailableError,
    UnknownRouteError,
    UnsupportedMediaTypeError,
)
from riskwarn.serving._schemas import ID_PATTERN, ID_RULE, TEXT_PATTERN

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

logger = logging.getLogger("riskwarn.serving")

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_KEY_PREFIX = "rwk_"


# errors ---------------------------------------------------------------------------------


class MalformedRequest(RequestError):
    """The request is malformed: ``detail`` names each field, what was expected and what
    came."""

    def __init__(self, message: str, fields: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.fields = fields


def request_id_of(scope: Scope) -> str:
    """The request's id (set by :class:`RequestIds`; a fresh one outside it)."""
    state = scope.setdefault("state", {})
    if "request_id" not in state:
        state["request_id"] = uuid.uuid4().hex
    return state["request_id"]


def error_body(exc: RiskwarnError, request_id: str) -> dict[str, Any]:
    """The one error body for ``exc``."""
    text = str(exc)
    return {
        "error": text.splitlines()[0] if text else type(exc).__name__,
        "detail": list(getattr(exc, "fields", [])),
        "issues": issue_dicts(exc) if isinstance(exc, ContractError) else [],
        "request_id": request_id,
    }


class ErrorJSON(JSONResponse):
    """JSON whose text may quote what a caller sent, lone surrogates included (JSON allows
    ``\\ud800``; UTF-8 does not): those are written as JSON escapes, never a failed answer."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return text.encode("utf-8", "backslashreplace")


def error_response(exc: RiskwarnError, request_id: str) -> JSONResponse:
    """``exc`` as the service answers it: the error body with the error's status."""
    headers = {REQUEST_ID_HEADER: request_id}
    if isinstance(exc, ServiceUnavailableError):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, MethodNotAllowedError) and exc.allow:
        headers["Allow"] = ", ".join(exc.allow)
    return ErrorJSON(
        error_body(exc, request_id), status_code=exc.http_status_code(), headers=headers
    )


def issue_dicts(exc: ContractError) -> list[dict[str, Any]]:
    """The issues of a contract error as JSON-ready dicts (``RecordIssue``)."""
    return [issue_dict(i) for i in exc.issues]


def issue_dict(i: Any) -> dict[str, Any]:
    return {
        "table": i.table,
        "record": i.row,
        "field": i.column,
        "value": i.value,
        "expected": i.expected,
        "message": i.message,
    }


def translate(exc: Exception, request: Request) -> RiskwarnError:
    """What the web framework raised, as an error of riskwarn's tree."""
    if isinstance(exc, RiskwarnError):
        return exc
    if isinstance(exc, RequestValidationError):
        return malformed(list(exc.errors()))
    if isinstance(exc, HTTPException):
        what = f"{request.method} {request.url.path}"
        if exc.status_code == 404:
            return UnknownRouteError(
                f"{what}: no such endpoint; the OpenAPI document at /docs.json lists them"
            )
        if exc.status_code == 405:
            allow = tuple((exc.headers or {}).get("Allow", "").replace(" ", "").split(","))
            return MethodNotAllowedError(f"{what}: expected one of {', '.join(allow)}", allow)
        if exc.status_code == 413:
            return PayloadTooLargeError(f"body: too large; {PayloadTooLargeError.__doc__}")
        error = RequestError(f"{what}: {exc.detail}")
        error.status_code = exc.status_code
        return error
    raise TypeError(f"not an error the service answers: {exc!r}")


# validation messages ----------------------------------------------------------------------


def field_path(loc: list[Any] | tuple[Any, ...]) -> str:
    """``["cases", 0, "top_k"]`` as ``cases[0].top_k``; the whole body as ``body``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


_TYPES = {  # pydantic's error types, as what was expected
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "list_type": "a list",
    "finite_number": "a finite number",
    "datetime_type": "a date or datetime",
    "int_from_float": "a whole number",
    "none_required": "null",
    "string_unicode": "valid Unicode text (no lone surrogates)",
}
_PATTERNS = {ID_PATTERN: ID_RULE, TEXT_PATTERN: "text without NUL characters"}


def _expected(kind: str, ctx: dict[str, Any], msg: str) -> str:
    """What pydantic's error of type ``kind`` (with its ``ctx``) expected, in words."""
    if kind in _TYPES:
        return _TYPES[kind]
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        return _PATTERNS.get(pattern, f"a string matching {pattern}")
    if kind in ("string_too_long", "too_long", "string_too_short", "too_short"):
        limit = ctx.get("max_length" if kind.endswith("long") else "min_length")
        unit = "character" if kind.startswith("string") else "item"
        words = "at most" if kind.endswith("long") else "at least"
        return f"{words} {limit} {unit}{'' if limit == 1 else 's'}"
    if kind == "literal_error":
        return f"one of {ctx.get('expected')}"
    bounds = {
        "less_than_equal": ("at most", "le"),
        "greater_than_equal": ("at least", "ge"),
        "less_than": ("less than", "lt"),
        "greater_than": ("more than", "gt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        value = ctx.get(key)
        return f"{words} {value:g}" if isinstance(value, float) else f"{words} {value}"
    return msg


def _shown(value: Any) -> str:
    if isinstance(value, str) and len(value) > 60:
        return f"{len(value)} characters"
    if isinstance(value, (list, dict)) and len(value) > 3:
        return f"{len(value)} {'items' if isinstance(value, list) else 'fields'}"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _fields_at(model: Any, loc: list[Any]) -> list[str]:
    """The field names the request model allows at ``loc`` (for "did you mean")."""
    current = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        current = _model_in(fields[part].annotation)
    return list(getattr(current, "model_fields", None) or [])


def _model_in(annotation: Any) -> Any:
    """The pydantic model inside ``X``, ``X | None`` or ``list[X]``, if any."""
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def explain_error(err: dict[str, Any], model: Any = None) -> str:
    """One pydantic error as ``path: expected ..., got ...`` (``model``: the request's, for
    naming the fields an unknown one may have meant)."""
    loc = [part for part in err.get("loc") or () if part != "body"]
    kind, msg = str(err.get("type", "")), str(err.get("msg", ""))
    ctx = dict(err.get("ctx") or {})
    path = field_path(loc)
    if kind == "json_invalid":
        return f"body: expected JSON, got text that is not JSON ({ctx.get('error', msg)})"
    if kind == "missing":
        return f"{path}: expected a value (a required field), got none"
    if kind == "extra_forbidden":
        allowed = _fields_at(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1) if loc else []
        hint = f"; did you mean {close[0]!r}?" if close else ""
        listed = f" ({', '.join(allowed)})" if allowed else ""
        return f"{path}: expected only known fields{listed}, got an unknown field{hint}"
    if kind == "value_error":  # our own validators say what and what came
        return f"{path}: {ctx.get('error', msg)}"
    got = f", got {_shown(err['input'])}" if "input" in err else ""
    return f"{path}: expected {_expected(kind, ctx, msg)}{got}"


def malformed(errors: list[dict[str, Any]], model: Any = None) -> MalformedRequest:
    """A validation failure as one error naming each field (the first five in its text)."""
    fields = []
    for err in errors:
        loc = [p for p in err.get("loc") or () if p != "body"]
        if err.get("type") == "json_invalid":
            loc = []
        fields.append(
            {
                "field": field_path(loc),
                "loc": loc,
                "msg": explain_error(err, model),
                "type": err["type"],
            }
        )
    listed = "; ".join(f["msg"] for f in fields[:5])
    more = f" (and {len(fields) - 5} more)" if len(fields) > 5 else ""
    return MalformedRequest(listed + more, fields)


# request ids ------------------------------------------------------------------------------


def chosen_request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's ``X-Request-ID`` when it is a plain token (and not a key sent by
    mistake), else a fresh one."""
    for name, value in headers:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _REQUEST_ID.match(text) and not text.startswith(_KEY_PREFIX):
                return text
            break
    return uuid.uuid4().hex


class RequestIds:
    """ASGI middleware: every request gets an id (the caller's ``X-Request-ID`` when it
    sent a usable one) in ``scope["state"]["request_id"]``, and every answer carries it
    back in ``X-Request-ID``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = chosen_request_id(scope["headers"])
        scope.setdefault("state", {})["request_id"] = request_id
        header = (REQUEST_ID_HEADER.lower().encode(), request_id.encode())

        async def send_with_id(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] != header[0]]
                message["headers"] = [*headers, header]
            await send(message)

        await self.app(scope, receive, send_with_id)


# bodies -----------------------------------------------------------------------------------

_STRINGS = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_OPEN = np.frombuffer(b"[{", dtype=np.uint8)
_CLOSE = np.frombuffer(b"]}", dtype=np.uint8)


def json_depth(body: bytes) -> int:
    """How deeply ``body``'s arrays and objects nest, counted without parsing it (strings
    are skipped, so brackets inside them do not count)."""
    stripped = np.frombuffer(_STRINGS.sub(b'""', body), dtype=np.uint8)
    if not len(stripped):
        return 0
    step = np.isin(stripped, _OPEN).astype(np.int32) - np.isin(stripped, _CLOSE).astype(np.int32)
    return int(np.cumsum(step).max(initial=0))


def is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind == "application/json" or (
        kind.startswith("application/") and kind.endswith("+json")
    )


class JsonBody(Request):
    """A request whose body is read once, within limits, before anything parses it (the
    custom request class FastAPI documents for reading a body first).

    Refused at once: a body that is not sent as JSON (415), larger than ``max_body`` bytes
    by its ``Content-Length`` or as it streams in (413), not UTF-8, or nested deeper than
    ``max_depth`` (400). FastAPI then parses the same bytes.
    """

    def __init__(self, request: Request, max_body: int, max_depth: int) -> None:
        super().__init__(request.scope, request.receive)
        self.max_body, self.max_depth = max_body, max_depth

    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            self._body = await self._read()
        return self._body

    async def _read(self) -> bytes:
        length = self.headers.get("content-length")
        kind = self.headers.get("content-type")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            raise self._too_large()
        if length != "0" and not is_json(kind):
            shown = (kind or "none").split(";", 1)[0][:60]
            raise UnsupportedMediaTypeError(
                f"body: expected Content-Type: application/json, got {shown}; send the "
                "request as JSON"
            )
        chunks, size = [], 0
        async for chunk in self.stream():
            size += len(chunk)
            if size > self.max_body:
                raise self._too_large()
            chunks.append(chunk)
        body = b"".join(chunks)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedRequest(
                f"body: expected JSON in UTF-8, got bytes that are not UTF-8 (at byte {exc.start})",
                [],
            ) from exc
        # a body with no more brackets than the limit cannot nest deeper (most bodies)
        brackets = body.count(b"[") + body.count(b"{")
        depth = json_depth(body) if brackets > self.max_depth else 0
        if depth > self.max_depth:
            raise MalformedRequest(
                f"body: expected JSON nested at most {self.max_depth} levels deep, got "
                f"{depth}; no request of this service nests deeper",
                [],
            )
        return body

    def _too_large(self) -> PayloadTooLargeError:
        return PayloadTooLargeError(
            f"body: expected at most {self.max_body} bytes, got more; send large batches in "
            "several calls"
        )
