"""Bad input gets a 4xx that names what is wrong, never a 500."""

from __future__ import annotations

import pytest

from tests.support.data import food_licence_body


def _issue(service, body):
    return service.client.post("/api/v1/licences", headers=service.health.auth, json=body)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"holder_uscc": "914403001922038217"}, "holder_uscc"),
        ({"holder_uscc": "12345"}, "holder_uscc"),
        ({"holder_name": ""}, "holder_name"),
        ({"licence_type": "NOPE"}, "licence_type"),
        ({"holder_kind": "company"}, "holder_kind"),
        ({"valid_from": "2026-13-01"}, "valid_from"),
        ({"valid_from": "2026-05-01", "valid_until": "2026-04-01"}, "valid_until"),
        ({"fields": {"经营场所": "x"}}, "fields.主体业态"),
        ({"fields": {"经营场所": "x", "主体业态": "y", "未知": "z"}}, "fields.未知"),
        ({"fields": {"经营场所": {"nested": 1}, "主体业态": "y"}}, "fields.经营场所"),
    ],
)
def test_bad_issue_request_names_the_field(service, change, field) -> None:
    r = _issue(service, food_licence_body(**change))
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert field in err["message"]
    assert err["field"] == field


def test_uscc_error_says_why(service) -> None:
    r = _issue(service, food_licence_body(uscc="914403001922038217"))
    assert "check character" in r.json()["error"]["message"]


def test_malformed_json_is_a_422(service) -> None:
    r = service.client.post(
        "/api/v1/licences", headers={**service.health.auth, "Content-Type": "application/json"}, content=b"{not json"
    )
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid"


def test_licence_type_with_existing_code_conflicts(service) -> None:
    r = service.client.post(
        "/api/v1/licence-types", headers=service.health.auth, json={"code": "SPJY", "name": "x", "fields": []}
    )
    assert r.status_code == 409


def test_licence_type_with_bad_reform_mode(service) -> None:
    r = service.client.post(
        "/api/v1/licence-types", headers=service.health.auth, json={"code": "XX1", "name": "x", "reform_mode": "magic"}
    )
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "reform_mode"


def test_abolished_type_issues_nothing(service) -> None:
    r = service.client.post(
        "/api/v1/licence-types",
        headers=service.housing.auth,
        json={"code": "QXSP", "name": "已取消审批事项", "fields": [], "reform_mode": "abolished"},
    )
    assert r.status_code == 201
    body = {"licence_type": "QXSP", "holder_uscc": food_licence_body()["holder_uscc"], "holder_name": "x", "fields": {}}
    r = service.client.post("/api/v1/licences", headers=service.housing.auth, json=body)
    assert r.status_code == 409
    assert "abolished" in r.json()["error"]["message"]


def test_unknown_licence_id_is_404(service) -> None:
    assert service.client.get("/api/v1/licences/nope", headers=service.health.auth).status_code == 404


def test_licence_types_are_listed_per_department(service) -> None:
    r = service.client.get("/api/v1/licence-types", headers=service.health.auth)
    assert [t["code"] for t in r.json()["items"]] == ["SPJY"]


def test_oversized_json_body_is_413_before_parsing(service) -> None:
    huge = b'{"items": [' + b'{"x": "' + b"y" * (22 * 1024 * 1024) + b'"}]}'
    r = service.client.post(
        "/api/v1/licences:batch", headers={**service.health.auth, "Content-Type": "application/json"}, content=huge
    )
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large"
