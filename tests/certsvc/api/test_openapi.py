"""The OpenAPI document names every answer: a schema component for each JSON 2xx, ErrorBody for the
errors, and the real media type of PDFs, images and pages."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST

from certsvc.api.models import ErrorBody, LicenceOut
from certsvc.api.routes import departments, enterprise, health, public, receipts, showing, verification

MODULES = (departments, enterprise, health, public, receipts, showing, verification)
REF = "#/components/schemas/"
PDF_ROUTES = {
    ("GET", "/api/v1/licences/{licence_id}/pdf"),
    ("GET", "/api/v1/receipts/{receipt_id}/pdf"),
    ("POST", "/api/v1/enterprise/sign"),
    ("GET", "/s/{token}/licences/{licence_id}.pdf"),
    ("GET", "/api/v1/enterprise/licences/{licence_id}/pdf"),
    ("GET", "/api/v1/enterprise/receipts/{receipt_id}/pdf"),
}
PNG_ROUTES = {
    ("GET", "/s/{token}/qr.png"),
    ("GET", "/api/v1/enterprise/grants/{grant_id}/qr.png"),
    ("GET", "/l/{token}/qr.png"),
}
NOT_JSON = {**{r: "application/pdf" for r in PDF_ROUTES}, **{r: "image/png" for r in PNG_ROUTES}}
NOT_JSON[("GET", "/metrics")] = CONTENT_TYPE_LATEST  # what the route sends: text format, its version
NOT_JSON[("GET", "/crl/{name}.crl")] = "application/pkix-crl"
NOT_JSON[("GET", "/ca/{name}.crt")] = "application/pkix-cert"
NOT_JSON[("POST", "/tsa")] = "application/timestamp-reply"


def _operations() -> list[tuple[str, str]]:
    ops = []
    for module in MODULES:
        for route in module.router.routes:
            if isinstance(route, APIRoute) and route.include_in_schema:
                ops += [(method, route.path) for method in sorted(route.methods)]
    return ops


OPERATIONS = _operations()


@pytest.fixture(scope="module")
def spec(service) -> dict[str, Any]:
    r = service.client.get("/openapi.json")
    assert r.status_code == 200
    return r.json()


def _op(spec: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return spec["paths"][path][method.lower()]


def _component(spec: dict[str, Any], ref: str) -> dict[str, Any]:
    assert ref.startswith(REF), ref
    return spec["components"]["schemas"][ref.removeprefix(REF)]


def test_every_route_module_is_covered() -> None:
    assert len(OPERATIONS) >= 30
    assert ("POST", "/api/v1/licences") in OPERATIONS and ("GET", "/v/{token}") in OPERATIONS


@pytest.mark.parametrize(("method", "path"), [op for op in OPERATIONS if op not in NOT_JSON])
def test_json_operations_answer_a_named_schema(spec: dict[str, Any], method: str, path: str) -> None:
    responses = _op(spec, method, path)["responses"]
    ok = [code for code in responses if code.startswith("2")]
    assert len(ok) == 1, responses
    schema = responses[ok[0]]["content"]["application/json"]["schema"]
    assert "$ref" in schema, f"{method} {path}: 2xx schema is not a named component: {schema}"
    assert _component(spec, schema["$ref"])["properties"]


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_error_responses_are_error_bodies(spec: dict[str, Any], method: str, path: str) -> None:
    for code, response in _op(spec, method, path)["responses"].items():
        if code.startswith("2") or (path == "/healthz" and code == "503"):
            continue
        ref = response["content"]["application/json"]["schema"]["$ref"]
        if ref != REF + "ErrorBody":  # a variant for public links: ErrorBody plus what the link is
            assert _component(spec, ref)["properties"]["error"] == {"$ref": REF + "ErrorDetail"}, (code, ref)


def test_no_default_validation_error_schema(spec: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    error = spec["components"]["schemas"]["ErrorDetail"]
    assert {"code", "message", "field"} <= set(error["properties"])
    assert set(error["required"]) == {"code", "message"}


def test_statuses_each_route_returns(spec: dict[str, Any]) -> None:
    def codes(method: str, path: str) -> set[str]:
        return set(_op(spec, method, path)["responses"])

    assert {"401", "409", "422"} <= codes("POST", "/api/v1/licence-types")
    assert {"401", "404", "409"} <= codes("POST", "/api/v1/licences/{licence_id}/revoke")
    assert {"404", "409", "410"} <= codes("GET", "/s/{token}/licences/{licence_id}.pdf")
    assert {"413", "422", "503"} <= codes("POST", "/api/v1/verify")
    assert {"401", "429"} <= codes("POST", "/api/v1/enterprise/activate")
    assert {"200", "503"} <= codes("GET", "/healthz")


@pytest.mark.parametrize(("method", "path"), sorted(NOT_JSON))
def test_non_json_routes_declare_their_media_type(spec: dict[str, Any], method: str, path: str) -> None:
    content = _op(spec, method, path)["responses"]["200"]["content"]
    assert NOT_JSON[(method, path)] in content
    assert "application/json" not in content


@pytest.mark.parametrize("path", ["/v/{token}", "/e/{uscc}", "/s/{token}", "/r/{token}", "/l/{token}"])
def test_pages_are_html_or_json(spec: dict[str, Any], path: str) -> None:
    content = _op(spec, "GET", path)["responses"]["200"]["content"]
    assert "text/html" in content and "$ref" in content["application/json"]["schema"]


def test_real_answers_match_their_models(service, issue_food) -> None:
    c = service.client
    issued = issue_food()
    assert LicenceOut.model_validate(issued).model_dump(exclude_unset=True) == issued
    assert "activation_code" not in issued  # absent keys stay absent
    missing = c.get("/api/v1/licences/nope", headers=service.health.auth)
    assert missing.status_code == 404
    assert ErrorBody.model_validate(missing.json()).error.code == "not_found"
    invalid = c.post("/api/v1/licences", headers=service.health.auth, json={})
    assert invalid.status_code == 422
    assert ErrorBody.model_validate(invalid.json()).error.field
