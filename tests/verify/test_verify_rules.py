"""The finer rules of verify_pdf: signer roles, revocation, limits, and non-PDF input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from verify.report import Verdict
from verify.verifier import verify_pdf


def checks(report) -> dict[str, bool]:
    return {c.name: c.ok for c in report.checks}


def test_not_a_pdf_is_malformed(trust, issued):
    for data in (b"", b"hello world", b"\x89PNG\r\n\x1a\n" + b"\0" * 100):
        report = verify_pdf(data, trust, issued)
        assert report.verdict is Verdict.MALFORMED
        assert checks(report)["file_readable"] is False


def test_over_20_mb_is_refused(trust, issued):
    report = verify_pdf(b"%PDF-1.7\n" + b"0" * (20 * 1024 * 1024), trust, issued)
    assert report.verdict is Verdict.MALFORMED
    assert checks(report)["within_limits"] is False


def test_unsigned_pdf_has_no_signature(kit, trust, issued):
    report = verify_pdf(kit.licence_pdf(), trust, issued)
    assert report.verdict is Verdict.NO_SIGNATURE


def test_too_many_signatures_is_malformed(kit, trust, issued):
    report = verify_pdf(kit.mark(kit.seal()), trust, issued, max_signatures=1)
    assert report.verdict is Verdict.MALFORMED
    assert checks(report)["within_limits"] is False


def test_too_many_revisions_is_malformed(kit, trust, issued):
    report = verify_pdf(kit.mark(kit.seal()), trust, issued, max_revisions=2)
    assert report.verdict is Verdict.MALFORMED
    assert "revisions" in report.diagnostics()


def test_seal_by_revoked_department_cert_is_signature_invalid(kit, pki, issued):
    sealed = kit.seal(who="dept2")
    revoked = pki.trust(dept2_revoked_from=datetime.now(UTC) - timedelta(days=1))
    report = verify_pdf(sealed, revoked, issued)
    assert report.verdict is Verdict.SIGNATURE_INVALID
    assert checks(report)["signer_not_revoked"] is False


def test_revocation_after_sealing_keeps_the_seal_genuine(kit, pki, issued):
    sealed = kit.seal(who="dept2")
    later = pki.trust(dept2_revoked_from=datetime.now(UTC) + timedelta(days=1))
    assert verify_pdf(sealed, later, issued).verdict is Verdict.GENUINE


def test_enterprise_signed_document_is_genuine_with_signer(kit, trust, issued):
    signed = kit.sign(kit.licence_pdf("Contract"), "enterprise", "EntSig", certify=True)
    report = verify_pdf(signed, trust, issued)  # not looked up: enterprises sign their own papers
    assert report.verdict is Verdict.GENUINE, report.diagnostics()
    assert report.signer.owner_kind == "enterprise"
    assert report.signer.uscc == "91350100M000100Y43"
    assert checks(report)["enterprise_signature"] is True


def test_cert_from_our_root_but_not_on_the_list_is_unknown_signer(kit, trust, issued):
    report = verify_pdf(kit.seal(who="stray"), trust, issued)
    assert report.verdict is Verdict.UNKNOWN_SIGNER


def test_service_certificate_cannot_seal(kit, trust, issued):
    report = verify_pdf(kit.seal(who="service"), trust, issued)
    assert report.verdict is Verdict.UNKNOWN_SIGNER


def test_later_signature_by_a_department_is_modified(kit, trust, issued):
    report = verify_pdf(kit.sign(kit.seal(), "dept", "Again"), trust, issued)
    assert report.verdict is Verdict.MODIFIED_AFTER_SEALING


def test_annotation_after_marking_is_modified(kit, trust, issued):
    report = verify_pdf(kit.add_annotation(kit.mark(kit.seal())), trust, issued)
    assert report.verdict is Verdict.MODIFIED_AFTER_SEALING


def test_marked_copy_of_an_unknown_document_is_not_issued_here(kit, trust, issued):
    report = verify_pdf(kit.mark(kit.seal(record=False)), trust, issued)
    assert report.verdict is Verdict.NOT_ISSUED_HERE


def test_marked_copy_looks_up_the_sealed_revision(kit, trust, issued):
    sealed = kit.seal()
    report = verify_pdf(kit.mark(sealed), trust, issued)
    assert report.verdict is Verdict.GENUINE
    assert issued(report.sealed_revision_sha256)
    assert report.findings.sha256 != report.sealed_revision_sha256


def test_report_serialises_to_json(kit, trust, issued):
    report = verify_pdf(kit.mark(kit.seal()), trust, issued)
    d = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
    assert d["verdict"] == "genuine"
    assert {"name", "ok", "detail"} <= set(d["checks"][0])
    assert d["signer"]["owner_kind"] == "department"
    assert d["later_signatures"][0]["field_name"] == "Mark1"
