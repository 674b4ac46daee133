"""Departments are authenticated by API key and touch only their own licences."""

from __future__ import annotations

import pytest

from tests.support.data import food_licence_body

ROUTES = [
    ("get", "/api/v1/licences/{id}", None),
    ("get", "/api/v1/licences/{id}/pdf", None),
    ("post", "/api/v1/licences/{id}/suspend", {"reason": "x"}),
    ("post", "/api/v1/licences/{id}/resume", {"reason": "x"}),
    ("post", "/api/v1/licences/{id}/revoke", {"reason": "x"}),
    ("post", "/api/v1/licences/{id}/renew", {"valid_until": "2099-01-01"}),
    ("post", "/api/v1/licences/{id}/amend", {"fields": {}}),
]


@pytest.mark.parametrize(("method", "path", "json"), ROUTES)
def test_another_department_gets_404_for_every_route(service, issue_food, method, path, json) -> None:
    lic = issue_food()
    r = getattr(service.client, method)(
        path.format(id=lic["id"]), headers=service.housing.auth, **({"json": json} if json else {})
    )
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(("method", "path", "json"), ROUTES)
def test_no_key_gets_401(service, issue_food, method, path, json) -> None:
    lic = issue_food()
    r = getattr(service.client, method)(path.format(id=lic["id"]), **({"json": json} if json else {}))
    assert r.status_code == 401


def test_wrong_key_gets_401(service) -> None:
    r = service.client.post(
        "/api/v1/licences", headers={"Authorization": "Bearer csd_000000000000_nope"}, json=food_licence_body()
    )
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"


def test_a_department_cannot_issue_another_departments_type(service) -> None:
    r = service.client.post("/api/v1/licences", headers=service.housing.auth, json=food_licence_body())
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "licence_type"


def test_api_keys_are_stored_only_as_hashes(service) -> None:
    from sqlmodel import Session, select

    from certsvc.db.models import ApiCredential

    with Session(service.ctx.engine) as s:
        stored = [c.secret_hash for c in s.exec(select(ApiCredential))]
    assert service.health.key not in stored
    assert all(len(h) == 64 for h in stored)
