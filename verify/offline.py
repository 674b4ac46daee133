"""Verification with nothing but the published trust list and status list (no service at hand).

What cannot be known offline is said so: whether the service has a record of the file (is it
体外循环?) is left to the online check; the licence's status comes from the signed status list.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.payload import QR_KEYWORD_PREFIX, unb64url
from verify.qr import verify_qr_text
from verify.report import Check, CheckName
from verify.status_list import StatusCode, status_at
from verify.trust import OwnerKind, TrustContext, TrustedCert
from verify.verifier import verify_pdf


def trust_from_list(tl: dict[str, Any]) -> TrustContext:
    """The trust context described by a ``GET /trust-list`` document."""
    root = x509.load_pem_x509_certificate(tl["root"].encode())
    certs = []
    for entry in [*tl.get("issuers", []), *tl.get("enterprises", [])]:
        cert = x509.load_pem_x509_certificate(entry["certificate"].encode())
        revoked = entry.get("revoked_from")
        certs.append(
            TrustedCert.from_cert(
                cert,
                entry["kind"],
                str(entry.get("kid")),
                entry.get("department") or entry.get("holder") or "",
                revoked_from=datetime.fromisoformat(revoked) if revoked else None,
                licence_types=tuple(entry.get("licence_types", ())),
            )
        )
    return TrustContext(root=root, certs=tuple(certs))


def check_status_list(sl: dict[str, Any], trust: TrustContext, now: datetime | None = None) -> dict[str, Any]:
    """Verify the status list's JWS against the service certificate on the trust list."""
    header_b64, payload_b64, sig_b64 = sl["jws"].split(".")
    header = json.loads(unb64url(header_b64))
    entry = trust.by_kid(header.get("kid", ""))
    if entry is None or entry.owner_kind != OwnerKind.SERVICE or header.get("alg") != "ES256":
        raise ValueError("status list not signed by the service key on the trust list")
    sig = unb64url(sig_b64)
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    key = entry.cert.public_key()
    try:
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise InvalidSignature("not an EC key")
        key.verify(der, f"{header_b64}.{payload_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as e:
        raise ValueError("status list signature is invalid") from e
    payload = json.loads(unb64url(payload_b64))
    if (now or datetime.now(UTC)).timestamp() > payload["exp"]:
        raise ValueError("status list has expired; fetch a fresh one")
    return payload


def qr_token_in(data: bytes) -> str | None:
    """The QR token the service writes into the licence's document information (/Keywords)."""
    try:
        info = PdfFileReader(BytesIO(data), strict=False).trailer_view.get("/Info")
        keywords = str(info.get_object().get("/Keywords", "")) if info is not None else ""
    except Exception:  # absent or unreadable metadata just means no QR token
        return None
    for word in keywords.split():
        if word.startswith(QR_KEYWORD_PREFIX):
            return word[len(QR_KEYWORD_PREFIX) :]
    return None


def verify_offline(data: bytes, trust_list: dict[str, Any], status_list: dict[str, Any] | None) -> dict[str, Any]:
    """Verify a PDF with only the published trust list (and status list): no access to the service needed."""
    trust = trust_from_list(trust_list)
    report = verify_pdf(data, trust, lambda _sha: True)
    checks = [
        replace(c, detail="Not checked offline: only the service knows what it issued.")
        if c.name == CheckName.ISSUED_HERE
        else c
        for c in report.checks
    ]
    out = report.to_dict()
    out["checks"] = [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks]
    out["offline"] = True
    if not report.genuine:
        return out
    token = qr_token_in(data)
    if token is None:
        return out
    qr = verify_qr_text(token, trust)
    out["qr"] = qr.to_dict()
    claims = qr.claims
    if qr.genuine and claims is not None and claims.status_index is not None and status_list is not None:
        try:
            payload = check_status_list(status_list, trust)
        except ValueError as e:
            out["checks"].append({"name": CheckName.STATUS_LIST, "ok": False, "detail": str(e)})
            return out
        code = status_at(payload["status_list"]["lst"], claims.status_index, payload["status_list"].get("bits", 2))
        status = StatusCode(code).name.lower()
        if status == "valid" and claims.valid_until and claims.valid_until < datetime.now(UTC).date():
            status = "expired"
        out["licence"] = {"identifier": claims.identifier, "status": status, "status_list_issued_at": payload["iat"]}
        out["checks"].append(Check(CheckName.STATUS_LIST, True, "Status from the signed status list.").__dict__)
    return out


def load_json(path: Path) -> dict[str, Any]:
    """A saved trust or status list."""
    return json.loads(path.read_text(encoding="utf-8"))
