"""Offline check of the text in a licence's (or receipt's) QR code: a COSE_Sign1, ES256.

Needs nothing but the trust list: the ``kid`` in the protected header names the certificate, the
certificate must be one of our department (or service) certificates, issued by our root and not
revoked before the licence took effect; then the signature is checked with ``cryptography``.
The payload format itself is :mod:`signing.payload`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from signing.payload import KIND_LICENCE, KIND_RECEIPT, Claims, PayloadError, parse_signed
from verify.report import Check, CheckName, Verdict
from verify.trust import OwnerKind, TrustContext

QR_SIGNER_KINDS = frozenset({OwnerKind.DEPARTMENT, OwnerKind.SERVICE})
_PATH_KINDS = {"v": KIND_LICENCE, "r": KIND_RECEIPT}
MAX_QR_TEXT = 4096


@dataclass(frozen=True)
class QrResult:
    """The verdict on a QR text, with the claims it carries once they are shown to be genuine."""

    verdict: Verdict
    checks: tuple[Check, ...]
    claims: Claims | None = None  # set whenever the payload could be decoded (even if not genuine)
    kid: str | None = None
    signer_name: str | None = None
    signer_kind: str | None = None
    token: str | None = None

    @property
    def genuine(self) -> bool:
        return self.verdict is Verdict.GENUINE

    def diagnostics(self) -> str:
        failed = [c.detail.rstrip(".") for c in self.checks if not c.ok]
        return f"Verdict {self.verdict.value}" + (": " + "; ".join(failed) if failed else "") + "."

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"verdict": self.verdict.value, "checks": [asdict(c) for c in self.checks]}
        if self.claims is not None and self.genuine:
            c = self.claims
            out["claims"] = {
                "kind": "licence" if c.kind == KIND_LICENCE else "receipt" if c.kind == KIND_RECEIPT else c.kind,
                "identifier": c.identifier,
                "holder_uscc": c.holder_uscc,
                "type_code": c.type_code,
                "valid_from": c.valid_from.isoformat() if c.valid_from else None,
                "valid_until": c.valid_until.isoformat() if c.valid_until else None,
                "version": c.version,
                "doc_hash_prefix": c.doc_hash.hex(),
                "status_index": c.status_index,
            }
            if c.issuer is not None:  # the CWT layout; earlier QR codes carry none of these
                moment = c.issued_moment
                out["claims"].update(
                    issuer=c.issuer,
                    issued_at=moment.isoformat() if moment else None,
                    status_list_uri=c.status_uri,
                )
        if self.kid:
            out["signer"] = {"kid": self.kid, "name": self.signer_name, "kind": self.signer_kind}
        return out


def split_qr_text(text: str) -> tuple[str, str | None]:
    """``(token, expected kind)`` from ``<base>/v/<token>``, ``<base>/r/<token>`` or a bare token."""
    text = text.strip()
    if "/" not in text:
        return text, None
    parts = [p for p in urlsplit(text).path.split("/") if p]
    if len(parts) >= 2 and parts[-2] in _PATH_KINDS:
        return parts[-1], _PATH_KINDS[parts[-2]]
    raise PayloadError("not a licence or receipt link (expected …/v/<token> or …/r/<token>)")


def _issue_moment(claims: Claims) -> datetime | None:
    """When the payload was signed: ``iat``; QR codes of the earlier layout have no issue time, and
    the start of validity is the closest they say.

    So a key revoked after a licence was sealed still verifies its QR offline (the licence's own
    status, from the status list or the online page, is what changes), and a QR forged with a
    compromised key and an earlier ``iat`` (or ``valid_from``) is only caught online.
    """
    if claims.issued_moment is not None:
        return claims.issued_moment
    d: date | None = claims.valid_from
    return datetime.combine(d, time.min, tzinfo=UTC) if d else None


def verify_qr_text(text: str, trust: TrustContext) -> QrResult:
    """Check a QR text offline. Never raises for anything in ``text``."""
    if len(text) > MAX_QR_TEXT:
        return QrResult(Verdict.MALFORMED, (Check(CheckName.PAYLOAD_READABLE, False, "The QR text is far too long."),))
    try:
        token, expected_kind = split_qr_text(text)
        signed = parse_signed(token)
    except Exception as e:  # hostile input: any decoding failure is "malformed"
        detail = e.diagnostics() if isinstance(e, PayloadError) else f"QR payload not readable: {type(e).__name__}."
        return QrResult(Verdict.MALFORMED, (Check(CheckName.PAYLOAD_READABLE, False, detail),))
    claims = signed.claims
    kid = signed.kid.hex()
    checks = [Check(CheckName.PAYLOAD_READABLE, True, "The QR code carries a signed payload.")]

    def result(verdict: Verdict, **kw: Any) -> QrResult:
        return QrResult(verdict, tuple(checks), claims=claims, kid=kid, token=token, **kw)

    if expected_kind is not None and claims.kind != expected_kind:
        checks.append(Check(CheckName.KIND_MATCHES_LINK, False, "The link's kind does not match the payload's."))
        return result(Verdict.MALFORMED)

    entry = trust.by_kid(kid)
    if entry is None or entry.owner_kind not in QR_SIGNER_KINDS:
        checks.append(
            Check(CheckName.SIGNER_KNOWN, False, f"The signing key (kid {kid}) is not on this service's trust list.")
        )
        return result(Verdict.UNKNOWN_SIGNER)
    who = {"signer_name": entry.name, "signer_kind": entry.owner_kind}
    checks.append(Check(CheckName.SIGNER_KNOWN, True, f"Signed by {entry.name} (kid {kid})."))
    if not trust.issued_by_root(entry.cert):
        checks.append(
            Check(CheckName.SIGNER_TRUSTED, False, "The signer's certificate is not issued by this service's root.")
        )
        return result(Verdict.UNKNOWN_SIGNER, **who)
    checks.append(Check(CheckName.SIGNER_TRUSTED, True, "The signer's certificate is issued by this service's root."))

    public_key = entry.cert.public_key()
    try:
        if not isinstance(public_key, ec.EllipticCurvePublicKey):
            raise InvalidSignature("not an EC key")
        public_key.verify(signed.der_signature, signed.to_be_signed, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        checks.append(
            Check(
                CheckName.SIGNATURE_VALID,
                False,
                "The QR payload's signature does not verify: it was altered or not signed with this key.",
            )
        )
        return result(Verdict.SIGNATURE_INVALID, **who)
    checks.append(Check(CheckName.SIGNATURE_VALID, True, "The QR payload's signature verifies."))
    if claims.issuer and entry.owner_kind == OwnerKind.DEPARTMENT and claims.issuer != entry.uscc:
        checks.append(
            Check(CheckName.ISSUER_IS_SIGNER, False, f"The payload names issuer {claims.issuer}, not {entry.name}.")
        )
        return result(Verdict.SIGNATURE_INVALID, **who)

    moment = _issue_moment(claims)
    if entry.revoked_at(moment):
        checks.append(
            Check(
                CheckName.SIGNER_NOT_REVOKED,
                False,
                f"The signer's certificate is revoked from "
                f"{entry.revoked_from:%Y-%m-%d}, on or before the licence took effect.",
            )
        )
        return result(Verdict.SIGNATURE_INVALID, **who)
    checks.append(
        Check(
            CheckName.SIGNER_NOT_REVOKED,
            True,
            "The signer's certificate was not revoked when the licence took effect.",
        )
    )
    if (
        claims.kind == KIND_LICENCE
        and entry.owner_kind == OwnerKind.DEPARTMENT
        and entry.licence_types
        and claims.type_code not in entry.licence_types
    ):
        checks.append(
            Check(
                CheckName.LICENCE_TYPE_ALLOWED,
                False,
                f"{entry.name} may not seal licences of type {claims.type_code}.",
            )
        )
        return result(Verdict.SIGNATURE_INVALID, **who)
    return result(Verdict.GENUINE, **who)
