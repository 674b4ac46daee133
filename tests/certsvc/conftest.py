"""Fixtures for the service tests: activated enterprises and their grants."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.service import Ent, Service, make_enterprise


@pytest.fixture
def ent(service: Service) -> Ent:
    """An enterprise with a business licence and a food licence, activated."""
    return make_enterprise(service)


@pytest.fixture
def other_ent(service: Service) -> Ent:
    return make_enterprise(service, "深圳市另一家有限公司")


@pytest.fixture
def grant(service: Service, ent: Ent) -> Callable[..., dict]:
    def make(**over) -> dict:
        body = {"licence_ids": [ent.food_licence["id"]], "grantee_name": "中国银行深圳分行", "purpose": "开立对公账户"}
        body.update(over)
        r = service.client.post("/api/v1/enterprise/grants", headers=ent.auth, json=body)
        assert r.status_code == 201, r.text
        return r.json()

    return make
