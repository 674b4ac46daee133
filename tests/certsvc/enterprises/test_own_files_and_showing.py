"""Issue 16: the enterprise's own files (its originals), live showing (亮照), grant QR codes and what
may be granted — through the API (TestClient), PDFs checked with pyHanko and QR codes with zbar."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

from PIL import Image
from sqlmodel import Session, col, select

from certsvc.core import clock
from certsvc.db.models import AccessEvent, AuditEvent
from tests.support.pdfcheck import signature_status
from tests.support.qrscan import zbar

JSON = {"Accept": "application/json"}


def _path(url: str) -> str:
    return url.removeprefix("http://testserver")


def _qr(png: bytes) -> list[str]:
    return zbar(Image.open(io.BytesIO(png)).convert("L"))


def _audited(service, action: str, subject_id: str) -> list[AuditEvent]:
    service.ctx.denials.flush(service.ctx.engine)
    with Session(service.ctx.engine) as s:
        q = select(AuditEvent).where(AuditEvent.action == action, AuditEvent.subject_id == subject_id)
        return list(s.exec(q.order_by(col(AuditEvent.id))))


def _revoke(service, dept, licence_id: str) -> None:
    body = {"reason": "注销：申请注销"}
    r = service.client.post(f"/api/v1/licences/{licence_id}/revoke", headers=dept.auth, json=body)
    assert r.status_code == 200, r.text


# --- own files ------------------------------------------------------------------------------


def test_listed_pdf_url_downloads_the_sealed_original(service, ent) -> None:
    items = service.client.get("/api/v1/enterprise/licences", headers=ent.auth).json()["items"]
    food = next(i for i in items if i["id"] == ent.food_licence["id"])
    assert _path(food["pdf_url"]) == f"/api/v1/enterprise/licences/{food['id']}/pdf"
    r = service.client.get(_path(food["pdf_url"]), headers=ent.auth)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(r.content).hexdigest() == ent.food_licence["sha256"]
    assert f"{food['number']}-v1.pdf" in r.headers["content-disposition"]
    _sig, status = signature_status(service.ctx, r.content)
    assert status.intact and status.valid


def test_revoked_licence_original_still_downloads_audited_and_logged(service, ent) -> None:
    lid = ent.food_licence["id"]
    _revoke(service, service.health, lid)
    r = service.client.get(f"/api/v1/enterprise/licences/{lid}/pdf", headers=ent.auth)
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == ent.food_licence["sha256"]
    [event] = _audited(service, "licence.download", lid)
    assert event.actor_kind == "enterprise" and event.details["as"] == "holder"
    with Session(service.ctx.engine) as s:
        logged = s.exec(select(AccessEvent).where(AccessEvent.licence_id == lid)).all()
    assert [e.kind for e in logged] == ["holder_download"]
    log = service.client.get("/api/v1/enterprise/access-log", headers=ent.auth).json()["items"]
    assert any(e["kind"] == "holder_download" and e["licence_id"] == lid for e in log)


def test_another_holders_licence_is_404_and_a_recorded_denial(service, ent, other_ent) -> None:
    lid = other_ent.food_licence["id"]
    r = service.client.get(f"/api/v1/enterprise/licences/{lid}/pdf", headers=ent.auth)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert len(_audited(service, "denied.other_holder", lid)) == 1
    assert service.client.get(f"/api/v1/enterprise/licences/{lid}/pdf").status_code == 401


def test_receipts_issued_to_the_enterprise_download_from_its_list(service, ent, other_ent) -> None:
    body = {
        "applicant_name": ent.name,
        "applicant_uscc": ent.uscc,
        "matter": "公共场所卫生许可",
        "application_number": "B-1",
    }
    issued = service.client.post("/api/v1/receipts", headers=service.health.auth, json=body)
    assert issued.status_code == 201, issued.text
    [item] = service.client.get("/api/v1/enterprise/receipts", headers=ent.auth).json()["items"]
    pdf = service.client.get(_path(item["pdf_url"]), headers=ent.auth)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(pdf.content).hexdigest() == issued.json()["sha256"]
    assert len(_audited(service, "receipt.download", item["id"])) == 1
    assert service.client.get(_path(item["pdf_url"]), headers=other_ent.auth).status_code == 404


# --- grants -----------------------------------------------------------------------------------


def test_grant_qr_from_the_list_opens_the_share_link(service, ent, grant) -> None:
    g = grant()
    listed = service.client.get("/api/v1/enterprise/grants", headers=ent.auth).json()["items"]
    mine = next(x for x in listed if x["id"] == g["id"])
    png = service.client.get(_path(mine["qr_url"]), headers=ent.auth)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert _qr(png.content) == [g["share_url"]]
    assert _qr(service.client.get(_path(g["qr_url"])).content) == [g["share_url"]]


def test_grant_qr_of_another_enterprise_is_404(service, ent, other_ent, grant) -> None:
    g = grant()
    r = service.client.get(f"/api/v1/enterprise/grants/{g['id']}/qr.png", headers=other_ent.auth)
    assert r.status_code == 404


def test_grant_naming_only_a_revoked_licence_is_422_naming_licence_ids(service, ent) -> None:
    lid = ent.food_licence["id"]
    _revoke(service, service.health, lid)
    body = {"licence_ids": [lid], "grantee_name": "中国银行深圳分行", "purpose": "开立对公账户"}
    r = service.client.post("/api/v1/enterprise/grants", headers=ent.auth, json=body)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["field"] == "licence_ids" and "revoked" in err["message"] and lid in err["message"]


# --- live showing (亮照) ------------------------------------------------------------------------


def _show(service, ent, **body) -> dict:
    r = service.client.post("/api/v1/enterprise/show", headers=ent.auth, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_show_opens_the_chosen_licences_without_personal_data(service, ent) -> None:
    shown = _show(service, ent, licence_ids=[ent.food_licence["id"]], expires_in_seconds=60)
    assert shown["url"].startswith("http://testserver/l/") and len(shown["url"].rsplit("/", 1)[1]) >= 32
    view = service.client.get(_path(shown["url"]), headers=JSON)
    assert view.status_code == 200 and view.headers["cache-control"] == "no-store"
    body = view.json()
    assert body["enterprise"] == {"name": ent.name, "uscc": ent.uscc}
    assert [v["number"] for v in body["licences"]] == [ent.food_licence["number"]]
    assert "fields" not in body["licences"][0] and "经营场所" not in view.text
    assert body["expires_at"] == shown["expires_at"] and 55 <= body["expires_in_seconds"] <= 60
    page = service.client.get(_path(shown["url"]))
    assert page.status_code == 200 and ent.food_licence["number"] in page.text and "亮照" in page.text
    png = service.client.get(_path(shown["qr_url"]))
    assert png.status_code == 200 and _qr(png.content) == [shown["url"]]
    assert len(_audited(service, "show.create", shown["id"])) == 1


def test_show_all_current_lists_business_licence_first(service, ent) -> None:
    shown = _show(service, ent, all_current=True, expires_in_seconds=30)
    body = service.client.get(_path(shown["url"]), headers=JSON).json()
    assert [v["licence_type"] for v in body["licences"]] == ["YYZZ", "SPJY"]


def test_show_is_410_once_expired(service, ent) -> None:
    shown = _show(service, ent, all_current=True, expires_in_seconds=30)
    with clock.frozen(clock.now() + timedelta(seconds=31)):
        r = service.client.get(_path(shown["url"]), headers=JSON)
        page = service.client.get(_path(shown["url"]))
        png = service.client.get(_path(shown["qr_url"]))
    assert r.status_code == 410 and r.json()["error"]["code"] == "gone" and "expired" in r.json()["error"]["message"]
    assert page.status_code == 410 and "亮照码已失效" in page.text and "此码已过期" in page.text
    assert png.status_code == 410


def test_show_is_410_once_the_business_licence_is_revoked(service, ent) -> None:
    shown = _show(service, ent, all_current=True, expires_in_seconds=600)
    _revoke(service, service.market, ent.business_licence["id"])
    r = service.client.get(_path(shown["url"]), headers=JSON)
    assert r.status_code == 410 and "business licence was revoked" in r.json()["error"]["message"]
    page = service.client.get(_path(shown["url"]))
    assert page.status_code == 410 and "营业执照已撤销" in page.text


def test_show_duration_is_30_to_600_seconds(service, ent) -> None:
    for seconds in (29, 601):
        r = service.client.post(
            "/api/v1/enterprise/show", headers=ent.auth, json={"all_current": True, "expires_in_seconds": seconds}
        )
        assert r.status_code == 422 and r.json()["error"]["field"] == "expires_in_seconds"


def test_show_of_another_holders_licence_is_422(service, ent, other_ent) -> None:
    body = {"licence_ids": [other_ent.food_licence["id"]], "expires_in_seconds": 60}
    r = service.client.post("/api/v1/enterprise/show", headers=ent.auth, json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == "licence_ids"


def test_unknown_show_code_is_404(service) -> None:
    r = service.client.get("/l/" + "A" * 32, headers=JSON)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


# --- words ------------------------------------------------------------------------------------


def test_a_department_key_on_an_enterprise_route_says_what_it_is_not(service) -> None:
    r = service.client.get("/api/v1/enterprise/licences", headers=service.health.auth)
    assert r.status_code == 401 and r.json()["error"]["message"] == "this is not an enterprise token"
    r = service.client.get("/api/v1/licence-types", headers={"Authorization": "Bearer cse_abc_def"})
    assert r.status_code == 401 and r.json()["error"]["message"] == "this is not a department API key"


def test_a_used_up_share_link_says_so_in_a_sentence(service, ent, grant) -> None:
    g = grant(max_downloads=1)
    view = service.client.get(_path(g["share_url"]), headers=JSON).json()
    url = _path(view["licences"][0]["download_url"])
    assert service.client.get(url).status_code == 200
    refused = service.client.get(url)
    assert refused.status_code == 410
    assert refused.json()["error"]["message"] == "this share link has no downloads left (下载次数已用完)"
    page = service.client.get(_path(g["share_url"]), headers=JSON)
    assert page.json()["error"]["message"] == "this share link has no downloads left (下载次数已用完)"
