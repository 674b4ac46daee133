"""Offline verification of the signed QR payload (COSE_Sign1, ES256, kid from the trust list)."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization

from keys.ca import kid_of
from signing.payload import KIND_LICENCE, KIND_RECEIPT, Claims, sign_claims
from verify.qr import verify_qr_text
from verify.report import Verdict


def _claims(kind: str = KIND_LICENCE, type_code: str = "SPJY", valid_from: date | None = None) -> Claims:
    return Claims(
        kind=kind,
        identifier="1.2.156.3005.2.11100000000013127D001.11100000000013127D.000001.001.X"
        if kind == KIND_LICENCE
        else "R-2025-0001",
        holder_uscc="91350100M000100Y43",
        type_code=type_code if kind == KIND_LICENCE else "HZ",
        valid_from=valid_from or date(2025, 1, 1),
        valid_until=date(2030, 1, 1),
        version=1,
        doc_hash=bytes(range(8)),
        status_index=42,
    )


@pytest.fixture
def token_for(pki):
    def make(who: str = "dept", claims: Claims | None = None) -> str:
        cert = getattr(pki, who)
        kid = bytes.fromhex(kid_of(cert.public_bytes(serialization.Encoding.DER)))
        return sign_claims(claims or _claims(), kid, lambda data: pki.backend.sign(who, data))

    return make


def _flip(token: str, byte_index: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[byte_index] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


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
    raw_len = len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    result = verify_qr_text(_flip(token, raw_len - 5), trust)
    assert result.verdict is Verdict.SIGNATURE_INVALID


def test_every_single_bit_flip_fails(token_for, trust):
    token = token_for()
    raw_len = len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    for i in range(raw_len):
        assert not verify_qr_text(_flip(token, i), trust).genuine, f"flip at byte {i} went unnoticed"


def test_key_not_on_trust_list_is_unknown_signer(token_for, trust):
    assert verify_qr_text(token_for("foreign"), trust).verdict is Verdict.UNKNOWN_SIGNER
    assert verify_qr_text(token_for("stray"), trust).verdict is Verdict.UNKNOWN_SIGNER


def test_enterprise_key_cannot_sign_qr(token_for, trust):
    assert verify_qr_text(token_for("enterprise"), trust).verdict is Verdict.UNKNOWN_SIGNER


def test_revoked_before_issue_is_signature_invalid(token_for, pki):
    trust = pki.trust(dept2_revoked_from=datetime(2024, 6, 1, tzinfo=UTC))
    assert verify_qr_text(token_for("dept2"), trust).verdict is Verdict.SIGNATURE_INVALID
    later = pki.trust(dept2_revoked_from=datetime.now(UTC) + timedelta(days=1))
    assert verify_qr_text(token_for("dept2"), later).genuine


def test_licence_type_outside_the_certificate_is_signature_invalid(token_for, trust):
    result = verify_qr_text(token_for(claims=_claims(type_code="JZSG")), trust)
    assert result.verdict is Verdict.SIGNATURE_INVALID


@pytest.mark.parametrize("text", ["", "not a token", "https://x.cn/about", "A" * 5000, "%%%", "https://x.cn/v/"])
def test_garbage_is_malformed(text, trust):
    assert verify_qr_text(text, trust).verdict is Verdict.MALFORMED
