"""The control office: every case with filters, overdue and due-soon lists, CSV, statistics
(with their CSV and the share of answers rated helpful)."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response

from dialog_platform.calendar import local_date

from .. import workbench
from ..charts import share_chart, weekly_chart
from ..clients import KioskClient
from ..csvexport import cases_csv, stats_csv
from ..i18n import Translator
from ..models import Account
from .base import PREFIX, PageError, Web, lang_of
from .filters import read_filters

log = logging.getLogger(__name__)

PAGE = 50
EXPORT_PAGE = 200
EXPORT_MAX = 10_000
STATS_DEFAULT_DAYS = 84


def build_router(web: Web, kiosks: KioskClient | None = None) -> APIRouter:
    router = APIRouter(
        prefix=f"{PREFIX}/control", tags=["dashboard"], route_class=web.route_class()
    )
    dash = web.dashboard

    async def controller(request: Request) -> tuple[Any, Account]:
        session, account = await web.account(request)
        if not account.sees_all_cases:
            raise PageError(404, "not_found")
        return session, account

    async def directory() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """The officials, and their departments keyed by the Russian name routing filters on."""
        officials = await dash.routing.officials(active_only=False)
        departments = {
            str(o["department"]["ru"]): o["department"]
            for o in officials
            if isinstance(o.get("department"), dict) and o["department"].get("ru")
        }
        return officials, dict(sorted(departments.items()))

    @router.get("")
    async def cases(request: Request) -> Response:
        session, _ = await controller(request)
        filters = read_filters(request, allow_official=True)
        found = await dash.routing.cases(filters.query(limit=PAGE))
        files = await workbench.case_files(dash, [c["appeal_id"] for c in found["cases"]])
        officials, departments = await directory()
        return web.render(
            request,
            "control.html",
            session=session,
            filters=filters,
            cases=workbench.with_files(found["cases"], files),
            next=found.get("next"),
            topics=await workbench.topics(dash),
            officials=officials,
            departments=departments,
            names={o["id"]: o["full_name"] for o in officials},
            show_official=True,
        )

    @router.get("/export.csv")
    async def export(request: Request) -> Response:
        await controller(request)
        filters = read_filters(request, allow_official=True)
        rows: list[dict[str, Any]] = []
        after: str | None = None
        while len(rows) < EXPORT_MAX:
            query = filters.query(after=after, limit=EXPORT_PAGE)
            page = await dash.routing.cases(query)
            rows.extend(page["cases"])
            after = page.get("next")
            if not after or not page["cases"]:
                break
        topics = {x["_id"]: x for x in await workbench.topics(dash)}
        body = cases_csv(rows[:EXPORT_MAX], Translator(lang_of(request)), topics)
        stamp = local_date(dash.clock()).isoformat()
        return Response(
            body.encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="cases-{stamp}.csv"',
                "Cache-Control": "no-store",
            },
        )

    async def figures(request: Request) -> tuple[str, str, str, dict[str, Any]]:
        """The range and department asked for, and routing's figures for them."""
        q = request.query_params
        # Almaty's date, as routing counts: after 19:00 UTC it is already tomorrow there.
        today = local_date(dash.clock())
        try:
            until = date.fromisoformat(q["to"]) if q.get("to") else today
        except ValueError as exc:
            raise PageError(422, "date_invalid", field="to") from exc
        try:
            since = (
                date.fromisoformat(q["from"])
                if q.get("from")
                else until - timedelta(days=STATS_DEFAULT_DAYS)
            )
        except ValueError as exc:
            raise PageError(422, "date_invalid", field="from") from exc
        if since > until:
            raise PageError(422, "date_range_invalid", field="from")
        department = q.get("department", "")[:200]
        found = await dash.routing.stats(
            **{"from": since.isoformat(), "to": until.isoformat(), "department": department}
        )
        return since.isoformat(), until.isoformat(), department, found

    @router.get("/stats")
    async def stats(request: Request) -> Response:
        session, _ = await controller(request)
        since, until, department, found = await figures(request)
        officials, departments = await directory()
        names = {o["id"]: o["full_name"] for o in officials}
        t = Translator(lang_of(request))
        chart = weekly_chart(
            found.get("weekly", []),
            received=t("stats.received"),
            answered=t("stats.answered"),
            title=t("stats.chart_title"),
        )
        reference_counts = None
        if kiosks is not None:
            try:
                reference_counts = await kiosks.reference_stats()
            except Exception:  # the other figures show; the page says these are missing
                log.warning("reference desk counts unavailable")
        helpful_chart = share_chart(
            [
                (t.pick(names.get(r["official_id"])) or r["official_id"], r.get("share_helpful"),
                 r.get("rated", 0))
                for r in found.get("officials", [])
            ],
            title=t("stats.helpful_chart_title"),
        )  # fmt: skip
        return web.render(
            request,
            "stats.html",
            reference=reference_counts,
            session=session,
            stats=found,
            chart=chart,
            helpful_chart=helpful_chart,
            since=since,
            until=until,
            department=department,
            departments=departments,
            names=names,
            topic_names={x["_id"]: x for x in await workbench.topics(dash)},
        )

    @router.get("/stats.csv")
    async def stats_export(request: Request) -> Response:
        await controller(request)
        since, until, _, found = await figures(request)
        officials, departments = await directory()
        names = {o["id"]: o["full_name"] for o in officials}
        t = Translator(lang_of(request))
        rows = [
            ("official", t.pick(names.get(r["official_id"])) or r["official_id"], r)
            for r in found.get("officials", [])
        ] + [
            ("department", t.pick(departments.get(r["department"])) or r["department"] or "—", r)
            for r in found.get("departments", [])
        ]
        return Response(
            stats_csv(rows, t).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="stats-{since}-{until}.csv"',
                "Cache-Control": "no-store",
            },
        )

    return router
