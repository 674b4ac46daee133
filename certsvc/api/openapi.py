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


def _add_links(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI links from each ``POST <collection>`` that creates something (201 with an ``id``) to
    the operations on ``<collection>/{x_id}…``: clients and fuzzers learn where the new id goes."""
    paths: dict[str, dict[str, Any]] = schema.get("paths", {})
    for collection, item in paths.items():
        created = item.get("post", {}).get("responses", {}).get("201")
        if created is None:
            continue
        links: dict[str, Any] = {}
        for path, target in paths.items():
            rest = path[len(collection) :]
            if not path.startswith(collection + "/{") or "}" not in rest:
                continue
            param = rest[2 : rest.index("}")]
            if rest.count("{") != 1 or not param.endswith("_id"):
                continue
            for method, op in target.items():
                if method in ("get", "post", "delete") and "operationId" in op:
                    links[op["operationId"]] = {
                        "operationId": op["operationId"],
                        "parameters": {param: "$response.body#/id"},
                    }
        if links:
            created["links"] = links
    return schema


def install(app: FastAPI) -> None:
    """Serve ``/openapi.json`` with FastAPI's own 422 documented as :class:`ErrorBody`; built once, then kept."""
    default = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _add_links(_use_error_body(default()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
