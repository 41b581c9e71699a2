"""One error shape for every API, with the message in both state languages.

    {"error": {"code": "unknown_official", "field": "official_id",
               "message": {"kk": "…", "ru": "…"}}}

The booth shows `message[language]` next to `field`; programs switch on `code`.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

GENERIC: dict[str, tuple[str, str]] = {
    "invalid": ("Деректер қате толтырылған", "Данные заполнены неверно"),
    "missing": ("Бұл өрісті толтырыңыз", "Заполните это поле"),
    "not_found": ("Табылмады", "Не найдено"),
    "unauthorized": ("Кіру рұқсаты жоқ", "Нет доступа"),
    "forbidden": ("Рұқсат жоқ", "Доступ запрещён"),
    "method_not_allowed": ("Бұл әрекетке рұқсат жоқ", "Это действие не поддерживается"),
    "body_too_large": ("Сұрау тым үлкен", "Запрос слишком большой"),
    "too_many_requests": (
        "Тым көп әрекет. Біраз күтіп, қайталаңыз",
        "Слишком много попыток. Подождите и повторите",
    ),
    "internal": (
        "Жүйеде қате шықты. Операторға хабарласыңыз",
        "Произошла ошибка системы. Обратитесь к оператору",
    ),
    "unavailable": (
        "Қызмет уақытша қолжетімсіз. Біраз күтіп, қайталаңыз",
        "Сервис временно недоступен. Подождите и повторите",
    ),
}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        kk: str | None = None,
        ru: str | None = None,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if kk is None or ru is None:
            kk, ru = GENERIC.get(code, GENERIC["invalid"])
        super().__init__(f"{status} {code}: {ru}")
        self.status = status
        self.code = code
        self.kk = kk
        self.ru = ru
        self.field = field
        self.headers = headers

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": {"kk": self.kk, "ru": self.ru}}
        if self.field:
            error["field"] = self.field
        return {"error": error}


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        code = "missing" if first.get("type") == "missing" else "invalid"
        kk, ru = GENERIC[code]
        body = ApiError(422, code, kk, ru, field=_field_of(first.get("loc", ()))).body()
        body["error"]["details"] = [
            {"field": _field_of(e.get("loc", ())), "type": e.get("type"), "detail": e.get("msg")}
            for e in errors
        ]
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            413: "body_too_large",
            429: "too_many_requests",
        }.get(exc.status_code, "invalid")
        return error_response(
            ApiError(exc.status_code, code, headers=getattr(exc, "headers", None))
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return error_response(ApiError(500, "internal"))


class DialogApp(FastAPI):
    """FastAPI, with its body limit's own answer in our two languages.

    When a body's declared length is already over the limit, Starlette's limiter answers
    "Content Too Large" in English plain text from outside the app's exception handlers (it
    even replaces the handler's answer), so it is rewritten here, right inside the outermost
    ServerErrorMiddleware: OpenTelemetry's FastAPI instrumentation takes the stack apart there
    and skips a stack whose outermost layer is anything else.
    """

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        if isinstance(stack, ServerErrorMiddleware):
            stack.app = _TooLargeInBothLanguages(stack.app)
            return stack
        return _TooLargeInBothLanguages(stack)


class _TooLargeInBothLanguages:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replaced = False

        async def answer(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] == 413:
                kind = Headers(raw=message.get("headers", [])).get("content-type", "")
                if kind.startswith("text/plain"):
                    replaced = True
                    ours = error_response(ApiError(413, "body_too_large"))
                    await send(
                        {"type": "http.response.start", "status": 413, "headers": ours.raw_headers}
                    )
                    await send({"type": "http.response.body", "body": ours.body})
                    return
            if not replaced:
                await send(message)

        await self.app(scope, receive, answer)
