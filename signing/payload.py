"""The signed QR payload: a CWT (RFC 8392) in a COSE_Sign1 (ES256), printed as upper-case base32.

The protected header carries ``alg`` = ES256 and ``kid`` = the first 8 bytes of SHA-256 of the signer
certificate (the key published in the trust list and the JWKS), so a verifier holding only those
can check a licence offline. The claims:

==========  =====================================================================================
``1`` iss   the issuing department's USCC (统一社会信用代码); its key is found by ``kid``
``4`` exp   licence: the first second after ``valid_until`` (00:00 China Standard Time, UTC+8)
``5`` nbf   ``valid_from``, 00:00 China Standard Time
``6`` iat   when the payload was signed
``-1``      kind: ``"L"`` licence, ``"R"`` receipt
``-2``      licence identifier: ``[definer | null, type sequence, issuer | null, serial, check]``,
            the identifier ``1.2.156.3005.2.<definer><seq:03>.<issuer>.<serial:08>.<version:03>.<check>``
            (a null issuer is ``iss``, a null definer is the issuer, the version is claim -5); or
            the identifier as text without its fixed root when it has another form; a receipt's id
``-3``      holder's USCC (absent when the holder has none)
``-4``      licence type short code (``"HZ"`` for a receipt)
``-5``      version
``65535``   status: ``{"status_list": {"idx": <index>, "uri": "<iss>/api/v1/status-list"}}``
==========  =====================================================================================

The token is ``61(18([protected, {}, claims, signature]))`` (the CWT tag marks the claim layout) in
RFC 4648 base32 without padding, so a QR code carries it in alphanumeric mode. Tokens issued before
(claims keyed 0–9, dates as YYYYMMDD, tag 18 alone, base64url) are still read: the alphabet and the
CBOR tag tell the two apart, and neither is ever read as the other. COSE is assembled with cbor2
here (rather than a COSE library) because the signature itself comes from the key backend, which
may be an HSM.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import cbor2
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

ALG_ES256 = -7
HDR_ALG = 1
HDR_KID = 4
COSE_SIGN1_TAG = 18
CWT_TAG = 61
KIND_LICENCE = "L"
KIND_RECEIPT = "R"
IDENTIFIER_ROOT = "1.2.156.3005.2."
QR_KEYWORD_PREFIX = "certsvc-qr:"  # marks the QR token in a licence PDF's /Keywords
STATUS_LIST_PATH = "/api/v1/status-list"
"""Where the status list named by the ``status`` claim is served, below the public base URL."""

ISS, EXP, NBF, IAT, STATUS = 1, 4, 5, 6, 65535
"""Registered CWT claim keys (RFC 8392, and the status claim of draft-ietf-oauth-status-list)."""
C_KIND, C_IDENT, C_HOLDER, C_TYPE, C_VERSION = -1, -2, -3, -4, -5
"""Private-use claim keys of the licence claims."""
LICENCE_TZ = timezone(timedelta(hours=8), "CST")
"""Licence dates are days in China Standard Time (no daylight saving)."""


class PayloadError(ValueError):
    """A QR payload that cannot be decoded; the message says what is wrong."""

    def diagnostics(self) -> str:
        return f"QR payload not readable: {self}"


def _day_start(d: date) -> int:
    return int(datetime.combine(d, time.min, LICENCE_TZ).timestamp())


def _day_of(seconds: object) -> date:
    if not isinstance(seconds, int) or isinstance(seconds, bool):
        raise PayloadError("NumericDate is not an integer")
    return datetime.fromtimestamp(seconds, LICENCE_TZ).date()


@dataclass(frozen=True)
class Claims:
    """What the QR says about a licence (or a receipt), signed by the issuer.

    ``issuer``, ``issued_at`` and ``status_uri`` are set when the payload is signed
    (:func:`signing.pipeline.sign_qr`); tokens of the earlier layout have none of them. ``doc_hash``
    went only into the earlier layout: no one outside the service could recompute it, and the
    bytes it took are worth more as a larger QR module."""

    kind: str  # "L" licence, "R" receipt
    identifier: str  # licence identifier, or receipt id
    holder_uscc: str | None
    type_code: str  # licence type short code, or "HZ" for a receipt
    valid_from: date | None
    valid_until: date | None
    version: int
    doc_hash: bytes  # first 8 bytes of SHA-256 of the licence content; not in the CWT (b"" when read from one)
    status_index: int | None
    issuer: str | None = None
    issued_at: int | None = None  # NumericDate: seconds since the epoch
    status_uri: str | None = None

    @property
    def issued_moment(self) -> datetime | None:
        """``iat`` as an aware datetime (None for tokens of the earlier layout)."""
        return datetime.fromtimestamp(self.issued_at, UTC) if self.issued_at is not None else None

    def _short_identifier(self) -> str:
        ident = self.identifier
        if self.kind == KIND_LICENCE and ident.startswith(IDENTIFIER_ROOT):
            ident = ident[len(IDENTIFIER_ROOT) :]  # the fixed root is implied; saves QR space
        return ident

    def _packed_identifier(self) -> object:
        """The identifier as claim -2 carries it: its parts when they say it exactly (half the bytes)."""
        short = self._short_identifier()
        m = _IDENT_PARTS.fullmatch(short) if self.kind == KIND_LICENCE else None
        if m is None:
            return short
        definer, issuer = m["definer"], m["issuer"]
        packed = [
            None if definer == issuer else definer,
            int(m["seq"]),
            None if issuer == self.issuer else issuer,
            int(m["serial"]),
            m["check"],
        ]
        return packed if _unpacked_identifier(packed, self.version, self.issuer) == short else short

    def to_cwt(self) -> bytes:
        """The CWT claims set (canonical CBOR)."""
        if self.issuer is None or self.issued_at is None:
            raise ValueError("a CWT needs its issuer and issue time")
        m: dict[int, object] = {
            ISS: self.issuer,
            IAT: self.issued_at,
            C_KIND: self.kind,
            C_IDENT: self._packed_identifier(),
            C_TYPE: self.type_code,
            C_VERSION: self.version,
        }
        if self.holder_uscc:
            m[C_HOLDER] = self.holder_uscc
        if self.valid_from:
            m[NBF] = _day_start(self.valid_from)
        if self.valid_until:
            m[EXP] = _day_start(self.valid_until + timedelta(days=1))
        if self.status_index is not None:
            if not self.status_uri:
                raise ValueError("a status index needs the status list's URI")
            m[STATUS] = {"status_list": {"idx": self.status_index, "uri": self.status_uri}}
        return cbor2.dumps(m, canonical=True)

    @classmethod
    def from_cwt(cls, data: bytes) -> Claims:
        """Claims from a CWT claims set made by :meth:`to_cwt`."""
        m = _load_map(data)
        try:
            kind = m[C_KIND]
            version = _int(m[C_VERSION])
            ident = _unpacked_identifier(m[C_IDENT], version, m[ISS])
            status = m.get(STATUS)
            index: int | None = None
            uri: str | None = None
            if status is not None:
                entry = status["status_list"]
                index, uri = entry["idx"], entry["uri"]
                if not isinstance(index, int) or index < 0 or not isinstance(uri, str):
                    raise TypeError("status_list idx or uri")
            if not all(isinstance(v, str) for v in (kind, ident, m[C_TYPE], m[ISS])):
                raise TypeError("kind, identifier, type or issuer is not text")
            holder = m.get(C_HOLDER)
            if holder is not None and not isinstance(holder, str):
                raise TypeError("holder is not text")
            iat = m[IAT]
            if not isinstance(iat, int) or isinstance(iat, bool):
                raise TypeError("iat is not an integer")
            exp = m.get(EXP)
            return cls(
                kind=kind,
                identifier=IDENTIFIER_ROOT + ident if kind == KIND_LICENCE else ident,
                holder_uscc=holder,
                type_code=m[C_TYPE],
                valid_from=_day_of(m[NBF]) if NBF in m else None,
                valid_until=_day_of(exp) - timedelta(days=1) if exp is not None else None,
                version=version,
                doc_hash=b"",
                status_index=index,
                issuer=m[ISS],
                issued_at=iat,
                status_uri=uri,
            )
        except (KeyError, TypeError, ValueError, OverflowError) as e:
            raise PayloadError(f"claims incomplete or of the wrong type: {e}") from e

    def to_cbor(self) -> bytes:
        """The claims in the layout issued before the CWT (keys 0–9): for tools that make such tokens."""
        m: dict[int, object] = {
            0: self.kind,
            1: self._short_identifier(),
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
        """Claims in the layout issued before the CWT (keys 0–9, dates as YYYYMMDD)."""
        m = _load_map(data)
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


_IDENT_PARTS = re.compile(
    r"(?P<definer>[0-9A-Z]{18})(?P<seq>[0-9]{3})\.(?P<issuer>[0-9A-Z]{18})\.(?P<serial>[0-9]{8,})\.[0-9]{3}\.(?P<check>[0-9A-Z*])"
)


def _unpacked_identifier(value: object, version: int, iss: object) -> str:
    """The identifier (without its root) from claim -2: text as it is, or its parts put together."""
    if isinstance(value, str):
        return value
    if not isinstance(value, list) or len(value) != 5:
        raise TypeError("identifier is neither text nor its five parts")
    definer, seq, issuer, serial, check = value
    issuer = iss if issuer is None else issuer
    if not (
        (definer is None or isinstance(definer, str))
        and isinstance(issuer, str)
        and isinstance(check, str)
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (seq, serial, version))
    ):
        raise TypeError("identifier parts of the wrong type")
    return f"{definer or issuer}{seq:03d}.{issuer}.{serial:08d}.{version:03d}.{check}"


def _load_map(data: bytes) -> dict[Any, Any]:
    try:
        m = cbor2.loads(data)
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError) as e:
        raise PayloadError(f"claims are not CBOR: {e}") from e
    if not isinstance(m, dict):
        raise PayloadError("claims are not a map")
    return m


def _int(v: object) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise TypeError("not an integer")
    return v


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


def b32(data: bytes) -> str:
    """RFC 4648 base32 without padding: the QR token's alphabet (A–Z, 2–7), QR alphanumeric mode."""
    return base64.b32encode(data).rstrip(b"=").decode()


