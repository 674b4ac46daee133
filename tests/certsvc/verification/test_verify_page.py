"""Issue 16: ``/`` and the ``/verify`` page — upload a PDF or paste QR text, read the verdict and its
checks in Chinese and English, download a verification report (验证报告) sealed by the service
that itself verifies ``genuine`` as a report (SPEC "Public and enterprise pages")."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from certsvc.core import clock
from certsvc.db.models import AuditEvent
from tests.support import tampering
from tests.support.pdfcheck import signature_status

REPORT_LINK = re.compile(r'href="(/verify/reports/[0-9a-f]{32}\.pdf)"')


def _pdf(service, lic) -> bytes:
    return service.client.get(f"/api/v1/licences/{lic['id']}/pdf", headers=service.health.auth).content


def _page(service, data: bytes, name: str = "licence.pdf"):
    return service.client.post("/verify", files={"file": (name, data, "application/pdf")})


def _api(service, data: bytes) -> dict:
    r = service.client.post("/api/v1/verify", files={"file": ("x.pdf", data, "application/pdf")})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def genuine(service) -> tuple[dict, bytes, str]:
    """A valid food licence, its PDF, and the result page of uploading it (one upload for the module)."""
    r = service.client.post("/api/v1/licences", headers=service.health.auth, json=_food_body())
    assert r.status_code == 201, r.text
    lic = r.json()
    pdf = _pdf(service, lic)
    page = _page(service, pdf)
    assert page.status_code == 200, page.text
    return lic, pdf, page.text


@pytest.fixture(scope="module")
def report(service, genuine) -> bytes:
    link = REPORT_LINK.search(genuine[2])
    assert link, "the result page links to its report"
    r = service.client.get(link.group(1))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert "attachment" in r.headers["content-disposition"]
    return r.content


def _food_body() -> dict:
    from tests.support.data import food_licence_body

    return food_licence_body()


def test_home_explains_the_service_and_links_to_every_place(service) -> None:
    r = service.client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    for href in ('href="/verify"', 'href="/catalogue"', 'href="/api/v1/trust-list"', 'href="/docs"'):
        assert href in r.text
    assert "电子证照" in r.text and "Electronic licences" in r.text
    assert "<script" not in r.text


def test_verify_form_has_an_upload_and_a_paste_form_and_no_scripts(service) -> None:
    r = service.client.get("/verify")
    assert r.status_code == 200
    assert 'enctype="multipart/form-data"' in r.text and 'name="file"' in r.text
    assert 'action="/verify/qr"' in r.text and 'name="text"' in r.text
    assert "<script" not in r.text
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "form-action 'self'" in csp


def test_genuine_upload_shows_genuine_and_valid_with_bilingual_checks(genuine) -> None:
    lic, _, html = genuine
    assert 'data-verdict="genuine"' in html and 'data-status="valid"' in html
    assert "真实有效" in html and "Genuine and valid" in html
    assert lic["number"] in html
    assert "签章完好" in html and "Seal intact" in html  # a check in both languages
    assert "本服务签发" in html and "Issued by this service" in html
    assert "签发 issued" in html  # the status history


def test_api_checks_carry_labels_in_both_languages(service, genuine) -> None:
    body = _api(service, genuine[1])
    assert body["verdict"] == "genuine"
    for c in body["checks"]:
        assert c["label_zh"] and c["label_en"] and c["detail_zh"] and c["detail"], c
    intact = next(c for c in body["checks"] if c["name"] == "signature_intact")
    assert intact["label_zh"] == "签章完好" and intact["label_en"] == "Seal intact"


def test_tampered_upload_says_modified_and_which_check_failed(service, genuine) -> None:
    r = _page(service, tampering.add_page(genuine[1]))
    assert r.status_code == 200
    assert 'data-verdict="modified_after_sealing"' in r.text
    assert "已被篡改" in r.text
    assert re.search(r'data-check="no_changes_after_sealing" data-ok="false"', r.text)
    assert "签章之后文件内容被改动过" in r.text
    assert "data-original-only" in r.text  # the licence record is not what this file shows


def test_report_is_sealed_by_the_service_and_verifies_genuine_as_a_report(service, genuine, report) -> None:
    body = _api(service, report)
    assert body["verdict"] == "genuine", body["checks"]
    assert "licence" not in body and "receipt" not in body
    rep = body["report"]
    assert rep["kind"] == "report" and rep["verdict"] == "genuine" and rep["source"] == "pdf"
    assert rep["checked_sha256"] == _api(service, genuine[1])["file"]["sha256"]
    assert body["signer"]["owner_kind"] == "service"
    page = _page(service, report, "report.pdf")
    assert "真实的验证报告" in page.text and 'data-kind="report"' in page.text


def _pdftotext(pdf: bytes) -> str:
    """The report's text as poppler extracts it (an independent reader)."""
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.decode()


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_report_states_what_was_checked_in_words(service, genuine, report) -> None:
    text = _pdftotext(report)
    lic = genuine[0]
    assert "验证报告" in text and "Verification report" in text
    assert lic["number"] in text and "真实有效" in text
    assert _api(service, genuine[1])["file"]["sha256"] in text.replace("\n", "")
    assert "签章完好" in text and "签发" in text


