"""一注到底: revoking a business licence ends the enterprise's tokens, sessions, grants and signing
certificate at that moment; suspending it makes the enterprise read-only until it is resumed; its
other licences show the holder's status; the departments that issued them are told."""

from __future__ import annotations

import re
import time
from io import BytesIO

from fastapi.testclient import TestClient
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from sqlmodel import Session, col, select

from certsvc.db.models import AuditEvent, Enterprise
from tests.support.documents import plain_pdf
from verify.trust import OwnerKind

CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


def _change(service, ent, action: str, reason: str) -> None:
    r = service.client.post(
        f"/api/v1/licences/{ent.business_licence['id']}/{action}", headers=service.market.auth, json={"reason": reason}
    )
    assert r.status_code == 200, r.text


def _revoke(service, ent) -> None:
    _change(service, ent, "revoke", "吊销：提交虚假材料")


def _sign(service, ent, pdf: bytes):
    return service.client.post(
        "/api/v1/enterprise/sign", headers=ent.auth, files={"file": ("doc.pdf", pdf, "application/pdf")}
    )


def _verify(service, pdf: bytes) -> dict:
    r = service.client.post("/api/v1/verify", files={"file": ("doc.pdf", pdf, "application/pdf")})
    assert r.status_code == 200, r.text
    return r.json()


def _grant(service, ent):
    body = {"licence_ids": [ent.food_licence["id"]], "grantee_name": "中国银行深圳分行", "purpose": "开立对公账户"}
    return service.client.post("/api/v1/enterprise/grants", headers=ent.auth, json=body)


def _enterprise_id(service, ent) -> int:
    with Session(service.ctx.engine) as s:
        return s.exec(select(Enterprise.id).where(Enterprise.uscc == ent.uscc)).one() or 0


def test_revoked_business_licence_ends_the_token_with_the_reason(service, ent) -> None:
    assert service.client.get("/api/v1/enterprise/licences", headers=ent.auth).status_code == 200
    _revoke(service, ent)
    r = service.client.get("/api/v1/enterprise/licences", headers=ent.auth)
    assert r.status_code == 401
    assert "business licence was revoked" in r.json()["error"]["message"]


def test_revoked_business_licence_ends_portal_sessions(service, ent) -> None:
    with TestClient(service.client.app, follow_redirects=False) as c:
        home = c.get("/portal")
        csrf = CSRF.search(home.text)
        assert csrf
        assert c.post("/portal/signin", data={"token": ent.token, "csrf": csrf.group(1)}).status_code == 303
        assert c.get("/portal/licences").status_code == 200
        _revoke(service, ent)
        assert c.get("/portal/licences").status_code == 303  # back to sign-in


def test_revoked_business_licence_ends_its_grants_with_410(service, ent) -> None:
    g = _grant(service, ent)
    assert g.status_code == 201, g.text
    share = g.json()["share_url"].replace("http://testserver", "")
    assert service.client.get(share, headers={"Accept": "application/json"}).status_code == 200
    _revoke(service, ent)
    page = service.client.get(share, headers={"Accept": "application/json"})
    assert page.status_code == 410
    assert "business licence was revoked" in page.json()["error"]["message"]
    download = service.client.get(f"{share}/licences/{ent.food_licence['id']}.pdf")
    assert download.status_code == 410


def test_revoked_business_licence_revokes_the_signing_certificate_from_that_moment(service, ent) -> None:
    before = _sign(service, ent, plain_pdf("购销合同"))
    assert before.status_code == 200, before.text
    _revoke(service, ent)
    ent_id = str(_enterprise_id(service, ent))
    trust = service.client.get("/api/v1/trust-list").json()
    [entry] = [e for e in trust["enterprises"] if e["uscc"] == ent.uscc]
    assert entry["revoked_from"]
    # signed before the revocation: still verifies, valid then but not now
    body = _verify(service, before.content)
    assert body["verdict"] == "signed_by_enterprise", body["checks"]
    [signer] = body["signers"]
    assert signer["certificate_valid_then"] is True and signer["certificate_valid_now"] is False
    # whoever still holds the key signs after the revocation (PDF signing times are whole seconds):
    # not a valid signature
    time.sleep(1.1)
    with Session(service.ctx.engine) as s:
        cert = service.ctx.keyring.current(s, OwnerKind.ENTERPRISE, int(ent_id))
    after = signers.sign_pdf(
        IncrementalPdfFileWriter(BytesIO(plain_pdf("事后签署"))),
        signers.PdfSignatureMetadata(field_name="Late"),
        signer=service.ctx.keyring.signer(cert),
    ).getvalue()
    assert _verify(service, after)["verdict"] == "signature_invalid"


def test_suspended_business_licence_refuses_signing_until_resumed(service, ent) -> None:
    _change(service, ent, "suspend", "责令停业整顿")
    r = _sign(service, ent, plain_pdf())
    assert r.status_code == 403
    assert "suspended" in r.json()["error"]["message"]
    _change(service, ent, "resume", "整改完毕")
    assert _sign(service, ent, plain_pdf()).status_code == 200


def test_suspended_business_licence_refuses_new_grants_but_allows_reading(service, ent) -> None:
    _change(service, ent, "suspend", "责令停业整顿")
    r = _grant(service, ent)
    assert r.status_code == 403 and "suspended" in r.json()["error"]["message"]
    assert service.client.get("/api/v1/enterprise/licences", headers=ent.auth).status_code == 200
    assert service.client.get("/api/v1/enterprise/grants", headers=ent.auth).status_code == 200
    _change(service, ent, "resume", "整改完毕")
    assert _grant(service, ent).status_code == 201


def test_other_licences_show_the_holders_status_on_v_e_and_in_verdicts(service, ent) -> None:
    _change(service, ent, "revoke", "注销")
    v_url = ent.food_licence["verify_url"].replace("http://testserver", "")
    v = service.client.get(v_url, headers={"Accept": "application/json"}).json()
    assert v["status"] == "valid" and v["holder_status"] == "revoked"
    assert "持证主体营业执照已注销" in service.client.get(v_url).text
    e = service.client.get(f"/e/{ent.uscc}", headers={"Accept": "application/json"}).json()
    assert e["holder_status"] == "revoked"
    assert {x["holder_status"] for x in e["items"]} == {"revoked"}
    assert "持证主体营业执照已注销" in service.client.get(f"/e/{ent.uscc}").text
    pdf = service.client.get(f"/api/v1/licences/{ent.food_licence['id']}/pdf", headers=service.health.auth).content
    assert _verify(service, pdf)["licence"]["holder_status"] == "revoked"


def test_departments_that_issued_other_licences_are_told(service, ent) -> None:
    _revoke(service, ent)
    with Session(service.ctx.engine) as s:
        told = s.exec(
            select(AuditEvent).where(AuditEvent.action == "holder.revoked").order_by(col(AuditEvent.id))
        ).all()
    mine = [e for e in told if e.details["holder_uscc"] == ent.uscc]
    assert [(e.subject_kind, e.subject_id) for e in mine] == [("department", str(service.health.id))]
    assert mine[0].details["licences"] == [ent.food_licence["id"]]
