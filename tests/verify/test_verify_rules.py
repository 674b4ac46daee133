"""The finer rules of verify_pdf: signer roles, revocation, limits, and non-PDF input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.support.verify_kit import ENT2_USCC, ENT_USCC
from verify.analysis import analyse
from verify.report import Verdict
from verify.verifier import judge, verify_pdf


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


def test_enterprise_signed_document_is_signed_by_enterprise_never_genuine(kit, trust, issued):
    signed = kit.sign(kit.licence_pdf("Food business licence (forged)"), "enterprise", "EntSig", certify=True)
    issued.add(signed)  # even a record of the hash does not make an enterprise's paper a licence
    report = verify_pdf(signed, trust, issued)
    assert report.verdict is Verdict.SIGNED_BY_ENTERPRISE, report.diagnostics()
    assert report.signer.owner_kind == "enterprise"
    assert checks(report)["enterprise_signature"] is True
    assert "issued_here" not in checks(report)
    [signer] = report.to_dict()["signers"]
    assert signer["name"] == "测试企业有限公司" and signer["uscc"] == ENT_USCC
    assert signer["signing_time"] and signer["certificate_valid_then"] and signer["certificate_valid_now"]


def test_two_enterprises_signing_in_sequence_lists_both(kit, trust, issued):
    signed = kit.sign(kit.licence_pdf("Contract"), "enterprise", "EnterpriseSignature1", box=(60, 60, 200, 200))
    both = kit.sign(signed, "enterprise2", "EnterpriseSignature2", box=(300, 60, 440, 200))
    report = verify_pdf(both, trust, issued)
    assert report.verdict is Verdict.SIGNED_BY_ENTERPRISE, report.diagnostics()
    assert [(s["uscc"], s["field_name"]) for s in report.to_dict()["signers"]] == [
        (ENT_USCC, "EnterpriseSignature1"),
        (ENT2_USCC, "EnterpriseSignature2"),
    ]


def test_counter_signature_after_its_certificate_was_revoked_is_signature_invalid(kit, pki, issued):
    signed = kit.sign(kit.licence_pdf("Contract"), "enterprise", "EnterpriseSignature1", box=(60, 60, 200, 200))
    both = kit.sign(signed, "enterprise2", "EnterpriseSignature2", box=(300, 60, 440, 200))
    revoked = pki.trust(enterprise2_revoked_from=datetime.now(UTC) - timedelta(days=1))
    report = verify_pdf(both, revoked, issued)
    assert report.verdict is Verdict.SIGNATURE_INVALID
    assert checks(report)["later_signatures_by_enterprises"] is False


def test_enterprise_certificate_revoked_since_signing_says_valid_then_not_now(kit, pki, issued):
    signed = kit.sign(kit.licence_pdf("Contract"), "enterprise2", "EnterpriseSignature1")
    later = pki.trust(enterprise2_revoked_from=datetime.now(UTC) + timedelta(seconds=5))
    report = judge(analyse(signed, later), later, issued, now=datetime.now(UTC) + timedelta(days=1))
    assert report.verdict is Verdict.SIGNED_BY_ENTERPRISE
    [signer] = report.to_dict()["signers"]
    assert signer["certificate_valid_then"] is True and signer["certificate_valid_now"] is False


def test_enterprise_signature_followed_by_a_service_signature_is_modified(kit, trust, issued):
    signed = kit.sign(kit.licence_pdf("Contract"), "enterprise", "EnterpriseSignature1", box=(60, 60, 200, 200))
    report = verify_pdf(kit.mark(signed, n=2), trust, issued)
    assert report.verdict is Verdict.MODIFIED_AFTER_SEALING
    assert checks(report)["later_signatures_by_enterprises"] is False


def test_annotation_after_an_enterprise_counter_signature_is_modified(kit, trust, issued):
    signed = kit.sign(kit.licence_pdf("Contract"), "enterprise", "EnterpriseSignature1", box=(60, 60, 200, 200))
    both = kit.sign(signed, "enterprise2", "EnterpriseSignature2", box=(300, 60, 440, 200))
    report = verify_pdf(kit.add_annotation(both), trust, issued)
    assert report.verdict is Verdict.MODIFIED_AFTER_SEALING


def test_a_department_seal_after_an_enterprise_signature_is_modified(kit, trust, issued):
    signed = kit.sign(kit.licence_pdf("Contract"), "enterprise", "EnterpriseSignature1", box=(60, 60, 200, 200))
    report = verify_pdf(kit.sign(signed, "dept", "DeptSeal", box=(300, 60, 440, 200)), trust, issued)
    assert report.verdict is Verdict.MODIFIED_AFTER_SEALING


def test_cert_from_our_root_but_not_on_the_list_is_unknown_signer(kit, trust, issued):
    report = verify_pdf(kit.seal(who="stray"), trust, issued)
    assert report.verdict is Verdict.UNKNOWN_SIGNER


def test_service_certificate_cannot_seal(kit, trust, issued):
    report = verify_pdf(kit.seal(who="service"), trust, issued)
    assert report.verdict is Verdict.UNKNOWN_SIGNER


def test_service_seal_is_genuine_only_as_a_recorded_verification_report(kit, trust, issued):
    sealed = kit.seal(who="service", record=False)
    reports = {verify_pdf(sealed, trust, issued).sealed_revision_sha256}
    assert verify_pdf(sealed, trust, issued, is_report=reports.__contains__).verdict is Verdict.GENUINE
    unknown = verify_pdf(sealed, trust, issued, is_report=lambda _sha: False)
    assert unknown.verdict is Verdict.NOT_ISSUED_HERE


def test_department_seal_is_never_taken_for_a_report(kit, trust, issued):
    sealed = kit.seal(record=False)
    report = verify_pdf(sealed, trust, issued, is_report=lambda _sha: True)
    assert report.verdict is Verdict.NOT_ISSUED_HERE


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