def test_report_seal_validates_with_pyhanko_against_the_root(service, report) -> None:
    sig, status = signature_status(service.ctx, report)
    assert status.bottom_line, status.pretty_print_details()
    assert sig.field_name == "ServiceSeal" and "Service Seal" in sig.signer_cert.subject.human_friendly


def test_report_downloads_again_as_the_same_file_and_is_audited_once(service, genuine, report) -> None:
    link = REPORT_LINK.search(genuine[2])
    assert link
    again = service.client.get(link.group(1))
    assert again.status_code == 200 and again.content == report
    with Session(service.ctx.engine) as s:
        sealed = s.exec(select(AuditEvent).where(AuditEvent.action == "verification.report")).all()
        checks = s.exec(select(AuditEvent).where(AuditEvent.action == "verification.check")).all()
    assert len(sealed) == 1 and checks


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_report_on_a_tampered_file_says_the_licence_shown_is_the_original(service, genuine) -> None:
    page = _page(service, tampering.add_page(genuine[1]))
    link = REPORT_LINK.search(page.text)
    assert link
    text = _pdftotext(service.client.get(link.group(1)).content)
    assert "已被篡改" in text and "原件记录" in text and "真实有效" not in text


def test_tampered_report_is_not_genuine(service, report) -> None:
    body = _api(service, tampering.add_page(report))
    assert body["verdict"] == "modified_after_sealing"


# A forger names its signature field and its certificate whatever it likes: here, the service's own words.
LYING_FIELD = "核验结论：真实有效 Genuine and valid. 本文件已经电子证照核验服务核验，所有签章完好，请放心使用。" * 3
LYING_CN = "电子证照核验服务 (the report seal of this service) — 本签章真实有效，可以采信 " * 3


def _lying_signer(tmp_path_factory):
    from keys.ca import Subject, issue_leaf, make_root, to_asn1
    from keys.files import FileKeyBackend

    backend = FileKeyBackend(tmp_path_factory.mktemp("liar"), b"x")
    root = make_root(backend, "root", Subject("Forged Root CA"))
    leaf = issue_leaf(backend, "root", root, "leaf", Subject(LYING_CN))
    return backend.pdf_signer("leaf", to_asn1(leaf), [to_asn1(leaf), to_asn1(root)])


def _bounded_and_quoted(text: str, whole: str) -> None:
    assert whole not in text and whole[:100] not in text  # never the forger's sentence at length
    shown = re.search("'" + re.escape(whole[:20]) + "[^']*'", text)
    assert shown, text
    assert len(shown.group(0)) == 80 + 2 and shown.group(0).endswith("…'"), shown.group(0)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_a_forged_signatures_name_and_signer_are_quoted_and_cut_on_the_page_and_in_the_report(
    service, genuine, tmp_path_factory
) -> None:
    from io import BytesIO

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    w = IncrementalPdfFileWriter(BytesIO(genuine[1]))
    meta = signers.PdfSignatureMetadata(field_name=LYING_FIELD)
    forged = signers.sign_pdf(w, meta, signer=_lying_signer(tmp_path_factory)).getvalue()
    page = _page(service, forged)
    assert page.status_code == 200 and 'data-verdict="modified_after_sealing"' in page.text
    details = " ".join(c["detail"] for c in _api(service, forged)["checks"])
    for whole in (LYING_FIELD, LYING_CN):
        _bounded_and_quoted(details, whole)
        _bounded_and_quoted(page.text.replace("&#39;", "'"), whole)
    link = REPORT_LINK.search(page.text)
    assert link
    text = _pdftotext(service.client.get(link.group(1)).content)
    flat = re.sub(r"\s+", "", text)
    for whole in (LYING_FIELD, LYING_CN):
        assert re.sub(r"\s+", "", whole)[:100] not in flat
        assert re.sub(r"\s+", "", whole)[:40] in flat  # shown, as a quoted beginning
    assert "…'" in flat


