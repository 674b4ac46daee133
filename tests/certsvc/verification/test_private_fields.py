"""A field marked ``private`` (the business licence's 住所, a type's own) is seen only by the
issuer, the holder, a department looking up with a stated purpose, and in the PDF itself (which
grantees receive marked); every public answer and every other department goes without it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.data import business_licence_body, random_uscc
from tests.support.service import Ent, Service

JSON = {"Accept": "application/json"}
ADDRESS = "深圳市南山区私密路7号3栋1201"
LEGAL_REP = "王五"


@pytest.fixture(scope="module")
def holder(service: Service) -> dict[str, Any]:
    """A business licence with a private address, activated; and a share link for it."""
    uscc = random_uscc()
    body = business_licence_body(uscc, "深圳市隐私测试有限公司")
    body["fields"] = {**body["fields"], "住所": ADDRESS, "法定代表人": LEGAL_REP}
    r = service.client.post("/api/v1/licences", headers=service.market.auth, json=body)
    assert r.status_code == 201, r.text
    lic = r.json()
    act = {"uscc": uscc, "activation_code": lic["activation_code"]}
    token = service.client.post("/api/v1/enterprise/activate", json=act).json()["token"]
    ent = Ent(uscc, body["holder_name"], token, lic, {})
    g = service.client.post(
        "/api/v1/enterprise/grants",
        headers=ent.auth,
        json={"licence_ids": [lic["id"]], "grantee_name": "某银行", "purpose": "开户"},
    ).json()
    return {"licence": lic, "ent": ent, "share": g["share_url"].removeprefix("http://testserver")}


def _path(url: str) -> str:
    return url.removeprefix("http://testserver")


def _public_answers(service: Service, holder: dict[str, Any]) -> dict[str, str]:
    lic = holder["licence"]
    c = service.client
    verify_url = _path(lic["verify_url"])
    pdf = c.get(f"/api/v1/licences/{lic['id']}/pdf", headers=service.market.auth).content
    return {
        "/v/ page": c.get(verify_url).text,
        "/v/ JSON": c.get(verify_url, headers=JSON).text,
        "/e/ page": c.get(f"/e/{lic['holder_uscc']}").text,
        "/e/ JSON": c.get(f"/e/{lic['holder_uscc']}", headers=JSON).text,
        "/verify/qr": c.post("/api/v1/verify/qr", json={"text": lic["verify_url"]}).text,
        "/verify upload": c.post("/api/v1/verify", files={"file": ("l.pdf", pdf, "application/pdf")}).text,
        "status list": c.get("/api/v1/status-list").text,
        "share page": c.get(holder["share"]).text,
        "share JSON": c.get(holder["share"], headers=JSON).text,
        "other department": c.get(f"/api/v1/licences/{lic['id']}", headers=service.health.auth).text,
    }


def test_no_public_answer_and_no_other_department_shows_a_private_field(service, holder) -> None:
    for audience, body in _public_answers(service, holder).items():
        assert "3栋1201" not in body, audience
        assert "私密路" not in body, audience


def test_the_issuer_sees_private_fields(service, holder) -> None:
    r = service.client.get(f"/api/v1/licences/{holder['licence']['id']}", headers=service.market.auth)
    assert r.json()["fields"]["住所"] == ADDRESS


def test_the_holder_sees_private_fields(service, holder) -> None:
    items = service.client.get("/api/v1/enterprise/licences", headers=holder["ent"].auth).json()["items"]
    assert next(i for i in items if i["id"] == holder["licence"]["id"])["fields"]["住所"] == ADDRESS


def test_a_purposeful_look_up_sees_private_fields_and_is_logged(service, holder) -> None:
    uscc = holder["licence"]["holder_uscc"]
    r = service.client.get(
        f"/api/v1/enterprises/{uscc}/licences", params={"purpose": "核查经营场所"}, headers=service.health.auth
    )
    assert r.status_code == 200
    assert r.json()["items"][0]["fields"]["住所"] == ADDRESS
    log = service.client.get("/api/v1/enterprise/access-log", headers=holder["ent"].auth).json()["items"]
    assert any(e["kind"] == "lookup" and e["purpose"] == "核查经营场所" for e in log)


def test_a_look_up_without_a_purpose_sees_nothing(service, holder) -> None:
    uscc = holder["licence"]["holder_uscc"]
    r = service.client.get(f"/api/v1/enterprises/{uscc}/licences", headers=service.health.auth)
    assert r.status_code in (400, 422)
    assert "3栋1201" not in r.text
