"""Access log, cross-department look-up (共享调用), enterprise signing."""

from __future__ import annotations

from io import BytesIO

from reportlab.pdfgen import canvas

from tests.support.pdfcheck import signature_status

JSON = {"Accept": "application/json"}


def test_lookup_with_purpose_lists_current_licences_and_is_logged(service, ent) -> None:
    r = service.client.get(
        f"/api/v1/enterprises/{ent.uscc}/licences",
        params={"purpose": "建筑施工许可审查", "type": "SPJY"},
        headers=service.housing.auth,
    )
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["licence_type"] for i in items] == ["SPJY"]
    assert items[0]["fields"]["经营场所"]
    log = service.client.get("/api/v1/enterprise/access-log", headers=ent.auth).json()
    lookup = [e for e in log["items"] if e["kind"] == "lookup"]
    assert lookup[0]["department"] == service.housing.name
    assert lookup[0]["purpose"] == "建筑施工许可审查"


def test_lookup_needs_a_department_key(service, ent) -> None:
    r = service.client.get(f"/api/v1/enterprises/{ent.uscc}/licences", params={"purpose": "x"}, headers=ent.auth)
    assert r.status_code == 401


def test_access_log_shows_downloads_and_verification_counts_newest_first(service, ent, grant) -> None:
    g = grant()
    share = service.client.get(g["share_url"], headers=JSON).json()
    service.client.get(share["licences"][0]["download_url"])
    service.client.get(ent.food_licence["verify_url"])
    service.client.get(
        f"/api/v1/enterprises/{ent.uscc}/licences", params={"purpose": "核查"}, headers=service.housing.auth
    )
    log = service.client.get("/api/v1/enterprise/access-log", params={"limit": 1}, headers=ent.auth).json()
    assert len(log["items"]) == 1 and log["next_cursor"]
    assert log["items"][0]["kind"] == "lookup"
    page2 = service.client.get(
        "/api/v1/enterprise/access-log", params={"limit": 1, "cursor": log["next_cursor"]}, headers=ent.auth
    ).json()
    assert page2["items"][0]["kind"] == "grant_download" and page2["items"][0]["grant_id"] == g["id"]
    assert page2["next_cursor"] is None
    counts = {c["licence_id"]: c["count"] for c in log["verification_counts"]}
    assert counts[ent.food_licence["id"]] >= 1


def test_access_log_is_private_to_the_enterprise(service, ent, other_ent) -> None:
    service.client.get(
        f"/api/v1/enterprises/{ent.uscc}/licences", params={"purpose": "核查"}, headers=service.housing.auth
    )
    log = service.client.get("/api/v1/enterprise/access-log", headers=other_ent.auth).json()
    assert log["items"] == [] and log["next_cursor"] is None


def _plain_pdf() -> bytes:
    buf = BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, "Commitment letter / 告知承诺书")
    c.save()
    return buf.getvalue()


def test_enterprise_signing_round_trips_through_verify(service, ent) -> None:
    r = service.client.post(
        "/api/v1/enterprise/sign", headers=ent.auth, files={"file": ("letter.pdf", _plain_pdf(), "application/pdf")}
    )
    assert r.status_code == 200, r.text
    _sig, status = signature_status(service.ctx, r.content)
    assert status.intact and status.valid and status.trusted
    v = service.client.post("/api/v1/verify", files={"file": ("signed.pdf", r.content, "application/pdf")}).json()
    assert v["verdict"] == "signed_by_enterprise"  # never "genuine": the service did not issue it
    assert v["signer"]["name"] == ent.name
    assert v["signer"]["uscc"] == ent.uscc
    assert v["signer"]["owner_kind"] == "enterprise"


def test_enterprise_signing_refuses_a_broken_pdf(service, ent) -> None:
    r = service.client.post(
        "/api/v1/enterprise/sign", headers=ent.auth, files={"file": ("x.pdf", b"%PDF-1.7 garbage", "application/pdf")}
    )
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "file"
