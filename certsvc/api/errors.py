"""The API edge of the error hierarchy: which HTTP status each domain error answers with, and the
one body every error leaves as, ``{"error": {"code", "message", "field"?}}``."""

from __future__ import annotations

import logging
import math
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from certsvc import errors as e
from certsvc.api.client import client_address
from certsvc.inputs import error_location, escape_text

log = logging.getLogger("certsvc")

# Domain error class → HTTP status. Looked up along the class's MRO, so a subclass answers like its
# parent unless it is listed itself. A ServiceError with no entry (a blob store, backup or key
# failure) is our fault: it is logged and answered like any unexpected error.
HTTP_STATUS: dict[type[e.ServiceError], int] = {
    e.BadRequest: 400,
    e.Unauthorized: 401,
    e.Forbidden: 403,
    e.NotFound: 404,
    e.Conflict: 409,
    e.Gone: 410,
    e.TooLarge: 413,
    e.Invalid: 422,
    e.TooManyRequests: 429,
    e.Internal: 500,
    e.Unavailable: 503,
}


def http_status(exc: e.ServiceError) -> int | None:
    """The status ``exc`` answers with; None for errors that are not shown to the client."""
    for cls in type(exc).__mro__:
        status = HTTP_STATUS.get(cls)
        if status is not None:
            return status
    return None


def error_body(code: str, message: str, **extra: object) -> dict:
    """The one error body, ``{"error": {"code", "message", ...}}``, with any extra keys (``field``, ``fields``).

    Messages may echo input: lone surrogates and control characters in them are escaped, so that
    the answer can always be encoded."""
    return {"error": {"code": code, "message": escape_text(message), **{k: _escaped(v) for k, v in extra.items()}}}


def _escaped(value: object) -> object:
    if isinstance(value, str):
        return escape_text(value)
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    return value


def service_error_body(exc: e.ServiceError) -> dict:
    """A domain error as its body: its ``code`` and ``message``, and ``field`` when it names one."""
    extra = {"field": exc.field} if exc.field else {}
    return error_body(exc.code, exc.message, **extra)


def retry_after_header(exc: e.ServiceError) -> dict[str, str] | None:
    """``Retry-After`` for an error that says when to try again (a 429 of a limit, a 503 of a full queue)."""
    seconds = exc.retry_after
    return {"Retry-After": str(max(1, math.ceil(seconds)))} if seconds is not None else None


def _rfc6750_text(text: str) -> str:
    """``text`` in the characters an RFC 6750 ``error_description`` may hold (printable ASCII but ``"`` and ``\\``)."""
    kept = "".join(c for c in text if 0x20 <= ord(c) <= 0x7E and c not in '"\\')  # Chinese words drop out
    kept = re.sub(r"\(\s*[,;]?\s*", "(", " ".join(kept.split())).replace(" )", ")").replace("()", "")
    return " ".join(kept.split())[:300]


def www_authenticate(exc: e.Unauthorized) -> dict[str, str]:
    """The ``WWW-Authenticate`` challenge of a 401 (RFC 6750): the realm, and for a refused token
    ``error="invalid_token"`` with the reason."""
    value = 'Bearer realm="certsvc"'
    if exc.token_given:
        value += f', error="invalid_token", error_description="{_rfc6750_text(exc.message)}"'
    return {"WWW-Authenticate": value}


def _internal(exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return JSONResponse(error_body("internal", "internal error; it has been logged"), status_code=500)


def note_denial(request: Request, denial: e.Denial) -> None:
    """Count a refused attempt against the request's client address (written to the audit log by minute)."""
    ctx = request.app.state.ctx
    ctx.denials.add(denial, client_address(request, ctx.settings.trusted_proxies))


def install(app: FastAPI) -> None:
    """Register the handlers that make every error, expected or not, leave as the one error body."""

    @app.exception_handler(e.ServiceError)
    async def service_error(req: Request, exc: e.ServiceError) -> JSONResponse:
        if exc.denial is not None:
            note_denial(req, exc.denial)
        status = http_status(exc)
        if status is None:
            return _internal(exc)
        headers = retry_after_header(exc)
        if isinstance(exc, e.Unauthorized):
            headers = {**(headers or {}), **www_authenticate(exc)}
        return JSONResponse(service_error_body(exc), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_req: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            where = error_location(err)
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
        return _internal(exc)