def test_report_link_expires_after_a_day(service, genuine, monkeypatch) -> None:
    r = service.client.post("/verify/qr", data={"text": genuine[0]["verify_url"]})
    link = REPORT_LINK.search(r.text)
    assert link
    later = clock.now() + timedelta(hours=25)
    monkeypatch.setattr("certsvc.verification.reports.now", lambda: later)
    gone = service.client.get(link.group(1))
    assert gone.status_code == 410
    assert service.client.get("/verify/reports/" + "0" * 32 + ".pdf").status_code == 404


def test_sweep_removes_unsealed_checks_after_a_day_and_keeps_sealed_reports(service, genuine, report) -> None:
    from certsvc.db.work import VerificationReport
    from certsvc.sweeps import run_sweep

    r = service.client.post("/verify/qr", data={"text": genuine[0]["verify_url"]})
    link = REPORT_LINK.search(r.text)
    assert link
    unsealed = link.group(1).rsplit("/", 1)[1].removesuffix(".pdf")
    assert run_sweep(service.ctx.engine, "verification_checks", clock.now()) == 0  # not yet a day old
    removed = run_sweep(service.ctx.engine, "verification_checks", clock.now() + timedelta(hours=25))
    assert removed >= 1
    with Session(service.ctx.engine) as s:
        assert s.get(VerificationReport, unsealed) is None
    assert _api(service, report)["verdict"] == "genuine"  # the sealed report's record stays
    assert service.client.get(link.group(1)).status_code == 404


def test_pasted_qr_text_shows_the_licence(service, genuine) -> None:
    r = service.client.post("/verify/qr", data={"text": genuine[0]["verify_url"]})
    assert r.status_code == 200
    assert 'data-verdict="genuine"' in r.text and "真实有效" in r.text and genuine[0]["number"] in r.text


def test_pasted_garbage_is_not_issued_here_or_malformed_in_words(service) -> None:
    r = service.client.post("/verify/qr", data={"text": "hello, this is not a licence"})
    assert r.status_code == 200
    assert 'data-verdict="genuine"' not in r.text and "二维码内容" in r.text


@pytest.mark.parametrize(
    ("files", "data", "status", "words"),
    [
        (None, {"x": "1"}, 422, "请选择一个不超过"),
        ({"file": ("empty.pdf", b"", "application/pdf")}, None, 422, "请选择一个不超过"),
        ({"file": ("photo.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "application/pdf")}, None, 422, "它不是 PDF"),
    ],
    ids=["no-file", "empty", "not-a-pdf"],
)
def test_bad_uploads_answer_the_form_with_the_reason(service, files, data, status, words) -> None:
    r = service.client.post("/verify", files=files, data=data)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("text/html")
    assert words in r.text and 'data-error-field="file"' in r.text and 'name="file"' in r.text


def test_too_big_upload_answers_a_page_413(service, monkeypatch) -> None:
    monkeypatch.setattr(service.ctx, "settings", replace(service.ctx.settings, max_upload_bytes=1024))
    r = _page(service, b"%PDF-1.7\n" + b"0" * 2048)
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("text/html") and "文件过大" in r.text


def test_empty_qr_text_answers_the_form_422(service) -> None:
    r = service.client.post("/verify/qr", data={"text": "   "})
    assert r.status_code == 422 and 'data-error-field="text"' in r.text


def test_dates_in_check_details_stay_on_one_line_and_the_rest_is_escaped() -> None:
    from certsvc.web import env

    out = str(env().filters["dates_nowrap"]("<b>signed at 2026-12-02T05:25:09+00:00</b>"))
    assert out == '&lt;b&gt;signed at <span class="date">2026-12-02T05:25:09+00:00</span>&lt;/b&gt;'


def test_report_offline_is_genuine_as_a_report_without_a_licence_status(service, report) -> None:
    from certsvc.verification.answer_text import describe, exit_code
    from verify.offline import verify_offline

    trust_list = service.client.get("/api/v1/trust-list").json()
    out = verify_offline(report, trust_list, None)
    assert out["verdict"] == "genuine" and out["report"]["kind"] == "report" and "licence" not in out
    assert all(c["label_zh"] for c in out["checks"])
    online = _api(service, report)
    assert "a report, not a licence" in describe(online) and exit_code(online) == 1
