"""The workbench as a Starlette app: sign-in, queue, case, model, actions, JSON data routes.

Every page and data route needs a session made from a ``supervisor`` or ``admin`` key;
pages redirect to the sign-in form, data routes answer 401 in JSON; signing out ends the
session for every copy of its cookie. Forms that change anything carry the session's CSRF
token. Viewing a case, every action and every sign-in are written to the store's
append-only audit log with the key's name.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pandas as pd
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from riskwarn import vocab
from riskwarn.clock import get_clock
from riskwarn.config import Settings
from riskwarn.errors import AuthenticationError, RiskwarnError
from riskwarn.serving._http import request_id_of
from riskwarn.serving._keys import _key_id, authenticate, hash_key
from riskwarn.serving._queue import PER_PAGE, QueueFilter

from . import _session
from ._actions import KINDS, ActionRefused, check_action, check_listed
from ._card import FEW_EVENTS
from ._case import dispute_facts, status
from ._corrections import records_routes
from ._county import CountyPages
from ._i18n import LABELS, label, pick_lang
from ._loop import loop_routes, record_action, warned_tier
from ._person import person_routes
from ._views import case_json, case_view, model_view, tiers_of
from ._web import HERE, Backend, Ctx, environment, markdown, secure_headers, set_cookies

ROLES = vocab.roles_at_least("supervisor")


class Workbench(CountyPages):
    """Routes and the state they share (templates, session signer, signed-out sessions).

    Everything that reads the store or scores a case runs in a worker thread: the event
    loop is the one that answers ``/v1/score``, so a case page must not hold it through
    database reads, pandas scans and an audit insert. The scorer's own lock keeps its
    feature builder to one case at a time across the loop and the threads."""

    def __init__(
        self, backend: Backend | Callable[[], Backend], secret: str | None, per_page: int
    ) -> None:
        self._backend = backend
        self.per_page = per_page
        self._secret = secret
        self._sessions: _session.Sessions | None = None
        self._settings: Settings | None = None
        self.env = environment()
        self.md = markdown()

    # plumbing ---------------------------------------------------------------------------

    def backend(self) -> Backend:
        b = self._backend
        return b if hasattr(b, "store") else b()  # type: ignore[operator]

    @property
    def settings(self) -> Settings:
        """The service's settings (read once when its worker started), or the
        environment's for a backend without them; read on first use, not at import."""
        if self._settings is None:
            self._settings = getattr(self.backend(), "settings", None) or Settings.from_env()
        return self._settings

    @property
    def sessions(self) -> _session.Sessions:
        if self._sessions is None:  # read the secret on first use, not at import
            secret = self._secret or _session.session_secret(self.settings)
            self._sessions = _session.Sessions(secret)
        return self._sessions

    def context(self, request: Request) -> Ctx:
        query_lang = request.query_params.get("lang")
        lang = pick_lang(query_lang, request.cookies.get(_session.LANG_COOKIE))
        session = self.sessions.load(request.cookies.get(_session.COOKIE))
        ctx = Ctx(request, self.backend(), session, lang, self.router, self.settings)
        if query_lang == lang:
            ctx.set_lang = lang
        return ctx

    def finish(self, ctx: Ctx, response: Response) -> Response:
        """Write the session (when it changed) and language cookies back; add the headers."""
        set_cookies(ctx, response, self.sessions.dump(ctx.session) if ctx.dirty else None)
        return secure_headers(response)

    def render(self, ctx: Ctx, template: str, status: int = 200, **values: Any) -> Response:
        lang = ctx.lang
        flash = ctx.session.pop("flash", None)
        if flash:
            ctx.dirty = True
        html = self.env.get_template(template).render(
            lang=lang,
            t=lambda key, **f: label(key, lang, **f),
            en=lambda kind, value: vocab.label(kind, value, lang),
            url=ctx.url,
            case_url=ctx.case_url,
            name=ctx.name,
            role=ctx.role,
            csrf=ctx.session.get("csrf", ""),
            flash=label(flash, lang) if flash in LABELS else None,
            static=lambda p: ctx.url("static", path=p),
            switch=lambda to: (
                ctx.request.url.include_query_params(lang=to).path
                + "?"
                + ctx.request.url.include_query_params(lang=to).query
            ),
            active=template.removesuffix(".html"),
            **values,
        )
        return self.finish(ctx, HTMLResponse(html, status_code=status))

    def audit(self, ctx: Ctx, action: str, **entry: Any) -> None:
        ctx.backend.store.audit(
            [
                {
                    "key_name": ctx.name or "-",
                    "action": action,
                    "request_id": request_id_of(ctx.request.scope),
                    **entry,
                }
            ]
        )

    def signed_in(self, ctx: Ctx) -> bool:
        """Whether the session names a live supervisor or admin key and was not signed out
        (checked every request)."""
        kid, sid = ctx.session.get("kid"), ctx.session.get("sid")
        if not kid or not sid:
            return False
        store = ctx.backend.store
        row = store.key_row(str(kid))
        if not _session.still_live(ctx.session, row) or row is None or row["role"] not in ROLES:
            return False
        if store.session_ended(str(sid)):
            return False
        ctx.name, ctx.role = str(row["name"]), str(row["role"])
        return True

    def guard(
        self, handler: Callable[[Ctx], Awaitable[Response]], data: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        """Run ``handler`` only for a signed-in supervisor; else 401 (data) or the sign-in form."""

        async def endpoint(request: Request) -> Response:
            ctx = self.context(request)
            if not await run_in_threadpool(self.signed_in, ctx):
                if data:
                    body = {
                        "error": "expected a workbench session of a supervisor or admin key, "
                        f"got none; sign in at {ctx.url('signin')} first"
                    }
                    return self.finish(ctx, JSONResponse(body, status_code=401))
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                if request.method != "GET":  # a form sent without a session is not replayed
                    target = ctx.url("queue")
                return self.finish(
                    ctx, RedirectResponse(ctx.url("signin", query={"next": target}), 303)
                )
            return await handler(ctx)

        return endpoint

    async def form(self, ctx: Ctx) -> dict[str, str] | Response:
        """The posted form, or a 403 page when its CSRF token is not the session's."""
        form = await ctx.request.form()
        values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        if not _session.same_token(ctx.session.get("csrf"), values.get("csrf")):
            refused = ActionRefused(
                "表单已失效（安全令牌不符）。请刷新页面后重新提交。",
                "the form is stale (its security token does not match the session); reload "
                "the page and send it again",
                status=403,
            )
            return self.render(ctx, "error.html", status=403, message=refused.text(ctx.lang))
        return values

    def safe_next(self, ctx: Ctx, target: str | None) -> str:
        """Where to go after sign-in: a path inside the workbench, else the queue."""
        root = (ctx.request.scope.get("root_path") or "") + "/"
        if (
            target
            and target.startswith(root)
            and not target.startswith("//")
            and "\\" not in target
        ):
            return target
        return ctx.url("queue")

    # sign-in ----------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        ctx = self.context(request)
        return self.finish(ctx, RedirectResponse(ctx.url("queue"), 303))

    async def signin_form(self, request: Request) -> Response:
        ctx = self.context(request)
        if "csrf" not in ctx.session:
            ctx.session = {"csrf": _session.new_token()}
            ctx.dirty = True
        return self.render(ctx, "signin.html", next=request.query_params.get("next", ""))

    async def signin(self, request: Request) -> Response:
        ctx = self.context(request)
        values = await self.form(ctx)
        if isinstance(values, Response):
            return values
        key = values.get("key", "").strip()
        store = ctx.backend.store
        try:
            caller = await run_in_threadpool(authenticate, store, key)
        except AuthenticationError:
            await run_in_threadpool(self.audit, ctx, "ui:signin_refused", detail="unknown key")
            return self.render(
                ctx,
                "signin.html",
                status=401,
                next=values.get("next", ""),
                error=label("wrong_key", ctx.lang),
            )
        if caller.role not in ROLES:
            ctx.name = caller.name
            await run_in_threadpool(
                self.audit, ctx, "ui:signin_refused", detail=f"role {caller.role}"
            )
            return self.render(
                ctx,
                "signin.html",
                status=403,
                next=values.get("next", ""),
                error=label("wrong_role", ctx.lang, role=caller.role, name=caller.name),
            )
        ctx.session = _session.signed_in(str(_key_id(key)), hash_key(key), caller.name, caller.role)
        ctx.dirty = True
        ctx.name = caller.name
        await run_in_threadpool(self.audit, ctx, "ui:signin", detail=f"role {caller.role}")
        return self.finish(ctx, RedirectResponse(self.safe_next(ctx, values.get("next")), 303))

    async def signout(self, ctx: Ctx) -> Response:
        values = await self.form(ctx)
        if isinstance(values, Response):
            return values
        await run_in_threadpool(
            ctx.backend.store.end_session,
            str(ctx.session["sid"]),
            by=ctx.name or "-",
            request_id=request_id_of(ctx.request.scope),
            keep=dt.timedelta(seconds=_session.MAX_AGE),
        )
        ctx.session = {"csrf": _session.new_token(), "flash": "signed_out"}
        ctx.dirty = True
        return self.finish(ctx, RedirectResponse(ctx.url("signin"), 303))

    # pages ------------------------------------------------------------------------------

    async def queue(self, ctx: Ctx) -> Response:
        f = QueueFilter.from_params(ctx.request.query_params)
        page = await run_in_threadpool(ctx.backend.store.queue, f, self.per_page)
        # bars scaled to the data: the riskiest case on the page fills its bar
        red_cut = max((float(r["risk"]) for r in page.rows), default=0.0) or 1.0
        grids = ctx.backend.scorer.dataset.grids
        township_grids = set(grids.loc[grids["township"] == f.township, "grid_id"].astype(str))
        return self.render(
            ctx, "queue.html", page=page, f=f, red_cut=red_cut, township_grids=township_grids
        )

    async def queue_json(self, ctx: Ctx) -> Response:
        f = QueueFilter.from_params(ctx.request.query_params)
        page = await run_in_threadpool(ctx.backend.store.queue, f, self.per_page)
        keep = (
            "position",
            "dispute_id",
            "risk",
            "tier",
            "model_tier",
            "raised",
            "change",
            "township",
            "grid_id",
            "category",
            "days_open",
            "assignee",
            "ack",
            "notes",
            "last_note",
        )
        body = {
            "as_of": page.as_of.isoformat() if page.as_of else None,
            "total": page.total,
            "page": page.page,
            "pages": page.pages,
            "per_page": page.per_page,
            "tier_counts": page.tier_counts,
            "rows": [{k: r[k] for k in keep} for r in page.rows],
        }
        return self.finish(ctx, JSONResponse(json.loads(json.dumps(body, default=str))))

    def _case(self, ctx: Ctx, dispute_id: str) -> dict[str, Any] | None:
        b = ctx.backend
        view = case_view(b.store, b.scorer, dispute_id, ctx.lang)
        if view is not None:
            self.audit(
                ctx,
                "explain",
                dispute_id=dispute_id,
                as_of=view["as_of"].to_pydatetime(),
                model_version=view["model_version"],
                risk=view["risk"],
                tier=view["model_tier"],
                detail="workbench case page",
            )
        return view

    async def case(self, ctx: Ctx, error: ActionRefused | None = None) -> Response:
        dispute_id = case_id(ctx)
        view = await run_in_threadpool(self._case, ctx, dispute_id)
        if view is None:
            message = label("not_found", ctx.lang) + f": {dispute_id}"
            return self.render(ctx, "error.html", status=404, message=message)
        status = error.status_code if error else 200
        return self.render(
            ctx,
            "case.html",
            status=status,
            c=view,
            error=error.text(ctx.lang) if error else None,
            explain_view=ctx.request.query_params.get("view") == "explain",
        )

    async def case_data(self, ctx: Ctx) -> Response:
        dispute_id = case_id(ctx)
        view = await run_in_threadpool(self._case, ctx, dispute_id)
        if view is None:
            body = {"error": f"dispute_id: expected a dispute the store holds, got {dispute_id!r}"}
            return self.finish(ctx, JSONResponse(body, status_code=404))
        return self.finish(ctx, JSONResponse(case_json(view)))

    async def model(self, ctx: Ctx) -> Response:
        history = await run_in_threadpool(ctx.backend.store.tier_history, 400)
        monitor = getattr(ctx.backend, "monitor", None)  # the service's, read once per model
        view = await run_in_threadpool(model_view, ctx.backend.scorer, ctx.lang, history, monitor)
        return self.render(
            ctx, "model.html", m=view, card=self.md.render(view["card"]), FEW=FEW_EVENTS
        )

    async def action(self, ctx: Ctx) -> Response:
        values = await self.form(ctx)
        if isinstance(values, Response):
            return values
        dispute_id = case_id(ctx)
        kind = ctx.request.path_params["kind"]
        b = ctx.backend
        # Only a raise needs the current tier, and that means scoring the case.
        if kind == "raise_tier":
            current = await run_in_threadpool(self._current_tier, b, dispute_id)
            known = current is not None
            now = pd.Timestamp(get_clock().local_now())
            if known and status(b.scorer.dataset, dispute_id, now)["closed"]:
                refused = ActionRefused(
                    label("closed_no_raise", "zh"), label("closed_no_raise", "en")
                )
                return await self.case(ctx, error=refused)
        else:
            current = None
            facts = await run_in_threadpool(dispute_facts, b.scorer.dataset, dispute_id)
            known = facts is not None
        if not known:
            message = label("not_found", ctx.lang) + f": {dispute_id}"
            return self.render(ctx, "error.html", status=404, message=message)
        try:
            action = check_action(kind, values, current)
            if kind == "assign":
                listed = await run_in_threadpool(self._assignable, b, facts)
                check_listed(action["assignee"], listed)
            done = await run_in_threadpool(
                record_action,
                b.store,
                self.settings,
                dispute_id,
                action,
                by=ctx.name,
                request_id=request_id_of(ctx.request.scope),
            )
        except ActionRefused as refused:
            # The kind comes from the URL and the tier from the form: the audit log's
            # columns take only the known values, whatever was sent.
            tier = values.get("tier")
            await run_in_threadpool(
                self.audit,
                ctx,
                f"ui:refused:{kind if kind in KINDS else 'unknown'}",
                dispute_id=dispute_id,
                tier=tier if tier in vocab.TIER_ORDER else None,
                detail=refused.en,
            )
            return await self.case(ctx, error=refused)
        ctx.flash(done)
        return self.finish(ctx, RedirectResponse(ctx.case_url(dispute_id), 303))

    def _assignable(self, b: Backend, facts: dict[str, Any] | None) -> list[str]:
        """Who a case may be assigned to: everyone on the roster serving its place."""
        if not facts:
            return []
        serving = b.store.roster().serving(facts["county"], facts["township"], facts["grid_id"])
        return [m.name for m in serving]

    def _current_tier(self, b: Backend, dispute_id: str) -> str | None:
        """The tier a raise must beat: model (live and last snapshot), earlier raises and
        the case's open warning."""
        found = tiers_of(b.store, b.scorer, dispute_id)
        return None if found is None else warned_tier(b.store, dispute_id, found[-1])

    async def failed(self, request: Request, exc: Exception) -> Response:
        """riskwarn's own errors as a page (or JSON on data routes) with their 4xx status."""
        assert isinstance(exc, RiskwarnError)
        ctx = self.context(request)
        status = exc.http_status_code()
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if request.url.path.startswith((request.scope.get("root_path") or "") + "/api/"):
            return self.finish(ctx, JSONResponse({"error": message}, status_code=status))
        return self.render(ctx, "error.html", status=status, message=message)

    # app --------------------------------------------------------------------------------

    def app(self) -> Starlette:
        g = self.guard
        routes = [
            Route("/", self.home, name="home"),
            Route("/signin", self.signin_form, methods=["GET"], name="signin"),
            Route("/signin", self.signin, methods=["POST"], name="signin_post"),
            Route("/signout", g(self.signout), methods=["POST"], name="signout"),
            Route("/queue", g(self.queue), name="queue"),
            Route("/case", g(self.case), name="case"),
            Route("/case/actions/{kind}", g(self.action), methods=["POST"], name="action"),
            Route("/model", g(self.model), name="model"),
            Route("/overview", g(self.overview), name="overview"),
            Route("/export/queue.xlsx", g(self.export_queue), name="export_queue"),
            Route("/export/overview.xlsx", g(self.export_overview), name="export_overview"),
            Route("/briefing", g(self.briefing), name="briefing"),
            Route("/briefing.pdf", g(self.briefing_pdf), name="briefing_pdf"),
            Route("/mediators", g(self.mediators), methods=["GET"], name="mediators"),
            Route("/mediators", g(self.mediators_change), methods=["POST"], name="mediators_post"),
            Route("/api/queue", g(self.queue_json, data=True), name="api_queue"),
            Route("/api/case", g(self.case_data, data=True), name="api_case"),
            *person_routes(self),
            *loop_routes(self),
            *records_routes(self),
            Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
        ]
        app = Starlette(routes=routes, exception_handlers={RiskwarnError: self.failed})
        self.router = app.router
        return app


def case_id(ctx: Ctx) -> str:
    """The dispute a case page, its data or an action is about: the ``id`` query parameter
    (any id the contract allows travels there encoded, slashes and dots included)."""
    return ctx.request.query_params.get("id", "")


def make_workbench(
    backend: Backend | Callable[[], Backend],
    *,
    secret: str | None = None,
    per_page: int = PER_PAGE,
) -> Starlette:
    """The supervisor workbench as an ASGI app, to mount under ``/ui``.

    ``backend`` is the service (anything with ``store`` and ``scorer``) or a function
    returning it at request time, e.g. ``bentoml.get_current_service``. ``secret`` signs
    session cookies; by default ``RISKWARN_SESSION_SECRET`` or a file in the state folder.
    ``per_page`` is the queue's page size.
    """
    return Workbench(backend, secret, per_page).app()
