"""Every service-to-service call tells a passing outage from a refusal the same way."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from dialog_platform.clients import Refused, ServiceApi, Unavailable
from dialog_platform.faults import is_transient
from dialog_platform.internal import HEADER
from dialog_platform.net import free_port
from dialog_platform.settings import CommonSettings

SETTINGS = CommonSettings()


def other_service() -> FastAPI:
    app = FastAPI()

    @app.get("/ok")
    async def ok(request: Request) -> dict[str, bool]:
        return {"token": bool(request.headers.get(HEADER))}

    @app.get("/refused")
    async def refused() -> JSONResponse:
        error = {"code": "reason_required", "message": {"kk": "Себеп", "ru": "Причина"}}
        return JSONResponse({"error": {**error, "field": "reason"}}, status_code=422)

    @app.get("/down")
    async def down() -> JSONResponse:
        return JSONResponse({"error": {"code": "db"}}, status_code=503)

    return app


async def test_an_answer_a_refusal_and_an_outage_are_told_apart() -> None:
    transport = httpx.ASGITransport(app=other_service())
    async with httpx.AsyncClient(transport=transport) as http:
        api = ServiceApi(http, "http://other", SETTINGS)
        assert await api.json("GET", "/ok") == {"token": True}
        with pytest.raises(Refused) as refused:
            await api.json("GET", "/refused")
        assert (refused.value.status, refused.value.code, refused.value.field) == (
            422,
            "reason_required",
            "reason",
        )
        assert refused.value.message["kk"] == "Себеп"
        assert not is_transient(refused.value)
        with pytest.raises(Unavailable) as down:
            await api.json("GET", "/down")
        assert is_transient(down.value)  # a handler waits it out instead of dead-lettering
        assert await api.optional("/down") is None and await api.optional("/refused") is None


async def test_an_unreachable_or_unconfigured_service_is_unavailable() -> None:
    async with httpx.AsyncClient() as http:
        unreachable = ServiceApi(http, f"http://127.0.0.1:{free_port()}", SETTINGS)
        with pytest.raises(Unavailable):
            await unreachable.json("GET", "/ok")
        assert await ServiceApi(http, None, SETTINGS).optional("/ok") is None
        with pytest.raises(Unavailable):
            await ServiceApi(http, "", SETTINGS).call("GET", "/ok")
