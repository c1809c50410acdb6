"""The service's HTTP edge: who may call what, and what a refused request reads.

:class:`KeyGuard` (ASGI middleware) checks the bearer key and its role before a request is
read, refuses bodies over :data:`MAX_BODY` with 413, rewrites BentoML's own validation
answers (``"1 validation error for ScoreRequestIODescriptor"``, the field only in
``detail[].loc``) into one message naming each field path, what was expected and what came
(``"cases[0].top_k: expected less than or equal to 50, got 99"``), and completes the
OpenAPI document with the error bodies every endpoint may send (:func:`document_errors`).

Roles are ranked: ``scorer`` < ``supervisor`` < ``admin``, and a key may use its own
role's endpoints and those of the roles below it (:data:`ACCESS`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.responses import JSONResponse

from riskwarn.errors import ContractError, RiskwarnError
from riskwarn.serving._ingest import issue_dicts
from riskwarn.serving._schemas import (
    ID_PATTERN,
    TEXT_PATTERN,
    BatchRequest,
    ErrorResponse,
    ExplainRequest,
    IngestRequest,
    ReloadRequest,
    ScoreRequest,
    SnapshotRequest,
)
from riskwarn.serving._store import ROLES

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

MAX_BODY = 64 * 1024 * 1024  # bytes; a full batch of 1,000 cases is far below
_ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}  # scorer < supervisor < admin


def at_least(role: str) -> tuple[str, ...]:
    """``role`` and every role above it."""
    return tuple(r for r in ROLES if _ROLE_RANK[r] >= _ROLE_RANK[role])


# The least role each endpoint needs. Every other path needs a key of any role (metrics,
# the OpenAPI schema and docs) except liveness and readiness, and the workbench under /ui,
# which signs its users in itself (supervisor and admin keys).
ACCESS: dict[str, tuple[str, ...]] = {
    "/v1/score": at_least("scorer"),
    "/v1/score_batch": at_least("scorer"),
    "/v1/model": at_least("scorer"),
    "/v1/explain": at_least("supervisor"),
    "/v1/ingest": at_least("admin"),
    "/v1/reload": at_least("admin"),
    "/v1/snapshot": at_least("admin"),
}
OPEN = frozenset({"/livez", "/readyz", "/healthz"})

# The request model of each endpoint that takes a body, for messages naming its fields.
BODIES: dict[str, type[BaseModel]] = {
    "/v1/score": ScoreRequest,
    "/v1/score_batch": BatchRequest,
    "/v1/explain": ExplainRequest,
    "/v1/ingest": IngestRequest,
    "/v1/reload": ReloadRequest,
    "/v1/snapshot": SnapshotRequest,
}
_NOT_FOUND = {"/v1/score", "/v1/score_batch", "/v1/explain", "/v1/reload"}


def required_roles(path: str) -> tuple[str, ...] | None:
    """The roles that may call ``path``, or None when it needs no key."""
    path = path.rstrip("/") or "/"
    if path in OPEN or path == "/ui" or path.startswith("/ui/"):
        return None
    return ACCESS.get(path, ROLES)


def error_response(exc: RiskwarnError) -> JSONResponse:
    """A riskwarn error as the service's JSON error body, with its status."""
    body: dict[str, Any] = {"error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__}
    if isinstance(exc, ContractError):
        body["issues"] = issue_dicts(exc)
    return JSONResponse(body, status_code=exc.http_status_code())


# validation messages ---------------------------------------------------------------------

_MISSING = object()


def field_path(loc: list[Any] | tuple[Any, ...]) -> str:
    """``["cases", 0, "top_k"]`` as ``cases[0].top_k``; the whole body as ``body``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def _value_at(body: Any, loc: list[Any]) -> Any:
    for part in loc:
        in_list = (
            isinstance(part, int) and isinstance(body, list) and -len(body) <= part < len(body)
        )
        in_object = isinstance(part, str) and isinstance(body, dict) and part in body
        if not (in_list or in_object):
            return _MISSING
        body = body[part]
    return body


def _fields_at(model: type[BaseModel] | None, loc: list[Any]) -> list[str]:
    """The field names a request model allows at ``loc`` (for 'did you mean')."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(part)
        if field is None:
            return []
        current = _model_in(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _model_in(annotation: Any) -> Any:
    """The pydantic model inside ``X``, ``X | None`` or ``list[X]``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


_KNOWN_PATTERNS = {
    ID_PATTERN: "an id: 1 to 128 characters, no control characters, no space at either end",
    TEXT_PATTERN: "text without NUL characters",
}
_SIZE = re.compile(r"^(String|List|Dictionary) should have (at (?:most|least) \d+ \w+)")


def _expected(kind: str, msg: str) -> str:
    if kind == "string_pattern_mismatch":
        pattern = msg.partition("pattern '")[2].removesuffix("'")
        return _KNOWN_PATTERNS.get(pattern, f"a string matching {pattern}")
    size = _SIZE.match(msg)
    if size:
        what = {"String": "a string", "List": "a list", "Dictionary": "an object"}[size[1]]
        return f"{what} of {size[2]}"
    if msg.startswith("Input should be "):
        return msg.removeprefix("Input should be ")
    return msg[:1].lower() + msg[1:]


def _shown(value: Any) -> str:
    if isinstance(value, str) and len(value) > 60:
        return f"{len(value)} characters"
    if isinstance(value, (list, dict)) and len(value) > 3:
        return f"{len(value)} {'items' if isinstance(value, list) else 'fields'}"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def explain_error(err: dict[str, Any], body: Any, model: type[BaseModel] | None) -> str:
    """One pydantic error as ``path: expected ..., got ...``."""
    loc = list(err.get("loc") or [])
    kind, msg = str(err.get("type", "")), str(err.get("msg", ""))
    path = field_path(loc)
    if kind == "json_invalid":
        return f"body: expected a JSON object, got text that is not JSON ({msg})"
    if kind == "missing":
        return f"{path}: expected a value (a required field), got none"
    if kind == "extra_forbidden":
        import difflib

        allowed = _fields_at(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1) if loc else []
        hint = f"; did you mean {close[0]!r}?" if close else ""
        listed = f" ({', '.join(allowed)})" if allowed else ""
        return f"{path}: expected only known fields{listed}, got an unknown field{hint}"
    if msg.startswith("Value error, "):  # our own validators say what and what came
        return f"{path}: {msg.removeprefix('Value error, ')}"
    value = _value_at(body, loc)
    got = "" if value is _MISSING else f", got {_shown(value)}"
    return f"{path}: expected {_expected(kind, msg)}{got}"


def rewrite_validation(answer: Any, request_body: bytes, model: type[BaseModel] | None) -> Any:
    """BentoML's validation answer as the service's error body; other answers unchanged."""
    if isinstance(answer, list) and len(answer) == 1 and isinstance(answer[0], dict):
        answer = answer[0]  # BentoML wraps some of its own errors in a one-item list
    if not (
        isinstance(answer, dict)
        and isinstance(answer.get("detail"), list)
        and re.match(r"^\d+ validation errors? for ", str(answer.get("error", "")))
    ):
        return answer
    try:
        body = json.loads(request_body) if request_body else _MISSING
    except ValueError:
        body = _MISSING
    detail = []
    for err in answer["detail"]:
        if isinstance(err, dict):
            loc = list(err.get("loc") or [])
            detail.append(
                {
                    "field": field_path(loc),
                    "loc": loc,
                    "msg": explain_error(err, body, model),
                    "type": str(err.get("type", "")),
                }
            )
    listed = "; ".join(d["msg"] for d in detail[:5])
    more = f" (and {len(detail) - 5} more)" if len(detail) > 5 else ""
    return {"error": listed + more, "detail": detail}


class QuietClientErrors(logging.Filter):
    """BentoML logs every request that fails validation at ERROR with a traceback; a bad
    request is the caller's error, answered with a 400: one INFO line, no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, ValidationError):
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg = f"client error 400 on %s [%s]: {exc.error_count()} invalid field(s)"
            record.exc_info, record.exc_text = None, None
        return True


def quiet_client_errors() -> None:
    logger = logging.getLogger("bentoml._internal.server.http_app")
    if not any(isinstance(f, QuietClientErrors) for f in logger.filters):
        logger.addFilter(QuietClientErrors())


# OpenAPI ---------------------------------------------------------------------------------

_STATUS_TEXT = {
    400: "Malformed request: the message names each field, what was expected and what came.",
    401: "No key, or a key the service does not know (or revoked).",
    403: "The key's role may not use this endpoint.",
    404: "The store does not hold the dispute (or grid, or model) the request names.",
    413: f"The body is larger than {MAX_BODY // (1024 * 1024)} MiB.",
    422: "Records break the data contract: 'issues' names the table, record and field.",
    500: "An unexpected error; see the server log.",
}


def _statuses(path: str) -> list[int]:
    out = [400, 401, 403, 413]
    if path in _NOT_FOUND:
        out.append(404)
    if path == "/v1/ingest":
        out.append(422)
    if path == "/v1/model":
        out = [401, 403]
    return [*out, 500]


def document_errors(spec: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with the service's error bodies on every /v1 endpoint."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    error = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error.pop("$defs", {}))
    schemas["ErrorResponse"] = error
    for name in ("InvalidArgument", "NotFound", "InternalServerError"):
        schemas.pop(name, None)
    ref = {"$ref": "#/components/schemas/ErrorResponse"}
    for path, item in spec.get("paths", {}).items():
        if path not in ACCESS:
            continue
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = {k: v for k, v in operation["responses"].items() if str(k) < "400"}
            for status in _statuses(path):
                responses[str(status)] = {
                    "description": _STATUS_TEXT[status],
                    "content": {"application/json": {"schema": ref}},
                }
            operation["responses"] = responses
    return spec


# the middleware ----------------------------------------------------------------------------


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None when it is larger than ``limit`` bytes."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def again() -> MutableMapping[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def _too_large() -> JSONResponse:
    return JSONResponse(
        {
            "error": f"body: expected at most {MAX_BODY} bytes, got more; send large batches "
            "in several calls"
        },
        status_code=413,
    )


def _rewriting(send: Send, transform: Callable[[Any], Any], when: Callable[[int], bool]) -> Send:
    """``send`` that passes JSON answers whose status ``when`` accepts through ``transform``."""
    start: MutableMapping[str, Any] | None = None
    chunks: list[bytes] = []

    async def rewritten(message: MutableMapping[str, Any]) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            if when(int(message["status"])):
                start = message
                return
            await send(message)
            return
        if start is None or message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        raw = b"".join(chunks)
        with contextlib.suppress(ValueError):  # not JSON: send as it came
            raw = json.dumps(transform(json.loads(raw)), ensure_ascii=False).encode()
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(raw)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": raw, "more_body": False})

    return rewritten


class KeyGuard:
    """ASGI middleware: checks the bearer key and its role before a request is read, so a
    caller without the right key learns nothing, not even how its body would be judged;
    then bounds the body, and rewrites validation answers and the OpenAPI document. The
    caller goes into ``request.state.caller`` for the audit log.

    ``authorize(header, roles, what)`` returns the caller or raises a riskwarn error.
    """

    def __init__(self, app: Any, authorize: Callable[[str | None, tuple, str], Any]) -> None:
        self.app = app
        self.authorize = authorize

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        roles = required_roles(scope["path"]) if scope["type"] == "http" else None
        if roles is None:
            await self.app(scope, receive, send)
            return
        header = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None
        )
        path = scope["path"].rstrip("/")
        try:
            caller = self.authorize(header, roles, f"{scope['method']} {scope['path']}")
        except RiskwarnError as exc:
            await error_response(exc)(scope, receive, send)
            return
        scope.setdefault("state", {})["caller"] = caller
        if path == "/docs.json":
            send = _rewriting(send, document_errors, lambda status: status == 200)
        elif path in BODIES and scope["method"] == "POST":
            length = next((v for k, v in scope["headers"] if k == b"content-length"), b"0")
            too_long = not length.isdigit() or int(length) > MAX_BODY
            body = None if too_long else await _read_body(receive, MAX_BODY)
            if body is None:
                await _too_large()(scope, receive, send)
                return
            receive = _replay(body, receive)
            model = BODIES[path]
            send = _rewriting(
                send,
                lambda answer: rewrite_validation(answer, body, model),
                lambda status: 400 <= status < 500,
            )
        await self.app(scope, receive, send)
