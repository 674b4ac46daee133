"""Offline verification of the signed QR payload (a CWT in a COSE_Sign1, ES256, kid from the trust
list), and of tokens in the layout issued before the CWT."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from cryptography.hazmat.primitives import serialization

from keys.ca import kid_of
from signing.payload import KIND_LICENCE, KIND_RECEIPT, Claims, b64url, parse_signed, sign_claims
from verify.qr import verify_qr_text
from verify.report import Verdict


def _claims(kind: str = KIND_LICENCE, type_code: str = "SPJY", valid_from: date | None = None) -> Claims:
    return Claims(
        kind=kind,
        identifier="1.2.156.3005.2.11100000000013127D001.11100000000013127D.00000001.001.X"
        if kind == KIND_LICENCE
        else "R-2025-0001",
        holder_uscc="91350100M000100Y43",
        type_code=type_code if kind == KIND_LICENCE else "HZ",
        valid_from=valid_from or date(2025, 1, 1),
        valid_until=date(2030, 1, 1),
        version=1,
        doc_hash=b"",
        status_index=42,
        issuer="11100000000013127D",
        issued_at=int(datetime.combine(valid_from or date(2025, 1, 1), time(9), UTC).timestamp()),
        status_uri="https://licences.example.cn/api/v1/status-list",
    )


@pytest.fixture
def token_for(pki):
    def make(who: str = "dept", claims: Claims | None = None) -> str:
        cert = getattr(pki, who)
        kid = bytes.fromhex(kid_of(cert.public_bytes(serialization.Encoding.DER)))
        return sign_claims(claims or _claims(), kid, lambda data: pki.backend.sign(who, data))

    return make


def _raw(token: str) -> bytes:
    return base64.b32decode(token + "=" * (-len(token) % 8))


def _flip(token: str, byte_index: int) -> str:
    raw = bytearray(_raw(token))
    raw[byte_index] ^= 0x01
    return base64.b32encode(bytes(raw)).rstrip(b"=").decode()


def test_valid_payload_is_genuine(token_for, trust):
    result = verify_qr_text(token_for(), trust)
    assert result.verdict is Verdict.GENUINE, result.diagnostics()
    assert result.claims.holder_uscc == "91350100M000100Y43"
    assert result.signer_kind == "department"
    assert result.to_dict()["claims"]["type_code"] == "SPJY"


@pytest.mark.parametrize("base", ["https://licences.example.cn", "http://localhost:8000/"])
def test_full_licence_url_is_accepted(token_for, trust, base):
    assert verify_qr_text(f"{base.rstrip('/')}/v/{token_for()}", trust).genuine


def test_receipt_url(token_for, trust):
    token = token_for(claims=_claims(KIND_RECEIPT))
    assert verify_qr_text(f"https://x.cn/r/{token}", trust).genuine
    assert verify_qr_text(f"https://x.cn/v/{token}", trust).verdict is Verdict.MALFORMED


def test_bit_flip_in_signature_is_signature_invalid(token_for, trust):
    token = token_for()
    raw_len = len(_raw(token))
    result = verify_qr_text(_flip(token, raw_len - 5), trust)
    assert result.verdict is Verdict.SIGNATURE_INVALID


def test_every_single_bit_flip_fails(token_for, trust):
    token = token_for()
    raw_len = len(_raw(token))
    for i in range(raw_len):
        assert not verify_qr_text(_flip(token, i), trust).genuine, f"flip at byte {i} went unnoticed"


def test_key_not_on_trust_list_is_unknown_signer(token_for, trust):
    assert verify_qr_text(token_for("foreign"), trust).verdict is Verdict.UNKNOWN_SIGNER
    assert verify_qr_text(token_for("stray"), trust).verdict is Verdict.UNKNOWN_SIGNER


def test_enterprise_key_cannot_sign_qr(token_for, trust):
    assert verify_qr_text(token_for("enterprise"), trust).verdict is Verdict.UNKNOWN_SIGNER


def test_revoked_before_issue_is_signature_invalid(token_for, pki):
    token = token_for("dept2", claims=replace(_claims(), issuer="12100000000013127A"))  # dept2 issued it
    trust = pki.trust(dept2_revoked_from=datetime(2024, 6, 1, tzinfo=UTC))
    assert verify_qr_text(token, trust).verdict is Verdict.SIGNATURE_INVALID
    later = pki.trust(dept2_revoked_from=datetime.now(UTC) + timedelta(days=1))
    assert verify_qr_text(token, later).genuine


def test_a_payload_whose_issuer_is_not_its_signer_is_signature_invalid(token_for, trust):
    result = verify_qr_text(token_for("dept2"), trust)  # signed by dept2, names the other department
    assert result.verdict is Verdict.SIGNATURE_INVALID
    assert [c.name for c in result.checks if not c.ok] == ["issuer_is_signer"]


def test_licence_type_outside_the_certificate_is_signature_invalid(token_for, trust):
    result = verify_qr_text(token_for(claims=_claims(type_code="JZSG")), trust)
    assert result.verdict is Verdict.SIGNATURE_INVALID


@pytest.mark.parametrize("text", ["", "not a token", "https://x.cn/about", "A" * 5000, "%%%", "https://x.cn/v/"])
def test_garbage_is_malformed(text, trust):
    assert verify_qr_text(text, trust).verdict is Verdict.MALFORMED


def test_revocation_is_judged_at_the_signing_time_iat(token_for, pki):
    """A key compromised after a licence took effect but before its payload was signed: the seal is
    the forger's (the earlier layout had only valid_from to go by)."""
    claims = replace(_claims(valid_from=date(2025, 1, 1)), issued_at=int(datetime(2025, 3, 1, tzinfo=UTC).timestamp()))
    trust = pki.trust(dept2_revoked_from=datetime(2025, 2, 1, tzinfo=UTC))
    assert verify_qr_text(token_for("dept2", claims), trust).verdict is Verdict.SIGNATURE_INVALID


def _legacy_token(pki, who: str, claims: Claims) -> str:
    """A token of the layout issued before the CWT: claims keyed 0–9, tag 18 alone, base64url."""
    import cbor2
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    kid = bytes.fromhex(kid_of(getattr(pki, who).public_bytes(serialization.Encoding.DER)))
    protected = cbor2.dumps({1: -7, 4: kid}, canonical=True)
    payload = claims.to_cbor()
    r, s = decode_dss_signature(pki.backend.sign(who, cbor2.dumps(["Signature1", protected, b"", payload])))
    sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return b64url(cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, sig])))


def test_a_token_of_the_earlier_layout_verifies(pki, trust):
    claims = replace(_claims(), doc_hash=bytes(range(8)), issuer=None, issued_at=None, status_uri=None)
    token = _legacy_token(pki, "dept", claims)
    assert token.startswith("0")  # tag 18: outside the base32 alphabet, so never read as a CWT
    result = verify_qr_text(f"https://licences.example.cn/v/{token}", trust)
    assert result.verdict is Verdict.GENUINE, result.diagnostics()
    assert result.claims == claims
    assert "issuer" not in result.to_dict()["claims"]


def test_a_cwt_round_trips_its_claims(token_for):
    claims = _claims()
    assert parse_signed(token_for(claims=claims)).claims == claims


def test_an_identifier_of_another_form_is_carried_as_text(token_for):
    claims = replace(_claims(), identifier="1.2.156.3005.2.LEGACY-FORM.7")
    assert parse_signed(token_for(claims=claims)).claims.identifier == "1.2.156.3005.2.LEGACY-FORM.7"
