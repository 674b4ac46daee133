"""`/enterprise/sign` respects what it signs: a certification that forbids new fields is a 409."""

from __future__ import annotations

from tests.support.pdfcheck import signature_status


def _sign(service, ent, pdf: bytes):
    return service.client.post(
        "/api/v1/enterprise/sign", headers=ent.auth, files={"file": ("licence.pdf", pdf, "application/pdf")}
    )


def test_signing_a_department_certified_licence_is_409_and_says_why(service, ent) -> None:
    licence = service.client.get(ent.food_licence["pdf_url"], headers=service.health.auth).content
    r = _sign(service, ent, licence)
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["code"] == "conflict" and error["field"] == "file"
    assert "DocMDP level 2" in error["message"] and "Sign the original document" in error["message"]
    _sig, status = signature_status(service.ctx, licence)  # the licence itself is untouched and verifies
    assert status.intact and status.valid and status.docmdp_ok is not False
