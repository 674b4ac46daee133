"""verify_pdf on genuine licences, marked copies, and each kind of tampering (issue 3)."""

from __future__ import annotations

import pytest

from verify.report import Verdict
from verify.verifier import verify_pdf


def checks(report) -> dict[str, bool]:
    return {c.name: c.ok for c in report.checks}


def test_genuine_sealed_licence_is_genuine(kit, trust, issued):
    report = verify_pdf(kit.seal(), trust, issued)
    assert report.verdict is Verdict.GENUINE, report.diagnostics()
    assert all(c.ok for c in report.checks)
    assert report.signer is not None
    assert report.signer.owner_kind == "department"
    assert report.signer.uscc == "11100000000013127D"
    assert report.signer.name == "测试市场监管局"


def test_marked_copy_with_service_signature_is_genuine(kit, trust, issued):
    report = verify_pdf(kit.mark(kit.seal()), trust, issued)
    assert report.verdict is Verdict.GENUINE, report.diagnostics()
    assert [s.field_name for s in report.later_signatures] == ["Mark1"]
    assert report.later_signatures[0].owner_kind == "service"


def test_marked_copy_carries_the_signed_reason_without_publishing_it(kit, trust, issued):
    report = verify_pdf(kit.mark(kit.seal(), reason="certsvc grant g-123"), trust, issued)
    assert report.verdict is Verdict.GENUINE, report.diagnostics()
    assert report.findings is not None
    assert [s.reason for s in report.findings.signatures] == [None, "certsvc grant g-123"]
    assert [s.reason for s in report.later_signatures] == ["certsvc grant g-123"]
    assert "reason" not in report.to_dict()["later_signatures"][0]


def test_signed_reason_is_bounded(kit, trust, issued):
    report = verify_pdf(kit.mark(kit.seal(), reason="x" * 5000), trust, issued)
    assert report.later_signatures[0].reason == "x" * 500


def test_two_service_marks_are_genuine(kit, trust, issued):
    report = verify_pdf(kit.mark(kit.mark(kit.seal()), n=2), trust, issued)
    assert report.verdict is Verdict.GENUINE, report.diagnostics()
    assert [s.field_name for s in report.later_signatures] == ["Mark1", "Mark2"]


def test_one_byte_changed_in_signed_range_is_signature_invalid(kit, trust, issued):
    # pyHanko reports the seal as not intact (digest mismatch): the signature no longer matches.
    report = verify_pdf(kit.flip_byte(kit.seal(), b"Holder: Test"), trust, issued)
    assert report.verdict is Verdict.SIGNATURE_INVALID, report.diagnostics()
    assert checks(report)["signature_intact"] is False


def test_bytes_appended_after_eof_is_modified(kit, trust, issued):
    report = verify_pdf(kit.seal() + b"\n% appended after signing\n", trust, issued)
    assert report.verdict is Verdict.MODIFIED_AFTER_SEALING, report.diagnostics()
    assert checks(report)["covers_file"] is False


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.999])
def test_truncated_is_malformed_or_invalid(kit, trust, issued, keep):
    sealed = kit.seal()
    report = verify_pdf(sealed[: int(len(sealed) * keep)], trust, issued)
    assert report.verdict in (Verdict.MALFORMED, Verdict.SIGNATURE_INVALID, Verdict.NO_SIGNATURE), report.diagnostics()


def test_page_added_is_modified(kit, trust, issued):
    report = verify_pdf(kit.add_page(kit.seal()), trust, issued)
    assert report.verdict is Verdict.MODIFIED_AFTER_SEALING, report.diagnostics()


def test_annotation_added_is_modified(kit, trust, issued):
    report = verify_pdf(kit.add_annotation(kit.seal()), trust, issued)
    assert report.verdict is Verdict.MODIFIED_AFTER_SEALING, report.diagnostics()


def test_form_field_filled_is_modified(kit, trust, issued):
    sealed = kit.seal(kit.licence_pdf(with_text_field=True))
    assert verify_pdf(sealed, trust, issued).verdict is Verdict.GENUINE
    report = verify_pdf(kit.fill_field(sealed), trust, issued)
    assert report.verdict is Verdict.MODIFIED_AFTER_SEALING, report.diagnostics()


def test_form_field_added_is_modified(kit, trust, issued):
    report = verify_pdf(kit.add_text_field(kit.seal()), trust, issued)
    assert report.verdict is Verdict.MODIFIED_AFTER_SEALING, report.diagnostics()


def test_resigned_by_foreign_ca_is_modified(kit, trust, issued):
    report = verify_pdf(kit.sign(kit.seal(), "foreign", "Other"), trust, issued)
    assert report.verdict is Verdict.MODIFIED_AFTER_SEALING, report.diagnostics()
    assert checks(report)["later_signatures_by_service"] is False


def test_signed_only_by_foreign_ca_is_unknown_signer(kit, trust, issued):
    report = verify_pdf(kit.seal(who="foreign"), trust, issued)
    assert report.verdict is Verdict.UNKNOWN_SIGNER, report.diagnostics()


def test_department_seal_unknown_hash_is_not_issued_here(kit, trust, issued):
    report = verify_pdf(kit.seal(record=False), trust, issued)
    assert report.verdict is Verdict.NOT_ISSUED_HERE, report.diagnostics()
    assert checks(report)["signer_known"] is True
