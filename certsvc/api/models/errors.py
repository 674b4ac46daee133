"""The error body every error leaves as, and ``responses=`` helpers for the routes."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from certsvc.api.models.base import Out


class FieldProblem(Out):
    """One invalid value of a request: the field, and what is wrong with it."""

    field: str
    message: str


class ErrorDetail(Out):
    """What went wrong: a stable ``code`` to act on, a ``message`` for a person, the ``field`` at fault."""

    code: str = Field(description="stable machine code: invalid, not_found, conflict, unauthorized, …")
    message: str = Field(description="what went wrong, for a person")
    field: str | None = Field(default=None, description="the request field at fault, if one is")
    fields: list[FieldProblem] | None = Field(default=None, description="every problem (request validation)")


class ErrorBody(Out):
    """Every error: ``{"error": {"code", "message", "field"?}}``."""

    error: ErrorDetail


class LinkErrorBody(ErrorBody):
    """A public link (QR code, share link) that leads nowhere: the error, and what the link is."""

    genuine: bool | None = Field(default=None, description="false: not a licence or receipt of this service")
    state: str | None = Field(default=None, description="share links: unknown, revoked, expired or exhausted")


ERROR_MEANINGS = {
    400: "The request is missing something it needs",
    401: "No credentials, or credentials that are not (or no longer) valid",
    403: "Known, but not allowed to do this (a suspended enterprise, not a credit department)",
    404: "No such thing, or not yours",
    409: "The request contradicts the current state",
    410: "The link or grant has ended",
    413: "The body or upload is too large",
    422: "A value is invalid; `field` names it",
    429: "Too many attempts or uploads from one caller; try again after `Retry-After` seconds",
    503: "Busy; try again after `Retry-After` seconds",
}


def error_responses(*statuses: int, model: type[ErrorBody] = ErrorBody) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for the error statuses a route really answers with, all as :class:`ErrorBody`."""
    return {status: {"model": model, "description": ERROR_MEANINGS[status]} for status in statuses}


def media(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a 200 that is not JSON (a PDF, a PNG, a page)."""
    schema = {"type": "string", "format": "binary"} if not media_type.startswith("text/") else {"type": "string"}
    return {200: {"description": description, "content": {media_type: {"schema": schema}}}}