def _sig_structure(protected: bytes, payload: bytes) -> bytes:
    return cbor2.dumps(["Signature1", protected, b"", payload])


def _envelope(protected: bytes, payload: bytes, sig: bytes, *, cwt: bool = True) -> bytes:
    """The one encoding of a COSE_Sign1: tag 18 (inside the CWT tag 61 unless ``cwt`` is false, the
    earlier layout), empty unprotected header, canonical CBOR."""
    sign1 = cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, sig])
    return cbor2.dumps(cbor2.CBORTag(CWT_TAG, sign1) if cwt else sign1)


def protected_header(kid: bytes) -> bytes:
    """The protected header of every QR payload: ES256 and the signer's 8-byte kid."""
    return cbor2.dumps({HDR_ALG: ALG_ES256, HDR_KID: kid}, canonical=True)


def token_of(protected: bytes, claims: Claims, sig: bytes) -> str:
    """The QR token of ``claims`` signed as ``sig`` (64 bytes, r‖s) under ``protected``."""
    return b32(_envelope(protected, claims.to_cwt(), sig))


def sign_claims(claims: Claims, kid: bytes, sign_der: Callable[[bytes], bytes]) -> str:
    """The CWT of ``claims`` in a COSE_Sign1, as an upper-case base32 token for a URL path segment."""
    protected = protected_header(kid)
    payload = claims.to_cwt()
    r, s = decode_dss_signature(sign_der(_sig_structure(protected, payload)))
    sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return b32(_envelope(protected, payload, sig))


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
    protected: bytes = b""
    """The protected header as signed."""

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
_B32 = re.compile(r"[A-Z2-7]+")


