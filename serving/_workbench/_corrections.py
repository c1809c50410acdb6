"""People's data rights in the workbench: the note on a case page that its score was
recomputed after a correction or an expiry, and the admin's records view (``/ui/records``).

The records view finds a record (table and key), shows its current row and its history
(every superseded version with who, when and why), takes a correction and lists what
``riskwarn records expire`` would remove today. A correction goes through
:func:`~riskwarn.serving._lineage.correct_on_service`, the owner the admin API uses (checked
by the contract rules like ingest, refused whole with the located error, recomputing the
scores the record influenced); only admin keys see the view, and its form carries the
session's CSRF token like every workbench form.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from riskwarn import expiry, load_retention, vocab
from riskwarn._contract import TABLES
from riskwarn.clock import get_clock
from riskwarn.errors import ContractError, RiskwarnError
from riskwarn.serving import _rights
from riskwarn.serving._http import issue_dicts, request_id_of
from riskwarn.serving._lineage import CorrectionRequest, correct_on_service, correction_of
from riskwarn.serving._store import Store

from ._actions import ActionRefused

if TYPE_CHECKING:
    from ._app import Workbench
    from ._web import Backend, Ctx

ADMIN = "admin"

TABLE_WORDS: dict[str, tuple[str, str]] = {
    "persons": ("人员基本信息", "people"),
    "grids": ("网格", "grids"),
    "person_flags": ("重点人群记录", "special-population records"),
    "relationships": ("社会关系", "relationships"),
    "disputes": ("纠纷", "disputes"),
    "dispute_parties": ("纠纷当事人", "dispute parties"),
    "dispute_events": ("纠纷事件", "dispute events"),
    "petitions": ("信访记录", "petitions"),
    "incidents": ("极端事件", "incidents"),
    "incident_persons": ("极端事件涉及人员", "people in incidents"),
    "interventions": ("处置记录", "interventions"),
}
"""Each contract table as a supervisor names it, Chinese first."""

KIND_VOCABULARIES = {
    "disputes": "category",
    "person_flags": "flag",
    "relationships": "tie_kind",
    "petitions": "petition_level",
    "incidents": "incident_kind",
}
"""The vocabulary of the kind a table's retention term depends on."""


def table_label(table: str, lang: str) -> str:
    zh, en = TABLE_WORDS.get(table, (table, table))
    return zh if lang == "zh" else en


# the case page's note ---------------------------------------------------------------------


