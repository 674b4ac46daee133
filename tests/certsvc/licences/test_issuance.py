"""Issuing a licence: the response, the sealed PDF, its text and its QR code (SPEC: POST /licences)."""

from __future__ import annotations

import hashlib

from pyhanko.sign.validation.status import SignatureCoverageLevel

from tests.support.data import food_licence_body, random_uscc
from tests.support.pdfcheck import page_text, qr_texts, signature_status


def test_issue_returns_the_spec_fields(issue_food) -> None:
    body = issue_food()
    for key in ("id", "identifier", "number", "version", "status", "verify_url", "pdf_url", "sha256"):
        assert key in body, key
    assert body["status"] == "valid"
    assert body["version"] == 1
    assert body["identifier"].startswith("1.2.156.3005.2.")
    assert body["verify_url"].startswith("http://testserver/v/")


def test_pdf_download_matches_the_announced_sha256(service, issue_food) -> None:
    body = issue_food()
    r = service.client.get(body["pdf_url"].removeprefix("http://testserver"), headers=service.health.auth)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(r.content).hexdigest() == body["sha256"]


def _pdf(service, body) -> bytes:
    return service.client.get(f"/api/v1/licences/{body['id']}/pdf", headers=service.health.auth).content


def test_sealed_pdf_validates_with_the_service_root_trusted(service, issue_food) -> None:
    pdf = _pdf(service, issue_food())
    _sig, status = signature_status(service.ctx, pdf)
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.bottom_line


def test_signer_is_the_issuing_department(service, issue_food) -> None:
    pdf = _pdf(service, issue_food())
    _sig, status = signature_status(service.ctx, pdf)
    subject = status.signing_cert.subject.native
    assert subject["common_name"] == service.health.name
    assert subject["organization_identifier"] == f"NTRCN-{service.health.uscc}"


def test_seal_is_a_pades_certification_signature_allowing_only_signatures(service, issue_food) -> None:
    from pyhanko.sign.fields import MDPPerm

    pdf = _pdf(service, issue_food())
    sig, status = signature_status(service.ctx, pdf)
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert sig.docmdp_level == MDPPerm.FILL_FORMS
    assert status.md_algorithm == "sha256"


def test_pdf_text_shows_holder_name_and_number(service, issue_food) -> None:
    body = issue_food(name="深圳市南山区王䶮堃小吃店")
    text = page_text(_pdf(service, body))
    assert "深圳市南山区王䶮堃小吃店" in text
    assert body["number"] in text


def test_qr_on_the_page_gives_the_verify_url(service, issue_food) -> None:
    body = issue_food()
    assert qr_texts(_pdf(service, body)) == [body["verify_url"]]


def test_verify_url_answers(service, issue_food) -> None:
    body = issue_food()
    r = service.client.get(body["verify_url"], headers={"Accept": "application/json"})
    assert r.status_code == 200
    assert r.json()["number"] == body["number"]


def test_get_licence_returns_the_record(service, issue_food) -> None:
    body = issue_food()
    r = service.client.get(f"/api/v1/licences/{body['id']}", headers=service.health.auth)
    assert r.status_code == 200
    assert r.json()["identifier"] == body["identifier"]
    assert r.json()["verify_url"] == body["verify_url"]


def test_batch_issues_each_item_and_reports_errors_per_item(service) -> None:
    good = food_licence_body()
    bad_uscc = food_licence_body(uscc="914403001922038217")
    missing = food_licence_body()
    del missing["fields"]["主体业态"]
    r = service.client.post(
        "/api/v1/licences:batch", headers=service.health.auth, json={"items": [good, bad_uscc, missing]}
    )
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["ok"] for x in results] == [True, False, False]
    assert results[0]["status"] == "valid"
    assert "holder_uscc" in results[1]["error"]["message"]
    assert "主体业态" in results[2]["error"]["message"]


def test_business_licence_registers_the_enterprise_with_an_activation_code(service) -> None:
    from tests.support.data import business_licence_body

    r = service.client.post("/api/v1/licences", headers=service.market.auth, json=business_licence_body())
    assert r.status_code == 201, r.text
    assert len(r.json()["activation_code"]) >= 16


def test_a_second_business_licence_for_the_same_uscc_conflicts(service) -> None:
    from tests.support.data import business_licence_body

    uscc = random_uscc()
    assert (
        service.client.post(
            "/api/v1/licences", headers=service.market.auth, json=business_licence_body(uscc)
        ).status_code
        == 201
    )
    r = service.client.post("/api/v1/licences", headers=service.market.auth, json=business_licence_body(uscc))
    assert r.status_code == 409


def test_serials_and_numbers_are_unique(issue_food) -> None:
    a, b = issue_food(), issue_food()
    assert a["number"] != b["number"]
    assert a["identifier"] != b["identifier"]


def test_issuance_is_recorded_in_the_audit_log(service, issue_food) -> None:
    from sqlmodel import Session, select

    from certsvc.db.models import AuditEvent

    body = issue_food()
    with Session(service.ctx.engine) as s:
        ev = s.exec(select(AuditEvent).where(AuditEvent.subject_id == body["id"])).all()
    assert [e.action for e in ev] == ["licence.issue"]
    assert ev[0].details["sha256"] == body["sha256"]


def test_pdf_download_by_the_department_is_recorded(service, issue_food) -> None:
    from sqlmodel import Session, select

    from certsvc.db.models import AuditEvent

    body = issue_food()
    _pdf(service, body)
    with Session(service.ctx.engine) as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.subject_id == body["id"]).order_by(AuditEvent.id))
        actions = [e.action for e in events]
    assert actions == ["licence.issue", "licence.download"]


def test_two_business_licences_for_one_uscc_in_a_batch_give_one_licence_and_one_conflict(service) -> None:
    from tests.support.data import business_licence_body

    uscc = random_uscc()
    items = [business_licence_body(uscc), business_licence_body(uscc)]
    r = service.client.post("/api/v1/licences:batch", headers=service.market.auth, json={"items": items})
    assert sorted(x["status_code"] for x in r.json()["results"]) == [201, 409]
