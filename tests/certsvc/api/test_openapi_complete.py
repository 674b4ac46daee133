"""A walk through ``/openapi.json``: every operation the app serves has a readable ``operationId``, a
description, a named 2xx schema (or a declared media type that is not JSON), its security requirement
where the route authenticates, its errors in the real error body, and examples that validate.

Which operations authenticate is decided by asking the app, not a list: each operation is called
without credentials (a 401 means it requires them) and with a malformed bearer token (a 401 means
it reads them). A route added later is walked the same way."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from certsvc.api.openapi import SECURITY_SCHEMES, api_routes

pytestmark = pytest.mark.files  # the document comes from the code: the database plays no part

REF = "#/components/schemas/"
METHODS = ("get", "post", "put", "patch", "delete")
BOGUS = {"Authorization": "Bearer dk_000000000000_not-a-key"}


@pytest.fixture(scope="module")
def spec(service) -> dict[str, Any]:
    r = service.client.get("/openapi.json")
    assert r.status_code == 200
    return r.json()


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield method, path, op


def _validate(spec: dict[str, Any], schema: dict[str, Any], instance: Any) -> list[str]:
    root = {**schema, "components": spec["components"]}
    return [e.message for e in Draft202012Validator(root).iter_errors(instance)]


def _filled(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def test_every_served_operation_is_documented(service, spec) -> None:
    served = {(m.lower(), r.path_format) for r in api_routes(service.client.app) for m in r.methods}
    documented = {(m, p) for m, p, _ in operations(spec)}
    assert served == documented
    assert len(documented) >= 60


def test_operation_ids_are_the_function_names(service, spec) -> None:
    ids = [op["operationId"] for _, _, op in operations(spec)]
    assert len(ids) == len(set(ids)), "duplicate operationIds"
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", i) for i in ids), ids
    assert spec["paths"]["/api/v1/licences"]["post"]["operationId"] == "post_licence"


def test_every_operation_has_a_description_and_a_summary(spec) -> None:
    missing = [f"{m} {p}" for m, p, op in operations(spec) if not op.get("description") or not op.get("summary")]
    assert not missing


def test_every_operation_answers_a_named_schema_or_a_declared_media_type(spec) -> None:
    problems = []
    for method, path, op in operations(spec):
        ok = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        if len(ok) != 1:
            problems.append(f"{method} {path}: {len(ok)} 2xx responses")
            continue
        (code, response), *_ = ok.items()
        content = response.get("content")
        if code == "204":
            if content:
                problems.append(f"{method} {path}: 204 with content")
            continue
        if not content:
            problems.append(f"{method} {path}: {code} without a media type")
            continue
        for media_type, body in content.items():
            schema = body.get("schema", {})
            if media_type == "application/json":
                ref = schema.get("$ref", "")
                if not ref.startswith(REF) or not spec["components"]["schemas"][ref[len(REF) :]].get("properties"):
                    problems.append(f"{method} {path}: JSON 2xx is not a named schema: {schema}")
            elif schema.get("type") != "string":
                problems.append(f"{method} {path}: {media_type} without a string schema")
    assert not problems, "\n".join(problems)


def test_errors_are_the_real_error_body(spec) -> None:
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    problems = []
    for method, path, op in operations(spec):
        codes = set(op["responses"])
        wanted = {"422"} | ({"404"} if "{" in path else set()) | ({"413"} if "requestBody" in op else set())
        if not wanted <= codes:
            problems.append(f"{method} {path}: lacks {sorted(wanted - codes)}")
        page = all(set(r.get("content", {})) == {"text/html"} for c, r in op["responses"].items() if c.startswith("2"))
        for code, response in op["responses"].items():
            if not code.startswith("4"):
                continue
            if page and set(response["content"]) == {"text/html"}:
                continue  # a page (the /verify form) answers its errors as the page again, with the reason
            schema = response["content"]["application/json"]["schema"]
            ref = schema.get("$ref", "")
            if spec["components"]["schemas"][ref[len(REF) :]]["properties"].get("error") != {
                "$ref": REF + "ErrorDetail"
            }:
                problems.append(f"{method} {path} {code}: not an error body: {schema}")
    assert not problems, "\n".join(problems)


def test_examples_validate_against_their_schemas(spec) -> None:
    problems = []
    for method, path, op in operations(spec):
        bodies = [("request", op.get("requestBody", {}).get("content", {}))]
        bodies += [(code, r.get("content", {})) for code, r in op["responses"].items()]
        seen = 0
        for where, content in bodies:
            json = content.get("application/json")
            if json is None:
                continue
            if "example" not in json:
                problems.append(f"{method} {path} {where}: no example")
                continue
            seen += 1
            for message in _validate(spec, json["schema"], json["example"]):
                problems.append(f"{method} {path} {where}: {message}")
        if not seen:
            problems.append(f"{method} {path}: no example at all")
    assert not problems, "\n".join(problems)


def test_security_schemes_are_bearer(spec) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert schemes == SECURITY_SCHEMES
    assert {s["type"] for s in schemes.values()} == {"http"} and {s["scheme"] for s in schemes.values()} == {"bearer"}


def test_operations_that_authenticate_declare_it(service, spec) -> None:
    """Asked without credentials and with a malformed key, the app says which operations read keys."""
    c = service.client
    problems = []
    for method, path, op in operations(spec):
        url = _filled(path)
        anonymous = c.request(method.upper(), url)
        bogus = c.request(method.upper(), url, headers=BOGUS)
        security = op.get("security")
        if anonymous.status_code == 401:
            if not security or {} in security:
                problems.append(f"{method} {path}: requires a key (401) but declares {security}")
        elif bogus.status_code == 401:
            if not security or {} not in security:
                problems.append(f"{method} {path}: takes an optional key but declares {security}")
        elif security:
            problems.append(f"{method} {path}: declares {security} but answers {anonymous.status_code} without a key")
        if (anonymous.status_code == 401 or bogus.status_code == 401) and "401" not in op["responses"]:
            problems.append(f"{method} {path}: answers 401, not documented")
        for answer in (anonymous, bogus):
            if answer.status_code >= 400 and str(answer.status_code) not in op["responses"]:
                problems.append(f"{method} {path}: answers {answer.status_code}, not documented")
    assert not problems, "\n".join(problems)
