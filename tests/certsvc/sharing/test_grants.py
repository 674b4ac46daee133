"""Grants (授权下载), share pages and marked copies (加注件)."""

from __future__ import annotations

from sqlmodel import Session

from certsvc.db.models import Grant
from tests.support.pdfcheck import signature_status, visible_text

JSON = {"Accept": "application/json"}


def _path(url: str) -> str:
    return url.removeprefix("http://testserver")


def test_all_licences_in_one_place(service, ent) -> None:
    items = service.client.get("/api/v1/enterprise/licences", headers=ent.auth).json()["items"]
    assert {i["licence_type"] for i in items} == {"YYZZ", "SPJY"}
    assert {i["issuer"] for i in items} == {service.market.name, service.health.name}


def test_create_grant_returns_share_url_and_qr(service, ent, grant) -> None:
    g = grant()
    assert g["share_url"].startswith("http://testserver/s/")
    assert len(g["share_url"].rsplit("/", 1)[1]) >= 32
    qr = service.client.get(_path(g["qr_url"]))
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/png"
    assert g["expires_at"]


def test_grant_list_shows_use_counts(service, ent, grant) -> None:
    g = grant()
    view = service.client.get(_path(g["share_url"]), headers=JSON).json()
    service.client.get(_path(view["licences"][0]["download_url"]))
    listed = service.client.get("/api/v1/enterprise/grants", headers=ent.auth).json()["items"]
    mine = next(x for x in listed if x["id"] == g["id"])
    assert mine["downloads"] == 1 and mine["state"] == "active"


