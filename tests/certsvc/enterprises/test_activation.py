"""POST /enterprise/activate: a one-time code from the business licence gives the token."""

from __future__ import annotations

from tests.support.data import business_licence_body, random_uscc


def _bl(service) -> tuple[str, str]:
    uscc = random_uscc()
    r = service.client.post("/api/v1/licences", headers=service.market.auth, json=business_licence_body(uscc))
    return uscc, r.json()["activation_code"]


def test_activation_gives_a_token_that_works(service) -> None:
    uscc, code = _bl(service)
    r = service.client.post("/api/v1/enterprise/activate", json={"uscc": uscc, "activation_code": code})
    assert r.status_code == 200
    token = r.json()["token"]
    me = service.client.get("/api/v1/enterprise/licences", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["uscc"] == uscc


def test_activation_code_works_once_only(service) -> None:
    uscc, code = _bl(service)
    assert (
        service.client.post("/api/v1/enterprise/activate", json={"uscc": uscc, "activation_code": code}).status_code
        == 200
    )
    again = service.client.post("/api/v1/enterprise/activate", json={"uscc": uscc, "activation_code": code})
    assert again.status_code == 401


def test_wrong_code_is_401(service) -> None:
    uscc, _code = _bl(service)
    r = service.client.post(
        "/api/v1/enterprise/activate", json={"uscc": uscc, "activation_code": "AAAA-BBBB-CCCC-DDDD"}
    )
    assert r.status_code == 401


def test_tokens_are_stored_hashed(service, ent) -> None:
    from sqlmodel import Session, select

    from certsvc.db.models import ApiCredential, Enterprise

    with Session(service.ctx.engine) as s:
        hashes = [c.secret_hash for c in s.exec(select(ApiCredential))]
        e = s.exec(select(Enterprise).where(Enterprise.uscc == ent.uscc)).one()
    assert ent.token not in hashes
    assert e.activation_code_hash is None  # used up


def test_department_key_is_not_an_enterprise_token(service) -> None:
    assert service.client.get("/api/v1/enterprise/licences", headers=service.health.auth).status_code == 401
