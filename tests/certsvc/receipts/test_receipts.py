"""Acceptance receipts (受理回执): sealed, verifiable by file, page and QR."""

from __future__ import annotations

from tests.support.pdfcheck import signature_status

JSON = {"Accept": "application/json"}


def test_receipt_is_sealed_and_verifies(service) -> None:
    body = {
        "applicant_name": "深圳市鹏城餐饮管理有限公司",
        "matter": "食品经营许可证核发",
        "application_number": "SQ202611220001",
        "materials_received": ["申请书", "营业执照复印件"],
        "materials_missing": [{"name": "场所平面图", "due": "2099-12-01"}],
    }
    r = service.client.post("/api/v1/receipts", headers=service.health.auth, json=body)
    assert r.status_code == 201, r.text
    rec = r.json()
    pdf = service.client.get(rec["pdf_url"], headers=service.health.auth).content
    _sig, status = signature_status(service.ctx, pdf)
    assert status.intact and status.trusted
    v = service.client.post("/api/v1/verify", files={"file": ("r.pdf", pdf, "application/pdf")}).json()
    assert v["verdict"] == "genuine" and v["receipt"]["application_number"] == "SQ202611220001"
    page = service.client.get(rec["verify_url"], headers=JSON)
    assert page.status_code == 200 and page.json()["matter"] == "食品经营许可证核发"
    assert service.client.post("/api/v1/verify/qr", json={"text": rec["verify_url"]}).json()["verdict"] == "genuine"
