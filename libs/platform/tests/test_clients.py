"""Every service-to-service call tells a passing outage from a refusal the same way."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from dialog_platform.clients import MediaClient, Refused, ServiceApi, Unavailable
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


def media_store() -> FastAPI:
    app = FastAPI()
    stored: dict[str, bytes] = {}

    @app.put("/api/v1/media/objects/{key:path}")
    async def put(key: str, request: Request) -> JSONResponse:
        body = b"".join([chunk async for chunk in request.stream()])
        if not body.startswith(b"\x1a\x45\xdf\xa3"):
            return JSONResponse({"error": {"code": "video_not_webm"}}, status_code=415)
        stored[key] = body
        return JSONResponse({"size": len(body)}, status_code=201)

    @app.get("/api/v1/media/objects/{key:path}/url")
    async def url(key: str) -> JSONResponse:
        if key == "down":
            return JSONResponse({"error": {"code": "storage"}}, status_code=503)
        if key not in stored:
            return JSONResponse({"error": {"code": "not_found"}}, status_code=404)
        return JSONResponse({"url": f"/play/{key}"})

    @app.get("/play/{key:path}")
    async def play(key: str) -> Response:
        return Response(stored[key], media_type="video/webm")

    return app


async def test_media_streams_a_video_in_and_out_and_tells_a_refusal_from_an_outage() -> None:
    transport = httpx.ASGITransport(app=media_store())
    async with httpx.AsyncClient(transport=transport) as http:
        media = MediaClient(http, "http://media-store", SETTINGS)

        async def parts(*chunks: bytes) -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk

        webm = b"\x1a\x45\xdf\xa3" + b"v" * 1000
        assert await media.put_video("appeals/a/1.webm", parts(webm[:10], webm[10:])) == {
            "size": len(webm)
        }
        with pytest.raises(Refused) as refused:
            await media.put_video("appeals/a/2.webm", parts(b"not a video"))
        assert (refused.value.status, refused.value.code) == (415, "video_not_webm")

        assert await media.playback_url("appeals/a/1.webm") == "/play/appeals/a/1.webm"
        assert b"".join([c async for c in media.chunks("appeals/a/1.webm")]) == webm
        assert await media.playback_url("appeals/a/2.webm") is None
        with pytest.raises(Unavailable):
            await media.playback_url("down")
        await media.delete("appeals/a/1.webm")  # no such route here: a refusal, swallowed
