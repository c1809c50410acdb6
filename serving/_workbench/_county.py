"""The county's pages: the overview, Excel exports, the monthly briefing and the mediators
list. A mixin of the :class:`~._app.Workbench`, sharing its plumbing (render, audit, form).

Every export (Excel or PDF) writes an audit entry naming the key, what was exported and
with which filters.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from riskwarn import vocab
from riskwarn.clock import get_clock
from riskwarn.loop import MEMBER_ROLES, Member
from riskwarn.serving._http import request_id_of
from riskwarn.serving._queue import QueueFilter
from riskwarn.serving._warnings import first_error
from riskwarn.vocab import OWNER_LEVELS, TIERS

from ._briefing import briefing, briefing_pdf, briefing_title, summary_lines
from ._charts import tier_trend
from ._exports import XLSX, overview_xlsx, queue_xlsx
from ._i18n import label
from ._loop import warning_overview
from ._overview import OVERDUE_HOURS, RUNS, WARNED, overview
from ._web import Ctx

EXPORT_ROWS = 100_000
BRIEFING_RUNS = 400


def _attachment(body: bytes, media: str, filename: str) -> Response:
    quoted = urllib.parse.quote(filename)
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quoted}"},
    )


class CountyPages:
    """Handlers for /overview, /export/*, /briefing and /mediators."""

    render: Any
    audit: Any
    form: Any
    finish: Any

    # values ---------------------------------------------------------------------------

    def _overview(self, ctx: Ctx, township: str | None) -> dict[str, Any]:
        store = ctx.backend.store
        cases = store.latest_cases()
        history = store.tier_history(RUNS)
        now = get_clock().utc_now()
        ov = overview(cases, history, ctx.backend.scorer.dataset, township, now)
        held = [w for w in store.open_warnings().values() if not township or w.township == township]
        ov["warnings"] = warning_overview(held, now, township)
        ov["open_warnings"] = sorted(
            held, key=lambda w: (TIERS.index(w.tier), w.due_at is None, w.due_at or now)
        )
        return ov

    def _briefing(self, ctx: Ctx, township: str | None, month: str | None) -> dict[str, Any]:
        b = ctx.backend
        meta = b.scorer.model.metadata
        cal = meta.calibration
        return briefing(
            b.store.latest_cases(),
            b.store.tier_history(BRIEFING_RUNS),
            b.store.actions_for(),
            b.scorer.dataset,
            township,
            month,
            get_clock().utc_now(),
            calibration_points=cal.test_points or cal.validation_points,
            horizon_days=meta.horizon_days or 90,
        )

    def _export_audit(self, ctx: Ctx, what: str, filters: dict[str, str]) -> None:
        shown = ",".join(f"{k}={v}" for k, v in sorted(filters.items())) or "none"
        self.audit(ctx, f"export:{what}", detail=f"filters {shown}")

    # pages ----------------------------------------------------------------------------

    async def overview(self, ctx: Ctx) -> Response:
        township = ctx.request.query_params.get("township") or None
        heat_by = "rate" if ctx.request.query_params.get("heat") == "rate" else "count"
        ov = await run_in_threadpool(self._overview, ctx, township)
        words = {t: vocab.label("tier", t, ctx.lang) for t in TIERS}
        words["cases"] = label("cases", ctx.lang)
        chart = tier_trend(
            [(f"{at:%m-%d}", c) for at, c in ov["trend"]], words, label("trend", ctx.lang)
        )
        return self.render(
            ctx,
            "overview.html",
            ov=ov,
            chart=chart,
            heat_by=heat_by,
            TIERS=TIERS,
            WARNED=WARNED,
            OVERDUE_HOURS=OVERDUE_HOURS,
        )

    async def export_queue(self, ctx: Ctx) -> Response:
        f = QueueFilter.from_params(ctx.request.query_params)
        page = await run_in_threadpool(ctx.backend.store.queue, f, EXPORT_ROWS)
        filters = f.params(page=1)
        body = await run_in_threadpool(
            queue_xlsx, page.rows, filters, page.as_of, ctx.lang, ctx.name
        )
        await run_in_threadpool(self._export_audit, ctx, "queue.xlsx", filters)
        stamp = f"{page.as_of:%Y%m%d}" if page.as_of else "empty"
        return self.finish(ctx, _attachment(body, XLSX, f"riskwarn-queue-{stamp}.xlsx"))

    async def export_overview(self, ctx: Ctx) -> Response:
        township = ctx.request.query_params.get("township") or None
        ov = await run_in_threadpool(self._overview, ctx, township)
        body = await run_in_threadpool(overview_xlsx, ov, ctx.lang, ctx.name)
        filters = {"township": township} if township else {}
        await run_in_threadpool(self._export_audit, ctx, "overview.xlsx", filters)
        stamp = f"{ov['as_of']:%Y%m%d}" if ov["as_of"] else "empty"
        return self.finish(ctx, _attachment(body, XLSX, f"riskwarn-overview-{stamp}.xlsx"))

    async def briefing(self, ctx: Ctx) -> Response:
        params = ctx.request.query_params
        township, month = params.get("township") or None, params.get("month") or None
        b = await run_in_threadpool(self._briefing, ctx, township, month)
        filters = {k: v for k, v in (("township", township), ("month", b["month"])) if v}
        await run_in_threadpool(self._export_audit, ctx, "briefing", filters)
        return self.render(
            ctx,
            "briefing.html",
            b=b,
            title=briefing_title(b, ctx.lang),
            lines=summary_lines(b, ctx.lang),
            TIERS=TIERS,
            filters=filters,
        )

    async def briefing_pdf(self, ctx: Ctx) -> Response:
        params = ctx.request.query_params
        township, month = params.get("township") or None, params.get("month") or None
        b = await run_in_threadpool(self._briefing, ctx, township, month)
        body = await run_in_threadpool(briefing_pdf, b, ctx.lang)
        filters = {k: v for k, v in (("township", township), ("month", b["month"])) if v}
        await run_in_threadpool(self._export_audit, ctx, "briefing.pdf", filters)
        name = f"riskwarn-briefing-{township or 'county'}-{b['month']}.pdf"
        return self.finish(ctx, _attachment(body, "application/pdf", name))

    async def mediators(self, ctx: Ctx, error: str | None = None) -> Response:
        """The one list of people (the roster): warnings are routed to it, cases assigned
        from it."""
        listed = await run_in_threadpool(ctx.backend.store.members)
        ds = ctx.backend.scorer.dataset
        towns = sorted({str(t) for t in ds.grids["township"].dropna()})
        grids = sorted(str(g) for g in ds.grids["grid_id"])
        return self.render(
            ctx,
            "mediators.html",
            status=400 if error else 200,
            listed=listed,
            towns=towns,
            grids=grids,
            roles=MEMBER_ROLES,
            levels=OWNER_LEVELS,
            error=error,
        )

    async def mediators_change(self, ctx: Ctx) -> Response:
        values = await self.form(ctx)
        if isinstance(values, Response):
            return values
        if ctx.role != "admin":
            return self.render(
                ctx, "error.html", status=403, message=label("admins_only", ctx.lang)
            )
        store, rid = ctx.backend.store, request_id_of(ctx.request.scope)
        if values.get("remove"):
            try:
                member_id = int(values["remove"])
            except ValueError:
                member_id = -1
            await run_in_threadpool(store.remove_member, member_id, by=ctx.name, request_id=rid)
            ctx.flash("done_mediator_remove")
        else:
            level = values.get("level") or "township"
            fields = {
                "name": values.get("name", "").strip(),
                "role": values.get("role") or "mediator",
                "level": level,
                "county": values.get("county", "").strip() or None,
                "township": (values.get("township") or None) if level != "county" else None,
                "grid": (values.get("grid") or None) if level == "grid" else None,
            }
            try:
                member = Member(**fields)
            except ValidationError as exc:
                return await self.mediators(ctx, error=first_error(exc))
            await run_in_threadpool(store.add_member, member, by=ctx.name, request_id=rid)
            ctx.flash("done_mediator_add")
        return self.finish(ctx, RedirectResponse(ctx.url("mediators"), 303))
