"""POST /api/v1/verify: verdicts on real issued PDFs and on tampered copies (SPEC: Verification)."""

from __future__ import annotations

from io import BytesIO

import pytest

from tests.support import tampering


def _pdf(service, lic) -> bytes:
    return service.client.get(f"/api/v1/licences/{lic['id']}/pdf", headers=service.health.auth).content


def _verify(service, data: bytes, name: str = "licence.pdf"):
    r = service.client.post("/api/v1/verify", files={"file": (name, data, "application/pdf")})
    assert r.status_code == 200, r.text
    return r.json()


def test_genuine_issued_pdf(service, issue_food) -> None:
    lic = issue_food()
    body = _verify(service, _pdf(service, lic))
    assert body["verdict"] == "genuine"
    assert body["licence"]["number"] == lic["number"]
    assert body["licence"]["status"] == "valid"
    assert body["signer"]["name"] == service.health.name
    assert all(c["ok"] for c in body["checks"])


def test_suspended_licence_is_a_genuine_file_with_suspended_status(service, issue_food) -> None:
    lic = issue_food()
    pdf = _pdf(service, lic)
    service.client.post(f"/api/v1/licences/{lic['id']}/suspend", headers=service.health.auth, json={"reason": "整改"})
    body = _verify(service, pdf)
    assert body["verdict"] == "genuine"
    assert body["licence"]["status"] == "suspended"


def test_superseded_version_shows_superseded(service, issue_food) -> None:
    lic = issue_food()
    pdf = _pdf(service, lic)
    service.client.post(
        f"/api/v1/licences/{lic['id']}/amend", headers=service.health.auth, json={"fields": {"经营项目": "糕点"}}
    )
    body = _verify(service, pdf)
    assert body["verdict"] == "genuine"
    assert body["licence"]["status"] == "superseded"


def test_one_byte_changed_is_not_genuine(service, issue_food) -> None:
    pdf = bytearray(_pdf(service, issue_food()))
    i = pdf.index(b"/Title") + 8  # inside the signed range: the document information
    pdf[i] = pdf[i] ^ 0x01
    body = _verify(service, bytes(pdf))
    assert body["verdict"] in ("signature_invalid", "modified_after_sealing", "malformed")


def test_truncated_file_is_not_genuine(service, issue_food) -> None:
    pdf = _pdf(service, issue_food())
    body = _verify(service, pdf[: len(pdf) // 2])
    assert body["verdict"] in ("malformed", "signature_invalid")


def test_bytes_appended_after_sealing(service, issue_food) -> None:
    pdf = _pdf(service, issue_food())
    body = _verify(service, pdf + b"\n% appended\n")
    assert body["verdict"] == "modified_after_sealing"


def test_page_added_in_an_incremental_update(service, issue_food) -> None:
    body = _verify(service, tampering.add_page(_pdf(service, issue_food())))
    assert body["verdict"] == "modified_after_sealing"


def test_annotation_added_in_an_incremental_update(service, issue_food) -> None:
    body = _verify(service, tampering.add_annotation(_pdf(service, issue_food())))
    assert body["verdict"] == "modified_after_sealing"


def test_form_field_added_in_an_incremental_update(service, issue_food) -> None:
    body = _verify(service, tampering.add_text_field(_pdf(service, issue_food())))
    assert body["verdict"] == "modified_after_sealing"


def test_resigned_by_a_certificate_not_from_our_root(service, issue_food, foreign_signer) -> None:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    pdf = _pdf(service, issue_food())
    w = IncrementalPdfFileWriter(BytesIO(pdf))
    out = signers.sign_pdf(w, signers.PdfSignatureMetadata(field_name="Forger"), signer=foreign_signer)
    body = _verify(service, out.getvalue())
    assert body["verdict"] in ("modified_after_sealing", "unknown_signer")


def test_pdf_signed_only_by_a_foreign_ca_is_unknown_signer(service, foreign_signer) -> None:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    plain = _plain_pdf()
    out = signers.sign_pdf(
        IncrementalPdfFileWriter(BytesIO(plain)), signers.PdfSignatureMetadata(field_name="S"), signer=foreign_signer
    )
    assert _verify(service, out.getvalue())["verdict"] == "unknown_signer"


def _plain_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buf = BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, "plain document")
    c.save()
    return buf.getvalue()


def test_unsigned_pdf_is_no_signature(service) -> None:
    assert _verify(service, _plain_pdf())["verdict"] == "no_signature"


def test_not_a_pdf_is_malformed(service) -> None:
    assert _verify(service, b"hello, not a pdf")["verdict"] == "malformed"


def test_department_signed_file_never_issued_is_not_issued_here(service) -> None:
    """体外循环: a real department seal on a document the service has no record of."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from sqlmodel import Session

    ctx = service.ctx
    with Session(ctx.engine) as s:
        cert = ctx.keyring.current(s, "department", service.health.id)
    out = signers.sign_pdf(
        IncrementalPdfFileWriter(BytesIO(_plain_pdf())),
        signers.PdfSignatureMetadata(field_name="DeptSeal"),
        signer=ctx.keyring.signer(cert),
    )
    assert _verify(service, out.getvalue())["verdict"] == "not_issued_here"


def test_upload_over_20_mb_is_413(service) -> None:
    big = b"%PDF-1.7\n" + b"0" * (20 * 1024 * 1024 + 10)
    r = service.client.post("/api/v1/verify", files={"file": ("big.pdf", big, "application/pdf")})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large"


def test_missing_file_field_is_422(service) -> None:
    r = service.client.post("/api/v1/verify", files={"other": ("x.pdf", b"%PDF-", "application/pdf")})
    assert r.status_code == 422
    assert "file" in r.json()["error"]["message"]


@pytest.fixture(scope="session")
def foreign_signer(tmp_path_factory):
    from keys.ca import Subject, issue_leaf, make_root, to_asn1
    from keys.files import FileKeyBackend

    backend = FileKeyBackend(tmp_path_factory.mktemp("foreign"), b"x")
    root = make_root(backend, "root", Subject("Forged Root CA"))
    leaf = issue_leaf(backend, "root", root, "leaf", Subject("深圳市卫生健康委员会", "深圳市卫生健康委员会"))
    return backend.pdf_signer("leaf", to_asn1(leaf), [to_asn1(leaf), to_asn1(root)])
