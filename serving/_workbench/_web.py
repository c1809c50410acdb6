"""Request plumbing of the workbench: the per-request context, templates, safe Markdown,
and the cookies and security headers every answer carries."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import markdown_it
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import Response

from riskwarn.clock import get_clock
from riskwarn.config import Settings
from riskwarn.serving._scorer import Scorer
from riskwarn.serving._store import Store
from riskwarn.vocab import TIER_ORDER, tier_rank

from . import _session
from ._charts import TIER_COLOURS, pct
from ._i18n import LABELS

HERE = Path(__file__).parent
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class Backend(Protocol):
    """What the workbench reads: the service's store and its current scorer.

    The BentoML service instance has both attributes, so the service passes itself (or a
    function that returns itself: the scorer is replaced when the history grows).
    """

    store: Store
    scorer: Scorer


@dataclass
class Ctx:
    """One request: who asks, in which language, and the session to write back."""

    request: Request
    backend: Backend
    session: dict[str, Any]
    lang: str
    router: Any
    settings: Settings
    name: str = ""
    role: str = ""
    dirty: bool = False
    set_lang: str | None = None

    def url(self, name: str, /, query: dict[str, str] | None = None, **params: Any) -> str:
        """A path inside the workbench, under wherever it is mounted.

        Built from the workbench's own routes, not the outer app's: a host app may name its
        mount (BentoML calls it ``workbench``), which would change every route's name.
        """
        root = self.request.scope.get("root_path", "")
        path = root + str(self.router.url_path_for(name, **params))
        return path + ("?" + urllib.parse.urlencode(query) if query else "")

    def case_url(self, dispute_id: str, action: str | None = None) -> str:
        """A case page (or one of its actions): the id goes in the query, percent-encoded,
        so any id the contract allows (``/``, ``?``, ``#``, ``..``, CJK) makes a working
        link."""
        if action is None:
            return self.url("case", query={"id": dispute_id})
        return self.url("action", query={"id": dispute_id}, kind=action)

    def flash(self, key: str) -> None:
        self.session["flash"] = key
        self.dirty = True


def markdown() -> markdown_it.MarkdownIt:
    """CommonMark with tables; raw HTML in the source is shown as text, never run."""
    return markdown_it.MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = pct
    env.filters["day"] = lambda v: "" if v is None else f"{v:%Y-%m-%d}"
    env.filters["stamp"] = lambda v: "" if v is None else f"{v:%Y-%m-%d %H:%M}"
    # what the service recorded (in UTC) as a person reads it: the county's local time
    env.filters["local"] = lambda v: None if v is None else get_clock().to_local(v)
    env.globals.update(
        TIER_ORDER=TIER_ORDER, TIER_COLOURS=TIER_COLOURS, tier_rank=tier_rank, label_keys=LABELS
    )
    return env


def set_cookies(ctx: Ctx, response: Response, signed_session: str | None) -> None:
    """The session (when it changed) and language cookies: HttpOnly, SameSite=Lax, scoped
    to the workbench's path, Secure over https or when the settings say TLS ends at a proxy
    in front (``RISKWARN_SECURE_COOKIES=1``)."""
    path = ctx.request.scope.get("root_path") or "/"
    secure = ctx.request.url.scheme == "https" or ctx.settings.secure_cookies
    flags: dict[str, Any] = {"path": path, "httponly": True, "samesite": "lax", "secure": secure}
    if signed_session is not None:
        response.set_cookie(_session.COOKIE, signed_session, **flags)
    if ctx.set_lang:
        response.set_cookie(_session.LANG_COOKIE, ctx.set_lang, max_age=365 * 86400, **flags)


def secure_headers(response: Response) -> Response:
    """No caching of pages with data, no framing, no scripts or styles from elsewhere."""
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = CSP
    return response
