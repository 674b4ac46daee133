"""The verdict on what enterprises sign, and the exit codes of the real `certsvc verify` (online and
offline): an enterprise's signature never makes a document a licence."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import answer, run_verify
from tests.support.documents import forged_licence_pdf, plain_pdf


def _sign(service, ent, pdf: bytes) -> bytes:
    r = service.client.post(
        "/api/v1/enterprise/sign", headers=ent.auth, files={"file": ("doc.pdf", pdf, "application/pdf")}
    )
    assert r.status_code == 200, r.text
    return r.content


def _verify(service, pdf: bytes) -> dict:
    r = service.client.post("/api/v1/verify", files={"file": ("doc.pdf", pdf, "application/pdf")})
    assert r.status_code == 200, r.text
    return r.json()


def _lists(service, tmp_path: Path) -> None:
    (tmp_path / "trust-list.json").write_text(service.client.get("/api/v1/trust-list").text, encoding="utf-8")
    (tmp_path / "status-list.json").write_text(service.client.get("/api/v1/status-list").text, encoding="utf-8")


def test_forged_licence_signed_by_an_enterprise_is_signed_by_enterprise(service, ent) -> None:
    body = _verify(service, _sign(service, ent, forged_licence_pdf("深圳市冒名餐饮有限公司")))
    assert body["verdict"] == "signed_by_enterprise"
    assert "licence" not in body and "receipt" not in body
    [signer] = body["signers"]
    assert (signer["name"], signer["uscc"]) == (ent.name, ent.uscc)
    assert signer["signing_time"] and signer["certificate_valid_then"] is True
    assert signer["certificate_valid_now"] is True


def test_two_enterprises_signing_in_sequence_verify_with_both_signers(service, ent, other_ent) -> None:
    both = _sign(service, other_ent, _sign(service, ent, plain_pdf("购销合同 / Sales contract")))
    body = _verify(service, both)
    assert body["verdict"] == "signed_by_enterprise", body["checks"]
    assert [s["uscc"] for s in body["signers"]] == [ent.uscc, other_ent.uscc]
    assert all(s["certificate_valid_then"] and s["certificate_valid_now"] for s in body["signers"])


def test_cli_online_forged_licence_exits_4(service, ent, tmp_path) -> None:
    pdf = tmp_path / "forged.pdf"
    pdf.write_bytes(_sign(service, ent, forged_licence_pdf("深圳市冒名餐饮有限公司")))
    r = run_verify(str(pdf), "--json", cwd=tmp_path, online=True)
    assert r.returncode == 4, r.stdout + r.stderr
    assert answer(r)["verdict"] == "signed_by_enterprise"


def test_cli_offline_forged_licence_exits_4_and_names_the_signer(service, ent, tmp_path) -> None:
    pdf = tmp_path / "forged.pdf"
    pdf.write_bytes(_sign(service, ent, forged_licence_pdf("深圳市冒名餐饮有限公司")))
    _lists(service, tmp_path)
    r = run_verify(str(pdf), "--offline", cwd=tmp_path)
    assert r.returncode == 4, r.stdout + r.stderr
    assert "verdict: signed_by_enterprise" in r.stdout and "NOT a licence" in r.stdout
    assert ent.uscc in r.stdout and "certificate valid then: yes, now: yes" in r.stdout


def test_cli_online_valid_licence_exits_0_in_words(service, ent, tmp_path) -> None:
    pdf = tmp_path / "licence.pdf"
    pdf.write_bytes(service.client.get(ent.food_licence["pdf_url"], headers=service.health.auth).content)
    r = run_verify(str(pdf), cwd=tmp_path, online=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("verdict: genuine")
    assert "status:  VALID" in r.stdout and ent.food_licence["identifier"] in r.stdout
    assert "[ok] issued_here" in r.stdout


def test_cli_online_suspended_licence_exits_1(service, issue_food, tmp_path) -> None:
    lic = issue_food()
    pdf = tmp_path / "licence.pdf"
    pdf.write_bytes(service.client.get(lic["pdf_url"], headers=service.health.auth).content)
    service.client.post(f"/api/v1/licences/{lic['id']}/suspend", headers=service.health.auth, json={"reason": "整改"})
    r = run_verify(str(pdf), "--json", cwd=tmp_path, online=True)
    assert r.returncode == 1
    assert answer(r)["licence"]["status"] == "suspended"


def test_cli_online_tampered_licence_exits_3(service, issue_food, tmp_path) -> None:
    lic = issue_food()
    pdf = tmp_path / "licence.pdf"
    pdf.write_bytes(service.client.get(lic["pdf_url"], headers=service.health.auth).content + b"\n%x\n")
    r = run_verify(str(pdf), cwd=tmp_path, online=True)
    assert r.returncode == 3 and "verdict: modified_after_sealing" in r.stdout


def test_cli_genuine_receipt_exits_1_it_is_not_a_licence(service, tmp_path) -> None:
    body = {
        "applicant_name": "深圳市鹏城餐饮管理有限公司",
        "matter": "食品经营许可证核发",
        "application_number": "SQ202612020001",
        "materials_received": ["申请书"],
    }
    rec = service.client.post("/api/v1/receipts", headers=service.health.auth, json=body).json()
    pdf = tmp_path / "receipt.pdf"
    pdf.write_bytes(service.client.get(rec["pdf_url"], headers=service.health.auth).content)
    r = run_verify(str(pdf), cwd=tmp_path, online=True)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "verdict: genuine" in r.stdout and "a receipt, not a licence" in r.stdout
    _lists(service, tmp_path)
    offline = run_verify(str(pdf), "--offline", "--json", cwd=tmp_path)
    assert offline.returncode == 1 and json.loads(offline.stdout)["receipt"]["id"] == rec["id"]


def test_cli_unreadable_file_is_a_usage_error(tmp_path) -> None:
    r = run_verify(str(tmp_path / "missing.pdf"), cwd=tmp_path, online=True)
    assert r.returncode == 2 and "cannot read" in r.stderr
