"""The signed QR payload, the trust list and the signed status list (offline verification)."""

from __future__ import annotations

import base64
import json

import qrcode
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509 import load_pem_x509_certificate
from qrcode.util import MODE_8BIT_BYTE, MODE_ALPHA_NUM, QRData

from signing.payload import unb64url
from verify.status_list import status_at


def _qr(service, text: str) -> dict:
    r = service.client.post("/api/v1/verify/qr", json={"text": text})
    assert r.status_code == 200, r.text
    return r.json()


def test_qr_text_verifies_with_the_licence_status(service, issue_food) -> None:
    lic = issue_food()
    body = _qr(service, lic["verify_url"])
    assert body["verdict"] == "genuine"
    assert body["licence"]["number"] == lic["number"]
    assert body["licence"]["status"] == "valid"


def test_qr_text_with_a_flipped_character_fails(service, issue_food) -> None:
    url = issue_food()["verify_url"]
    i = len(url) - 20
    flipped = url[:i] + ("A" if url[i] != "A" else "B") + url[i + 1 :]
    assert _qr(service, flipped)["verdict"] != "genuine"


def test_qr_garbage_is_malformed(service) -> None:
    assert _qr(service, "hello world")["verdict"] == "malformed"


def test_licence_link_fits_version_16_at_error_correction_q(issue_food) -> None:
    url = issue_food()["verify_url"]
    head, token = url.rsplit("/", 1)
    q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q)
    q.add_data(QRData((head + "/").encode(), mode=MODE_8BIT_BYTE))
    q.add_data(QRData(token, mode=MODE_ALPHA_NUM))
    q.make(fit=True)
    assert q.version <= 16


def test_trust_list_has_the_root_and_department_seals(service) -> None:
    tl = service.client.get("/api/v1/trust-list").json()
    assert "BEGIN CERTIFICATE" in tl["root"]
    health = [i for i in tl["issuers"] if i["kind"] == "department" and i["uscc"] == service.health.uscc]
    assert health and "SPJY" in health[0]["licence_types"]
    assert len(health[0]["kid"]) == 16
    assert service.client.get("/trust-list").json()["root"] == tl["root"]


def test_qr_payload_verifies_offline_with_only_the_trust_list(service, issue_food) -> None:
    """What an offline verifier does: decode COSE_Sign1, find kid on the trust list, check ES256."""
    import cbor2

    lic = issue_food()
    tl = service.client.get("/api/v1/trust-list").json()
    token = lic["verify_url"].rsplit("/", 1)[1]
    cwt = cbor2.loads(base64.b32decode(token + "=" * (-len(token) % 8)))
    assert cwt.tag == 61
    protected, _u, payload, sig = cwt.value.value
    kid = cbor2.loads(protected)[4].hex()
    cert = load_pem_x509_certificate(next(i for i in tl["issuers"] if i["kid"] == kid)["certificate"].encode())
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload])
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    cert.public_key().verify(der, to_be_signed, ec.ECDSA(hashes.SHA256()))
    claims = cbor2.loads(payload)
    definer, seq, issuer, serial, check = claims[-2]
    issuer = issuer or claims[1]  # null: the issuer is iss, the department's USCC
    assert lic["identifier"] == f"1.2.156.3005.2.{definer or issuer}{seq:03d}.{issuer}.{serial:08d}.001.{check}"


def test_status_list_is_signed_and_shows_a_suspension(service, issue_food) -> None:
    lic = issue_food()
    service.client.post(f"/api/v1/licences/{lic['id']}/suspend", headers=service.health.auth, json={"reason": "x"})
    from signing.payload import parse_signed

    index = parse_signed(lic["verify_url"].rsplit("/", 1)[1]).claims.status_index
    sl = service.client.get("/api/v1/status-list").json()
    assert status_at(sl["payload"]["status_list"]["lst"], index) == 2  # the draft's SUSPENDED
    header_b64, payload_b64, sig_b64 = sl["jws"].split(".")
    header = json.loads(unb64url(header_b64))
    tl = service.client.get("/api/v1/trust-list").json()
    service_cert = next(i for i in tl["issuers"] if i["kid"] == header["kid"])
    sig = unb64url(sig_b64)
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    load_pem_x509_certificate(service_cert["certificate"].encode()).public_key().verify(
        der, f"{header_b64}.{payload_b64}".encode(), ec.ECDSA(hashes.SHA256())
    )
    assert json.loads(unb64url(payload_b64))["ttl"] > 0
