"""Every error leaves as ``{"error": {"code", "message"}}`` with a fitting status."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from certsvc.errors import ServiceError

log = logging.getLogger("certsvc")


def error_body(code: str, message: str, **extra: object) -> dict:
    return {"error": {"code": code, "message": message, **extra}}


def _loc(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def service_error(_req: Request, exc: ServiceError) -> JSONResponse:
        extra = {"field": exc.field} if exc.field else {}
        return JSONResponse(error_body(exc.code, exc.message, **extra), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_req: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            where = _loc(tuple(err.get("loc", ())))
            msg = err.get("msg", "invalid")
            if err.get("type") == "json_invalid":
                where, msg = "body", "not valid JSON"
            problems.append({"field": where, "message": msg})
        message = "; ".join(f"{p['field']}: {p['message']}" for p in problems) or "invalid request"
        first = problems[0]["field"] if problems else None
        return JSONResponse(error_body("invalid", message, field=first, fields=problems), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}
        return JSONResponse(
            error_body(codes.get(exc.status_code, "error"), str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def unexpected(_req: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse(error_body("internal", "internal error; it has been logged"), status_code=500)
