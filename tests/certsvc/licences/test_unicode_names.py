"""Names in characters newer than Unicode 3.2 (CJK Extension C, emoji) work in certificates: such a
department issues licences and such an enterprise signs, and both verify (issue 11, finding 5)."""

from __future__ import annotations

from io import BytesIO

from cryptography import x509
from cryptography.x509.oid import NameOID
from reportlab.pdfgen import canvas

from tests.support.data import random_uscc
from tests.support.pdfcheck import signature_status
from tests.support.service import make_enterprise

NEW_CHARACTERS = "𪜀😀"  # U+2A700 (Unicode 5.2), U+1F600 (Unicode 6.1): both unassigned in Unicode 3.2


def _signer_names(service, pdf: bytes) -> tuple[str, str]:
    """(O, CN) of the certificate that made the first signature, as pyHanko reads it."""
    sig, status = signature_status(service.ctx, pdf)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    cert = x509.load_der_x509_certificate(sig.signer_cert.dump())
    org = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(org[0].value) if org else "", str(cn[0].value)


def test_department_with_a_new_character_in_its_name_issues_genuine_licences(service) -> None:
    name = f"深圳市{NEW_CHARACTERS}管理局"
    dept = service.add_department(name, "SZXZ")
    lt = {"code": "XZXK", "name": "行政许可证", "fields": [{"name": "事项", "required": True}], "validity_days": 365}
    assert service.client.post("/api/v1/licence-types", headers=dept.auth, json=lt).status_code == 201
    body = {
        "licence_type": "XZXK",
        "holder_uscc": random_uscc(),
        "holder_name": f"深圳市{NEW_CHARACTERS}餐饮有限公司",
        "fields": {"事项": "许可"},
    }
    r = service.client.post("/api/v1/licences", headers=dept.auth, json=body)
    assert r.status_code == 201, r.text
    pdf = service.client.get(f"/api/v1/licences/{r.json()['id']}/pdf", headers=dept.auth).content
    assert name in _signer_names(service, pdf)  # the legal name, whole, in the seal certificate
    v = service.client.post("/api/v1/verify", files={"file": ("l.pdf", pdf, "application/pdf")}).json()
    assert v["verdict"] == "genuine", v
    assert v["licence"]["issuer"] == name


def _plain_pdf() -> bytes:
    buf = BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, "Commitment letter")
    c.save()
    return buf.getvalue()


def test_enterprise_with_a_new_character_in_its_name_signs(service) -> None:
    ent = make_enterprise(service, f"深圳市{NEW_CHARACTERS}贸易有限公司")
    r = service.client.post(
        "/api/v1/enterprise/sign", headers=ent.auth, files={"file": ("letter.pdf", _plain_pdf(), "application/pdf")}
    )
    assert r.status_code == 200, r.text
    assert ent.name in _signer_names(service, r.content)
    v = service.client.post("/api/v1/verify", files={"file": ("signed.pdf", r.content, "application/pdf")}).json()
    assert v["signer"]["name"] == ent.name
    assert v["signer"]["uscc"] == ent.uscc
