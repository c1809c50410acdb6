"""The person report as a printable Chinese page (``/ui/person?id=P17``): admin only,
audited. The data and its audit row come from :mod:`riskwarn.serving._report`, the same as
``GET /v1/records/person/{id}``; this module only adds the route and renders the template
``person.html`` (self-contained, with print styles, so it prints as it shows)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.routing import Route

from riskwarn.serving._http import request_id_of
from riskwarn.serving._report import TABLE_ZH, audited_report, label_zh

if TYPE_CHECKING:
    from ._app import Workbench
    from ._web import Ctx

ADMIN = "admin"


def person_routes(workbench: Workbench) -> list[Route]:
    """The report page's route, guarded like every page (signed in), then admin only."""

    async def person(ctx: Ctx) -> Response:
        person_id = ctx.request.query_params.get("id", "")
        if ctx.role != ADMIN:
            await run_in_threadpool(
                workbench.audit, ctx, "ui:refused:unknown", detail="person report: not admin"
            )
            message = (
                "个人报告仅限管理员导出。"
                if ctx.lang == "zh"
                else "the person report is for admin keys only"
            )
            return workbench.render(ctx, "error.html", status=403, message=message)
        report = await run_in_threadpool(
            audited_report,
            ctx.backend,
            person_id,
            ctx.name or "-",
            request_id_of(ctx.request.scope),
        )
        return workbench.render(ctx, "person.html", r=report, table_zh=TABLE_ZH, zh=label_zh)

    return [Route("/person", workbench.guard(person), name="person")]
