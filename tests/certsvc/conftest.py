"""An enterprise with a business licence and a food licence, activated."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.conftest import business_licence_body, food_licence_body, random_uscc


@dataclass
class Ent:
    uscc: str
    name: str
    token: str
    business_licence: dict
    food_licence: dict

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_enterprise(service, name: str = "深圳市鹏城贸易有限公司") -> Ent:
    uscc = random_uscc()
    bl = service.client.post("/api/v1/licences", headers=service.market.auth, json=business_licence_body(uscc, name))
    assert bl.status_code == 201, bl.text
    food = service.client.post("/api/v1/licences", headers=service.health.auth, json=food_licence_body(uscc, name))
    assert food.status_code == 201, food.text
    r = service.client.post(
        "/api/v1/enterprise/activate", json={"uscc": uscc, "activation_code": bl.json()["activation_code"]}
    )
    assert r.status_code == 200, r.text
    return Ent(uscc, name, r.json()["token"], bl.json(), food.json())


@pytest.fixture
def ent(service) -> Ent:
    return make_enterprise(service)


@pytest.fixture
def other_ent(service) -> Ent:
    return make_enterprise(service, "深圳市另一家有限公司")


@pytest.fixture
def grant(service, ent):
    def make(**over) -> dict:
        body = {"licence_ids": [ent.food_licence["id"]], "grantee_name": "中国银行深圳分行", "purpose": "开立对公账户"}
        body.update(over)
        r = service.client.post("/api/v1/enterprise/grants", headers=ent.auth, json=body)
        assert r.status_code == 201, r.text
        return r.json()

    return make
