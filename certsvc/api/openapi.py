"""``/openapi.json`` as the service answers, completed centrally so that every route, including
ones added later, is documented the same way:

- ``operationId`` is the route function's name (:func:`operation_id`);
- the summary is the first sentence of the route's docstring, the docstring its description;
- bearer security schemes, and on every operation whose dependencies authenticate
  (:data:`certsvc.api.deps.SECURITY`) its security requirement, 401 and (enterprise tokens) 403;
- every error as :class:`~certsvc.api.models.ErrorBody` (FastAPI's own ``HTTPValidationError`` is
  replaced): 422 on every operation (any query parameter is checked), 404 on every one with path
  parameters, 413 and 422 on every one with a body;
- an example on every JSON request and answer (:mod:`certsvc.api.examples`), and on each error;
- links from each ``POST`` that creates something to the operations on what it created.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from certsvc.api import deps
from certsvc.api.examples import error_example, example_for
from certsvc.api.models.errors import ERROR_MEANINGS

_DEFAULT_422 = "#/components/schemas/HTTPValidationError"
_ERROR_BODY = "#/components/schemas/ErrorBody"
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

SECURITY_SCHEMES = {
    deps.DEPARTMENT_KEY: {
        "type": "http",
        "scheme": "bearer",
        "description": "A department's API key (`certsvc department add`, `certsvc department key add`)",
    },
    deps.ENTERPRISE_TOKEN: {
        "type": "http",
        "scheme": "bearer",
        "description": "An enterprise's token, from `POST /api/v1/enterprise/activate`",
    },
}


def api_routes(app: FastAPI) -> Iterator[Any]:
    """Every API route of ``app`` in the OpenAPI document (as FastAPI sees it through included routers:
    with the prefixes, tags and dependencies of its routers)."""
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.include_in_schema:
            yield context


def operation_id(route: APIRoute) -> str:
    """A readable ``operationId``: the route function's name (``post_licence``, ``get_licence_pdf``)."""
    return route.name


def _dependencies(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _dependencies(sub)


def security_of(route: Any) -> list[dict[str, list[str]]] | None:
    """The security requirement of ``route``: the first authenticating dependency in its tree, or None."""
    for call in _dependencies(route.dependant):
        requirement = deps.SECURITY.get(call)
        if requirement is not None:
            return requirement
    return None


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            if method in _METHODS:
                yield path, method, op


def _use_error_body(schema: dict[str, Any]) -> None:
    for _path, _method, op in _operations(schema):
        content = op.get("responses", {}).get("422", {}).get("content", {}).get("application/json", {})
        if content.get("schema", {}).get("$ref") == _DEFAULT_422:
            content["schema"] = {"$ref": _ERROR_BODY}
            op["responses"]["422"]["description"] = ERROR_MEANINGS[422]
    components = schema.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)


def _error(status: int) -> dict[str, Any]:
    return {"description": ERROR_MEANINGS[status], "content": {"application/json": {"schema": {"$ref": _ERROR_BODY}}}}


def _complete_errors(
    document: dict[str, Any], op: dict[str, Any], path: str, security: list[dict[str, list[str]]] | None
) -> None:
    responses = op.setdefault("responses", {})
    wanted = {422}
    if "{" in path:
        wanted.add(404)
    if "requestBody" in op:
        wanted.add(413)
    if security is not None:
        wanted.add(401)
        if any(deps.ENTERPRISE_TOKEN in r for r in security) and {} not in security:
            wanted.add(403)
    for status in sorted(wanted):
        responses.setdefault(str(status), _error(status))
    for code, response in responses.items():
        if code.startswith(("4", "5")) and "content" in response:
            json = response["content"].get("application/json")
            if json is not None and "example" not in json:
                errors = json.get("schema", {}).get("$ref", "").endswith("ErrorBody")
                json["example"] = error_example(int(code)) if errors else example_for(json["schema"], document)


def first_sentence(text: str, limit: int = 90) -> str:
    """The first sentence of ``text`` (up to ``.``, ``:``, ``;`` or their Chinese forms outside brackets
    and code), shortened to ``limit`` characters."""
    flat = " ".join(text.split())
    depth, code = 0, False
    for i, ch in enumerate(flat):
        if ch == "`":
            code = not code
        elif ch in "(（":
            depth += 1
        elif ch in ")）":
            depth = max(0, depth - 1)
        elif not code and depth == 0 and (ch in "。；：" or (ch in ".:;" and flat[i + 1 : i + 2] in (" ", ""))):
            flat = flat[:i]
            break
    flat = flat.replace("`", "").strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _summary(op: dict[str, Any], route: Any) -> None:
    """The first sentence of the description, unless the route set a summary of its own."""
    description = op.get("description") or ""
    if not route.summary and description:
        op["summary"] = first_sentence(description)


def _examples(schema: dict[str, Any], op: dict[str, Any]) -> None:
    bodies = [op.get("requestBody", {}).get("content", {})]
    bodies += [r.get("content", {}) for code, r in op.get("responses", {}).items() if code.startswith("2")]
    for content in bodies:
        json = content.get("application/json")
        if json is not None and "schema" in json and "example" not in json and "examples" not in json:
            json["example"] = example_for(json["schema"], schema)


def _complete(app: FastAPI, schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    routes: dict[tuple[str, str], Any] = {}
    for route in api_routes(app):
        for method in route.methods:
            routes[(route.path_format, method.lower())] = route
    for path, method, op in _operations(schema):
        route = routes.get((path, method))
        if route is None:
            continue
        security = security_of(route)
        if security is not None:
            op["security"] = security
        _complete_errors(schema, op, path, security)
        _summary(op, route)
        _examples(schema, op)


def _add_links(schema: dict[str, Any]) -> None:
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


def install(app: FastAPI) -> None:
    """Serve the completed ``/openapi.json``; built once, then kept."""
    default = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = default()
            _use_error_body(schema)
            _complete(app, schema)
            _add_links(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