def recomputed_notes(store: Store, snapshots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One note per stored score that was recomputed after a correction or an expiry,
    newest first: when, which record and correction (who and why), the score before and
    after. ``snapshots``: the case's stored scores, oldest first."""
    notes: list[dict[str, Any]] = []
    chains: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for i, snap in enumerate(snapshots):
        reason = snap.get("recomputed_reason")
        if not reason:
            continue
        before = snapshots[i - 1] if i else None
        note: dict[str, Any] = {
            "at": snap.get("scored_at"),
            "kind": "expiry",
            "risk_before": before["risk"] if before else None,
            "tier_before": before["tier"] if before else None,
            "risk": snap["risk"],
            "tier": snap["tier"],
            "reason": reason,
        }
        found = correction_of(reason)
        if found is not None:
            number, table, key = found
            if (table, key) not in chains:
                chains[table, key] = store.record_versions(table, key)
            version = next((v for v in chains[table, key] if v["id"] == number), None)
            note |= {
                "kind": "correction",
                "number": number,
                "table": table,
                "key": key,
                "why": version["reason"] if version else None,
                "by": version["key_name"] if version else None,
                "columns": changed_columns(version) if version else [],
            }
        notes.append(note)
    return notes[::-1]


def changed_columns(version: dict[str, Any]) -> list[str]:
    """The columns a correction changed (from its old and new rows)."""
    old = json.loads(version.get("old_row") or "{}")
    new = json.loads(version.get("new_row") or "{}")
    return sorted(c for c in set(old) | set(new) if old.get(c) != new.get(c))


# the records view ---------------------------------------------------------------------------


def record_view(store: Store, table: str, key: str) -> dict[str, Any]:
    """A record's current row(s) (as contract text, per column) and its versions."""
    t = _rights.table_of(table)
    rows = store.find_records(table, key)
    versions = [
        {**v, "columns": changed_columns(v), "old": json.loads(v["old_row"] or "{}")}
        for v in store.record_versions(table, key)
    ]
    return {
        "table": table,
        "key": key,
        "key_columns": list(_rights.key_columns(table)),
        "rows": [
            [
                {
                    "name": c.name,
                    "type": c.type,
                    "id": c.unique,
                    "text": _rights._text(row.get(c.name), c.type),
                }
                for c in t.columns
            ]
            for row in rows
        ],
        "versions": versions[::-1],
    }


def expiry_view(backend: Backend) -> dict[str, Any]:
    """What ``riskwarn records expire`` would remove now under the default policy, by table
    and kind, read from the history the service holds (a dry run: nothing is written)."""
    policy = load_retention()
    now = pd.Timestamp(get_clock().local_now())
    expired = expiry(backend.scorer.dataset, policy).rows(now)
    return {"at": now, "digest": policy.digest(), "lines": _rights.expiry_listing(expired)}


def kind_label(table: str, kind: str | None, lang: str) -> str:
    if kind is None:
        return "—"
    words = KIND_VOCABULARIES.get(table)
    return vocab.label(words, kind, lang) if words else kind


def changes_of(values: dict[str, str]) -> dict[str, str]:
    """The columns the form changed: ``set:COLUMN`` fields whose value differs from the
    ``was:COLUMN`` shown with it (the admin edits what they saw, not what is stored since)."""
    out = {}
    for field, value in values.items():
        if field.startswith("set:"):
            column = field.removeprefix("set:")
            if value.strip() != values.get(f"was:{column}", "").strip():
                out[column] = value.strip()
    return out


def records_routes(workbench: Workbench) -> list[Route]:
    """``GET /records`` (find a record, its history, the expiry dry run) and ``POST
    /records/correct``, guarded like every page (signed in), then admin only."""

    async def refused(ctx: Ctx) -> Response:
        await run_in_threadpool(
            workbench.audit, ctx, "ui:refused:unknown", detail="records view: not admin"
        )
        message = (
            "记录更正仅限管理员使用。" if ctx.lang == "zh" else "records are for admin keys only"
        )
        return workbench.render(ctx, "error.html", status=403, message=message)

    def page_values(
        ctx: Ctx, table: str, key: str
    ) -> tuple[dict[str, Any] | None, dict[str, Any], str | None]:
        found, problem = None, None
        if table and key:
            try:
                found = record_view(ctx.backend.store, table, key)
            except RiskwarnError as exc:
                problem = str(exc)
        return found, expiry_view(ctx.backend), problem

    def render(ctx: Ctx, table: str, key: str, status: int = 200, **extra: Any) -> Response:
        found, expired, problem = extra.pop("values")
        return workbench.render(
            ctx,
            "records.html",
            status=status,
            tables=[x.name for x in TABLES],
            table=table,
            key=key,
            record=found,
            problem=problem,
            expired=expired,
            table_label=lambda name: table_label(name, ctx.lang),
            kind_label=lambda name, kind: kind_label(name, kind, ctx.lang),
            **extra,
        )

    async def records(ctx: Ctx) -> Response:
        if ctx.role != ADMIN:
            return await refused(ctx)
        q = ctx.request.query_params
        table, key = q.get("table", ""), q.get("id", "")
        values = await run_in_threadpool(page_values, ctx, table, key)
        done = q.get("done")
        return render(
            ctx,
            table,
            key,
            values=values,
            done=int(done) if done and done.isdigit() else None,
            recomputed=q.get("recomputed"),
        )

    async def correct(ctx: Ctx) -> Response:
        if ctx.role != ADMIN:
            return await refused(ctx)
        values = await workbench.form(ctx)
        if isinstance(values, Response):
            return values
        table, key = values.get("table", ""), values.get("key", "")
        changes = changes_of(values)
        reason = values.get("reason", "").strip()
        try:
            if not reason:
                raise ActionRefused(
                    "请写明更正原因（与被替代的记录一并保存）。",
                    "reason: expected why the record is corrected (kept with the superseded "
                    "record), got nothing",
                    status=400,
                )
            if not changes:
                raise ActionRefused(
                    "没有修改任何字段：请先改动要更正的字段。",
                    "nothing to correct: change at least one field first",
                    status=400,
                )
            try:
                request = CorrectionRequest(table=table, key=key, set=changes, reason=reason)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise ActionRefused(
                    f"{where}：{first['msg']}", f"{where}: {first['msg']}", status=400
                ) from exc
            answer = await run_in_threadpool(
                correct_on_service,
                ctx.backend,
                request,
                ctx.name or "-",
                request_id_of(ctx.request.scope),
            )
        except RiskwarnError as exc:
            found = await run_in_threadpool(page_values, ctx, table, key)
            issues = issue_dicts(exc) if isinstance(exc, ContractError) else []
            text = exc.text(ctx.lang) if isinstance(exc, ActionRefused) else str(exc)
            return render(
                ctx,
                table,
                key,
                status=exc.http_status_code(),
                values=found,
                error=text,
                issues=issues,
                sent=changes,
                reason=reason,
            )
        query = {
            "table": table,
            "id": answer.new_key,
            "done": str(answer.version),
            "recomputed": str(len(answer.recomputed)),
        }
        target = ctx.url("records") + "?" + urllib.parse.urlencode(query)
        return workbench.finish(ctx, RedirectResponse(target, 303))

    g = workbench.guard
    return [
        Route("/records", g(records), methods=["GET"], name="records"),
        Route("/records/correct", g(correct), methods=["POST"], name="records_correct"),
    ]
