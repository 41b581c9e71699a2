"""Declares dashboard to the runner. The officials' web app is the case-handling issue (#4)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from dialog_platform.component import Component, Context, Running

PAGE = """<!doctype html><html lang="kk"><head><meta charset="utf-8"><title>Диалог</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>Диалог — лауазымды тұлғалар кабинеті / кабинет должностных лиц</h1>
<p>Кабинет әлі дайын емес. / Кабинет ещё не готов.</p></body></html>"""


async def build(ctx: Context) -> Running:
    router = APIRouter(prefix="/dashboard", tags=["dashboard"])

    @router.get("/", response_class=HTMLResponse)
    async def index() -> str:
        return PAGE

    return Running(routers=[router])


component = Component(
    name="dashboard",
    description="the officials' web app (not built yet: issue #4)",
    build=build,
)