def _decode_token(token: str) -> tuple[bytes, bool]:
    """The bytes of ``token`` and whether it is a CWT: base32 (the CWT layout) or base64url (the
    earlier layout, whose tokens all begin with "0", outside the base32 alphabet); canonical only."""
    if _B32.fullmatch(token):
        try:
            raw = base64.b32decode(token + "=" * (-len(token) % 8))
        except ValueError as e:
            raise PayloadError("not base32") from e
        if b32(raw) != token:
            raise PayloadError("not canonical base32")
        return raw, True
    if not _B64URL.fullmatch(token):
        raise PayloadError("not base32 or base64url")
    raw = unb64url(token)
    if b64url(raw) != token:
        raise PayloadError("not canonical base64url (stray bits in the last character)")
    return raw, False


def parse_signed(token: str) -> SignedPayload:
    """Decode (not verify) a QR token; the verifier checks the signature.

    Only the encodings :func:`sign_claims` makes (and made before the CWT layout) are read:
    canonical base32 of ``61(18([...]))`` with CWT claims, or canonical base64url of ``18([...])``
    with the earlier claims; an empty unprotected header, canonical CBOR and nothing after it. The
    envelope is not signed, so any other encoding of the same signed bytes is refused as malformed,
    rather than being a second token for the same licence."""
    if len(token) > 2000:
        raise PayloadError("too long")
    raw, cwt = _decode_token(token)
    try:
        obj = cbor2.loads(raw)
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError) as e:
        raise PayloadError(f"not CBOR: {e}") from e
    if cwt:
        if not isinstance(obj, cbor2.CBORTag) or obj.tag != CWT_TAG:
            raise PayloadError("a base32 token is not a CWT (tag 61)")
        obj = obj.value
    if not isinstance(obj, cbor2.CBORTag) or obj.tag != COSE_SIGN1_TAG:
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
    if _envelope(protected, payload, sig, cwt=cwt) != raw:
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
    claims = Claims.from_cwt(payload) if cwt else Claims.from_cbor(payload)
    return SignedPayload(kid, claims, _sig_structure(protected, payload), der, r, s, token, protected)
