"""``/openapi.json`` as the service answers: every request validation failure leaves as
:class:`~certsvc.api.models.ErrorBody` (see :mod:`certsvc.api.errors`), not as FastAPI's default
``HTTPValidationError``, so the 422 FastAPI adds on its own is documented with that body too."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

_DEFAULT_422 = "#/components/schemas/HTTPValidationError"
_ERROR_BODY = "#/components/schemas/ErrorBody"


def _use_error_body(schema: dict[str, Any]) -> dict[str, Any]:
    for path_item in schema.get("paths", {}).values():
        for op in path_item.values():
            content = op.get("responses", {}).get("422", {}).get("content", {}).get("application/json", {})
            if content.get("schema", {}).get("$ref") == _DEFAULT_422:
                content["schema"] = {"$ref": _ERROR_BODY}
                op["responses"]["422"]["description"] = "A value is invalid; `field` names it"
    components = schema.get("components", {}).get("schemas", {})
    if "ErrorBody" in components:
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
    return schema


def install(app: FastAPI) -> None:
    """Serve ``/openapi.json`` with FastAPI's own 422 documented as :class:`ErrorBody`; built once, then kept."""
    default = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _use_error_body(default())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
