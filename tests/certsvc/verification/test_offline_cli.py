"""`certsvc verify FILE --offline`: only the trust list and the signed status list are used, and
it fails closed: no usable status list → status unknown (exit 1), a trust list that does not
verify → an error (exit 2)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from certsvc.keyring import SERVICE_OWNER
from signing.jws import compact_es256
from tests.support.cli import answer, run_verify
from verify.status_list import encode_status_list

pytestmark = pytest.mark.files  # offline: the database plays no part in the verdict


def _lists(service, tmp_path: Path) -> tuple[dict, dict]:
    tl = service.client.get("/api/v1/trust-list").json()
    sl = service.client.get("/api/v1/status-list").json()
    (tmp_path / "trust-list.json").write_text(json.dumps(tl), encoding="utf-8")
    (tmp_path / "status-list.json").write_text(json.dumps(sl), encoding="utf-8")
    return tl, sl


def _pdf(service, lic: dict, tmp_path: Path) -> Path:
    pdf = tmp_path / "licence.pdf"
    pdf.write_bytes(service.client.get(f"/api/v1/licences/{lic['id']}/pdf", headers=service.health.auth).content)
    return pdf


def _revoked(service, issue_food, tmp_path: Path) -> Path:
    lic = issue_food()
    pdf = _pdf(service, lic, tmp_path)
    r = service.client.post(
        f"/api/v1/licences/{lic['id']}/revoke", headers=service.health.auth, json={"reason": "吊销", "kind": "吊销"}
    )
    assert r.status_code == 200, r.text
    return pdf


def test_offline_verification_of_a_genuine_licence(service, issue_food, tmp_path) -> None:
    lic = issue_food()
    pdf = _pdf(service, lic, tmp_path)
    _lists(service, tmp_path)
    r = run_verify(str(pdf), "--offline", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    out = answer(r)
    assert out["verdict"] == "genuine" and out["offline"] is True
    assert out["licence"]["status"] == "valid" and out["licence"]["identifier"] == lic["identifier"]
    assert not (tmp_path / "nowhere").exists()


def test_offline_verification_sees_a_suspension_in_the_status_list(service, issue_food, tmp_path) -> None:
    lic = issue_food()
    pdf = _pdf(service, lic, tmp_path)
    service.client.post(f"/api/v1/licences/{lic['id']}/suspend", headers=service.health.auth, json={"reason": "整改"})
    _lists(service, tmp_path)
    r = run_verify(str(pdf), "--offline", "--json", cwd=tmp_path)
    assert r.returncode == 1
    assert answer(r)["licence"]["status"] == "suspended"


def test_offline_verification_of_a_tampered_file_exits_3(service, issue_food, tmp_path) -> None:
    lic = issue_food()
    pdf = _pdf(service, lic, tmp_path)
    pdf.write_bytes(pdf.read_bytes() + b"\n%tampered\n")
    _lists(service, tmp_path)
    r = run_verify(str(pdf), "--offline", "--json", cwd=tmp_path)
    assert r.returncode == 3
    assert answer(r)["verdict"] == "modified_after_sealing"


def test_offline_verification_without_a_trust_list_says_so(tmp_path) -> None:
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.7")
    r = run_verify(str(tmp_path / "x.pdf"), "--offline", cwd=tmp_path)
    assert r.returncode == 2 and "trust list" in r.stderr


def _status_unknown(r) -> str:
    assert r.returncode == 1, r.stdout + r.stderr
    out = answer(r)
    assert out["verdict"] == "genuine"
    assert out["licence"]["status"] == "unknown"
    return out["licence"]["status_reason"]


def test_offline_revoked_licence_without_a_status_list_is_status_unknown(service, issue_food, tmp_path) -> None:
    pdf = _revoked(service, issue_food, tmp_path)
    _lists(service, tmp_path)
    (tmp_path / "status-list.json").unlink()
    reason = _status_unknown(run_verify(str(pdf), "--offline", "--json", cwd=tmp_path))
    assert "no status list" in reason


def test_offline_revoked_licence_with_an_expired_status_list_is_status_unknown(service, issue_food, tmp_path) -> None:
    pdf = _revoked(service, issue_food, tmp_path)
    _lists(service, tmp_path)
    old = datetime.now(UTC) - timedelta(days=2)
    payload = {
        "sub": "http://testserver/api/v1/status-list",
        "iat": int(old.timestamp()),
        "exp": int((old + timedelta(hours=1)).timestamp()),
        "ttl": 3600,
        "status_list": {"bits": 2, "lst": encode_status_list({})},  # two days ago, everything was valid
    }
    keyring = service.ctx.keyring
    with Session(service.ctx.engine) as s:  # an old list, really signed by the service key
        cert = keyring.current(s, SERVICE_OWNER, None)
    header = {"typ": "statuslist+jwt", "kid": cert.kid}
    token = compact_es256(header, payload, lambda data: keyring.sign_raw(cert, data))
    (tmp_path / "status-list.json").write_text(token, encoding="utf-8")
    reason = _status_unknown(run_verify(str(pdf), "--offline", "--json", cwd=tmp_path))
    assert "expired" in reason


def test_offline_revoked_licence_with_an_altered_status_list_is_status_unknown(service, issue_food, tmp_path) -> None:
    pdf = _revoked(service, issue_food, tmp_path)
    _, sl = _lists(service, tmp_path)
    header, payload_b64, sig = sl["jws"].split(".")
    payload = json.loads(base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4)))
    payload["status_list"]["lst"] = encode_status_list({})  # "everything is valid"
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    sl["jws"] = f"{header}.{forged}.{sig}"
    (tmp_path / "status-list.json").write_text(json.dumps(sl), encoding="utf-8")
    reason = _status_unknown(run_verify(str(pdf), "--offline", "--json", cwd=tmp_path))
    assert "signature does not verify" in reason


def test_offline_human_output_says_why_the_status_is_unknown(service, issue_food, tmp_path) -> None:
    pdf = _revoked(service, issue_food, tmp_path)
    _lists(service, tmp_path)
    (tmp_path / "status-list.json").unlink()
    r = run_verify(str(pdf), "--offline", cwd=tmp_path)
    assert r.returncode == 1
    assert "verdict: genuine" in r.stdout and "status:  UNKNOWN" in r.stdout and "no status list" in r.stdout


def test_offline_trust_list_with_a_broken_root_signature_is_an_error(service, issue_food, tmp_path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    lic = issue_food()
    pdf = _pdf(service, lic, tmp_path)
    tl, _ = _lists(service, tmp_path)
    der = bytearray(x509.load_pem_x509_certificate(tl["root"].encode()).public_bytes(Encoding.DER))
    der[-5] ^= 0x01  # inside the root's signature value
    tl["root"] = x509.load_der_x509_certificate(bytes(der)).public_bytes(Encoding.PEM).decode()
    (tmp_path / "trust-list.json").write_text(json.dumps(tl), encoding="utf-8")
    r = run_verify(str(pdf), "--offline", cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "trust list does not verify" in r.stderr and "self-signature" in r.stderr


def test_offline_trust_list_with_a_certificate_not_from_the_root_is_an_error(service, issue_food, tmp_path) -> None:
    lic = issue_food()
    pdf = _pdf(service, lic, tmp_path)
    tl, _ = _lists(service, tmp_path)
    tl["issuers"][0]["certificate"] = tl["root"]  # the root itself is not a certificate the root issued
    (tmp_path / "trust-list.json").write_text(json.dumps(tl), encoding="utf-8")
    r = run_verify(str(pdf), "--offline", cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "trust list does not verify" in r.stderr


def test_offline_unparsable_trust_list_is_an_error(tmp_path) -> None:
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.7")
    (tmp_path / "trust-list.json").write_text(json.dumps({"root": "not a certificate"}), encoding="utf-8")
    r = run_verify(str(tmp_path / "x.pdf"), "--offline", cwd=tmp_path)
    assert r.returncode == 2 and "trust list does not verify" in r.stderr


def _signed_list(service, typ: str = "statuslist+jwt", **claims: object) -> str:
    """A status list JWT really signed by the service key, with the claims given."""
    now = int(datetime.now(UTC).timestamp())
    payload = {"sub": "http://testserver/api/v1/status-list", "iat": now, "exp": now + 300, "ttl": 300}
    payload |= {"status_list": {"bits": 2, "lst": encode_status_list({})}, **claims}
    keyring = service.ctx.keyring
    with Session(service.ctx.engine) as s:
        cert = keyring.current(s, SERVICE_OWNER, None)
    return compact_es256({"typ": typ, "kid": cert.kid}, payload, lambda d: keyring.sign_raw(cert, d))


def test_offline_reads_the_status_list_jwt_as_served_for_statuslist_jwt(service, issue_food, tmp_path) -> None:
    pdf = _revoked(service, issue_food, tmp_path)
    _lists(service, tmp_path)
    r = service.client.get("/api/v1/status-list", headers={"Accept": "application/statuslist+jwt"})
    (tmp_path / "status-list.jwt").write_text(r.text, encoding="utf-8")
    r = run_verify(str(pdf), "--offline", "--json", "--status-list", "status-list.jwt", cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert answer(r)["licence"]["status"] == "revoked"


def test_offline_status_list_about_another_list_is_status_unknown(service, issue_food, tmp_path) -> None:
    pdf = _revoked(service, issue_food, tmp_path)
    _lists(service, tmp_path)
    forged = _signed_list(service, sub="http://elsewhere.example/api/v1/status-list")
    (tmp_path / "status-list.json").write_text(forged, encoding="utf-8")
    reason = _status_unknown(run_verify(str(pdf), "--offline", "--json", cwd=tmp_path))
    assert "sub" in reason


def test_offline_signed_jwt_that_is_not_a_status_list_is_status_unknown(service, issue_food, tmp_path) -> None:
    pdf = _revoked(service, issue_food, tmp_path)
    _lists(service, tmp_path)
    (tmp_path / "status-list.json").write_text(_signed_list(service, typ="JWT"), encoding="utf-8")
    reason = _status_unknown(run_verify(str(pdf), "--offline", "--json", cwd=tmp_path))
    assert "statuslist+jwt" in reason


def test_offline_accepts_the_trust_list_as_a_jws_by_the_root(service, issue_food, tmp_path) -> None:
    lic = issue_food()
    pdf = _pdf(service, lic, tmp_path)
    _lists(service, tmp_path)
    jws = service.client.get("/api/v1/trust-list", headers={"Accept": "application/jwt"}).text
    (tmp_path / "trust-list.jws").write_text(jws, encoding="utf-8")
    r = run_verify(str(pdf), "--offline", "--json", "--trust-list", "trust-list.jws", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert answer(r)["licence"]["status"] == "valid"


def test_offline_trust_list_jws_with_an_altered_payload_is_an_error(service, issue_food, tmp_path) -> None:
    pdf = _pdf(service, issue_food(), tmp_path)
    jws = service.client.get("/api/v1/trust-list", headers={"Accept": "application/jwt"}).text
    header, payload_b64, sig = jws.split(".")
    payload = json.loads(base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4)))
    payload["issuers"] = payload["issuers"][:1]
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    (tmp_path / "trust-list.json").write_text(f"{header}.{forged}.{sig}", encoding="utf-8")
    r = run_verify(str(pdf), "--offline", cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "trust list does not verify" in r.stderr
