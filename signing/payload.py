"""The signed QR payload: a COSE_Sign1 (ES256) over a compact CBOR claim set.

Anchored on the EU Digital COVID Certificate: the protected header carries ``alg`` = ES256 and
``kid`` = the first 8 bytes of SHA-256 of the signer certificate, so a verifier holding only the
trust list can check a licence offline. COSE is assembled with cbor2 here (rather than a COSE
library) because the signature itself comes from the key backend, which may be an HSM.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import cbor2
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

ALG_ES256 = -7
HDR_ALG = 1
HDR_KID = 4
KIND_LICENCE = "L"
KIND_RECEIPT = "R"
IDENTIFIER_ROOT = "1.2.156.3005.2."
QR_KEYWORD_PREFIX = "certsvc-qr:"  # marks the QR token in a licence PDF's /Keywords


class PayloadError(ValueError):
    """A QR payload that cannot be decoded; the message says what is wrong."""

    def diagnostics(self) -> str:
        return f"QR payload not readable: {self}"


@dataclass(frozen=True)
class Claims:
    """What the QR says about a licence (or a receipt), signed by the issuer."""

    kind: str  # "L" licence, "R" receipt
    identifier: str  # licence identifier, or receipt id
    holder_uscc: str | None
    type_code: str  # licence type short code, or "HZ" for a receipt
    valid_from: date | None
    valid_until: date | None
    version: int
    doc_hash: bytes  # first 8 bytes of SHA-256 of the unsealed document (revision 1)
    status_index: int | None

    def to_cbor(self) -> bytes:
        ident = self.identifier
        if ident.startswith(IDENTIFIER_ROOT):
            ident = ident[len(IDENTIFIER_ROOT) :]  # the fixed root is implied; saves QR space
        m: dict[int, object] = {
            0: self.kind,
            1: ident,
            3: self.type_code,
            6: self.version,
            7: self.doc_hash,
        }
        if self.holder_uscc:
            m[2] = self.holder_uscc
        if self.valid_from:
            m[4] = _d2i(self.valid_from)
        if self.valid_until:
            m[5] = _d2i(self.valid_until)
        if self.status_index is not None:
            m[9] = self.status_index
        return cbor2.dumps(m, canonical=True)

    @classmethod
    def from_cbor(cls, data: bytes) -> Claims:
        m = cbor2.loads(data)
        if not isinstance(m, dict):
            raise PayloadError("claims are not a map")
        try:
            kind = str(m[0])
            ident = str(m[1])
            if kind == KIND_LICENCE:
                ident = IDENTIFIER_ROOT + ident
            return cls(
                kind=kind,
                identifier=ident,
                holder_uscc=m.get(2),
                type_code=str(m[3]),
                valid_from=_i2d(m.get(4)),
                valid_until=_i2d(m.get(5)),
                version=int(m[6]),
                doc_hash=bytes(m[7]),
                status_index=m.get(9),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise PayloadError(f"claims incomplete or of the wrong type: {e}") from e


def content_digest(payload: dict[str, Any]) -> bytes:
    """First 8 bytes of SHA-256 over the canonical licence content printed on the document."""
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).digest()[:8]


def _d2i(d: date) -> int:
    return d.year * 10000 + d.month * 100 + d.day


def _i2d(v: object) -> date | None:
    if v in (None, 0):
        return None
    if not isinstance(v, int):
        raise PayloadError("date is not an integer YYYYMMDD")
    return date(v // 10000, v // 100 % 100, v % 100)


def b64url(data: bytes) -> str:
    """Unpadded base64url, as QR payloads and JWS use it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    """Decode unpadded base64url; PayloadError rather than a bare ValueError for bad input."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as e:
        raise PayloadError("not base64url") from e


def _sig_structure(protected: bytes, payload: bytes) -> bytes:
    return cbor2.dumps(["Signature1", protected, b"", payload])


def _envelope(protected: bytes, payload: bytes, sig: bytes) -> bytes:
    """The one encoding of a COSE_Sign1: tag 18, empty unprotected header, canonical CBOR."""
    return cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, sig]))


def sign_claims(claims: Claims, kid: bytes, sign_der: Callable[[bytes], bytes]) -> str:
    """COSE_Sign1 over the claims, base64url-encoded for use in a URL path segment."""
    protected = cbor2.dumps({HDR_ALG: ALG_ES256, HDR_KID: kid}, canonical=True)
    payload = claims.to_cbor()
    r, s = decode_dss_signature(sign_der(_sig_structure(protected, payload)))
    sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return b64url(_envelope(protected, payload, sig))


P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
"""n, the order of the P-256 group: an ECDSA signature (r, s) is valid exactly when (r, n − s) is."""


@dataclass(frozen=True)
class SignedPayload:
    """A parsed QR payload: the claims, the bytes they were signed over, and the signature in DER."""

    kid: bytes
    claims: Claims
    to_be_signed: bytes
    der_signature: bytes
    r: int
    s: int
    token: str
    """The text it was read from: the one encoding of the statement with this very signature."""

    def same_statement(self, other: SignedPayload) -> bool:
        """Whether ``other`` is this statement: the same protected header and claims, signed with
        the same ECDSA signature. ECDSA signatures come in pairs, (r, s) and (r, n − s), both valid:
        the signer (OpenSSL, an HSM) makes either, so both are one signature here."""
        return (
            self.to_be_signed == other.to_be_signed
            and self.r == other.r
            and min(self.s, P256_ORDER - self.s) == min(other.s, P256_ORDER - other.s)
        )


_B64URL = re.compile(r"[A-Za-z0-9_-]+")


def parse_signed(token: str) -> SignedPayload:
    """Decode (not verify) a COSE_Sign1 token; the verifier checks the signature.

    Only the one encoding :func:`sign_claims` makes is read: canonical base64url, tag 18, an empty
    unprotected header, canonical CBOR and nothing after it. The envelope is not signed, so any
    other encoding of the same signed bytes is refused as malformed, rather than being a second
    token for the same licence."""
    if len(token) > 2000:
        raise PayloadError("too long")
    if not _B64URL.fullmatch(token):
        raise PayloadError("not base64url")
    raw = unb64url(token)
    if b64url(raw) != token:
        raise PayloadError("not canonical base64url (stray bits in the last character)")
    try:
        obj = cbor2.loads(raw)
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError) as e:
        raise PayloadError(f"not CBOR: {e}") from e
    if not isinstance(obj, cbor2.CBORTag) or obj.tag != 18:
        raise PayloadError("not a COSE_Sign1 (tag 18)")
    obj = obj.value
    if not (isinstance(obj, list | tuple) and len(obj) == 4):
        raise PayloadError("not a COSE_Sign1 structure")
    protected, unprotected, payload, sig = obj
    if not all(isinstance(x, bytes) for x in (protected, payload, sig)):
        raise PayloadError("COSE_Sign1 fields of the wrong type")
    if unprotected != {}:
        raise PayloadError("the unprotected header is not empty")
    if len(sig) != 64:
        raise PayloadError("signature is not 64 bytes")
    if _envelope(protected, payload, sig) != raw:
        raise PayloadError("not canonical CBOR, or bytes after the COSE_Sign1")
    try:
        hdr = cbor2.loads(protected)
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError) as e:
        raise PayloadError("protected header is not CBOR") from e
    if not isinstance(hdr, dict) or hdr.get(HDR_ALG) != ALG_ES256:
        raise PayloadError("algorithm is not ES256")
    kid = hdr.get(HDR_KID)
    if not isinstance(kid, bytes) or len(kid) != 8:
        raise PayloadError("kid missing or not 8 bytes")
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    if not (0 < r < P256_ORDER and 0 < s < P256_ORDER):
        raise PayloadError("signature values out of range")
    der = encode_dss_signature(r, s)
    return SignedPayload(kid, Claims.from_cbor(payload), _sig_structure(protected, payload), der, r, s, token)
