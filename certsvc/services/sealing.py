"""Render and seal documents: the bridge between the service and the ``signing`` package."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from certsvc.keyring import CertInfo, Keyring
from signing import layout
from signing.payload import Claims, sign_claims

# The marked copy's signature field, reserved empty when a licence is sealed: filling an existing
# field after a certification signature is plain signing, while a new visible field counts as a
# modification for pyHanko and other validators.
MARK_FIELD = "Mark"
MARK_RECT = layout.MARK_RECT  # free space on the page, between the table and the QR code
# Space for the CMS signature: None lets signing.cms compute a tight bound (cheap, since the fixed
# parts are encoded once per signer). Keeping /Contents small matters for verification, which
# parses it digit by digit.
CMS_BYTES_RESERVED: int | None = None


def seal_code(uscc: str, owner_id: int) -> str:
    """A 13-digit seal code (印章编码): the division code of the USCC and a running number."""
    return f"{uscc[2:8]}{owner_id:07d}"


def content_digest(payload: dict[str, Any]) -> bytes:
    """First 8 bytes of SHA-256 over the canonical licence content printed on the document."""
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).digest()[:8]


@dataclass(frozen=True)
class QrSpec:
    """A QR payload to sign, and the public path its URL goes under ("v" licences, "r" receipts).

    It travels with the seal job: the payload is signed where the document is rendered and sealed
    (a sealing worker process), with the same certificate as the seal.
    """

    claims: Claims
    base_url: str
    path: str


@dataclass(frozen=True)
class QrToken:
    token: str
    url: str


def sign_qr(keyring: Keyring, cert: CertInfo, spec: QrSpec) -> QrToken:
    """The COSE_Sign1 token (signed by ``cert``'s key) and the URL printed as the QR code."""
    token = sign_claims(spec.claims, bytes.fromhex(cert.kid), lambda data: keyring.sign_raw(cert, data))
    return QrToken(token, f"{spec.base_url}/{spec.path}/{token}")


def token_key(token: str) -> str:
    """What the database indexes a QR token by."""
    return hashlib.sha256(token.encode()).hexdigest()