def test_grant_expiry_is_at_most_90_days(service, ent) -> None:
    body = {"all_current": True, "grantee_name": "x", "purpose": "y", "expires_in_days": 91}
    r = service.client.post("/api/v1/enterprise/grants", headers=ent.auth, json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == "expires_in_days"


def test_grant_needs_a_purpose(service, ent) -> None:
    r = service.client.post(
        "/api/v1/enterprise/grants", headers=ent.auth, json={"all_current": True, "grantee_name": "x", "purpose": " "}
    )
    assert r.status_code == 422 and "purpose" in r.json()["error"]["message"]


def test_grantee_id_is_validated(service, ent) -> None:
    body = {"all_current": True, "grantee_name": "x", "purpose": "y", "grantee_id": "123456789012345678"}
    r = service.client.post("/api/v1/enterprise/grants", headers=ent.auth, json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == "grantee_id"


def test_all_current_grants_every_valid_licence(service, ent, grant) -> None:
    g = grant(licence_ids=None, all_current=True)
    view = service.client.get(_path(g["share_url"]), headers=JSON).json()
    assert len(view["licences"]) == 2


def test_marked_copy_keeps_the_department_seal_and_names_the_grant(service, ent, grant) -> None:
    g = grant()
    view = service.client.get(_path(g["share_url"]), headers=JSON).json()
    r = service.client.get(_path(view["licences"][0]["download_url"]))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    pdf = r.content
    _sig, seal = signature_status(service.ctx, pdf, 0)
    assert seal.intact and seal.valid and seal.trusted
    assert seal.signing_cert.subject.native["common_name"] == service.health.name
    _mark, mark = signature_status(service.ctx, pdf, 1)
    assert mark.intact and mark.valid and mark.trusted and mark.bottom_line
    text = visible_text(pdf).replace("\r", "").replace("\n", "")
    assert "仅供 中国银行深圳分行 用于 开立对公账户" in text
    assert g["id"] in text
    v = service.client.post("/api/v1/verify", files={"file": ("copy.pdf", pdf, "application/pdf")}).json()
    assert v["verdict"] == "genuine"
    assert v["grant"]["id"] == g["id"]
    assert v["grant"]["purpose"] == "开立对公账户"
    assert v["grant"]["active"] is True
    assert v["licence"]["number"] == ent.food_licence["number"]


def test_marked_copy_of_a_revoked_grant_says_not_active(service, ent, grant) -> None:
    g = grant()
    view = service.client.get(_path(g["share_url"]), headers=JSON).json()
    pdf = service.client.get(_path(view["licences"][0]["download_url"])).content
    service.client.delete(f"/api/v1/enterprise/grants/{g['id']}", headers=ent.auth)
    v = service.client.post("/api/v1/verify", files={"file": ("copy.pdf", pdf, "application/pdf")}).json()
    assert v["verdict"] == "genuine" and v["grant"]["active"] is False


def test_revoked_grant_refuses_at_once(service, ent, grant) -> None:
    g = grant()
    view = service.client.get(_path(g["share_url"]), headers=JSON).json()
    assert service.client.delete(f"/api/v1/enterprise/grants/{g['id']}", headers=ent.auth).status_code == 200
    page = service.client.get(_path(g["share_url"]))
    assert page.status_code == 410 and "撤销" in page.text
    assert service.client.get(_path(view["licences"][0]["download_url"])).status_code == 410


def test_expired_grant_refuses(service, ent, grant) -> None:
    from datetime import timedelta

    from certsvc.db.models import utcnow

    g = grant()
    with Session(service.ctx.engine) as s:
        row = s.get(Grant, g["id"])
        row.expires_at = utcnow() - timedelta(seconds=1)
        s.add(row)
        s.commit()
    page = service.client.get(_path(g["share_url"]))
    assert page.status_code == 410 and "过期" in page.text


def test_exhausted_grant_refuses(service, ent, grant) -> None:
    g = grant(max_downloads=1)
    view = service.client.get(_path(g["share_url"]), headers=JSON).json()
    url = _path(view["licences"][0]["download_url"])
    assert service.client.get(url).status_code == 200
    assert service.client.get(url).status_code == 410
    page = service.client.get(_path(g["share_url"]))
    assert page.status_code == 410 and "用完" in page.text


def test_licence_suspended_after_the_grant_shows_status_and_refuses_download(service, ent, grant) -> None:
    g = grant()
    view = service.client.get(_path(g["share_url"]), headers=JSON).json()
    url = _path(view["licences"][0]["download_url"])
    service.client.post(
        f"/api/v1/licences/{ent.food_licence['id']}/suspend", headers=service.health.auth, json={"reason": "整改"}
    )
    view = service.client.get(_path(g["share_url"]), headers=JSON).json()
    assert view["licences"][0]["status"] == "suspended" and view["licences"][0]["download_url"] is None
    assert service.client.get(url).status_code == 409


def test_enterprise_cannot_grant_anothers_licence(service, ent, other_ent) -> None:
    body = {"licence_ids": [other_ent.food_licence["id"]], "grantee_name": "x", "purpose": "y"}
    r = service.client.post("/api/v1/enterprise/grants", headers=ent.auth, json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == "licence_ids"


def test_enterprise_cannot_see_or_revoke_anothers_grant(service, ent, other_ent, grant) -> None:
    g = grant()
    assert service.client.get(f"/api/v1/enterprise/grants/{g['id']}", headers=other_ent.auth).status_code == 404
    assert service.client.delete(f"/api/v1/enterprise/grants/{g['id']}", headers=other_ent.auth).status_code == 404
    listed = service.client.get("/api/v1/enterprise/grants", headers=other_ent.auth).json()["items"]
    assert g["id"] not in [x["id"] for x in listed]
    mine = service.client.get("/api/v1/enterprise/licences", headers=other_ent.auth).json()["items"]
    assert ent.food_licence["id"] not in [x["id"] for x in mine]


def test_share_link_cannot_download_a_licence_outside_it(service, ent, other_ent, grant) -> None:
    g = grant()
    token = g["share_url"].rsplit("/", 1)[1]
    assert service.client.get(f"/s/{token}/licences/{other_ent.food_licence['id']}.pdf").status_code == 404
    assert service.client.get(f"/s/{token}/licences/{ent.business_licence['id']}.pdf").status_code == 404


def test_grant_tokens_are_stored_hashed(service, grant) -> None:
    g = grant()
    token = g["share_url"].rsplit("/", 1)[1]
    with Session(service.ctx.engine) as s:
        row = s.get(Grant, g["id"])
    assert row.token_hash != token and len(row.token_hash) == 64
