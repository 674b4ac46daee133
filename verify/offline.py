"""Verification with nothing but the published trust list and status list (no service at hand).

What cannot be known offline is said so: whether the service has a record of the file (is it
体外循环?) is left to the online check; the licence's status comes from the signed status list.
It fails closed: a trust list that does not verify is an error (:class:`TrustListError`), and
without a correctly signed, unexpired status list a licence's status is ``unknown``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.payload import KIND_RECEIPT, QR_KEYWORD_PREFIX
from verify.jose import JwtError, JwtExpired, unverified_claims, unverified_header, verify_es256
from verify.qr import verify_qr_text
from verify.report import Check, CheckName, StatusListError, VerifyError
from verify.status_list import ALLOWED_BITS, StatusCode, status_at
from verify.trust import OwnerKind, TrustContext, TrustedCert
from verify.verifier import verify_pdf
from verify.words import bilingual


class TrustListError(VerifyError):
    """The trust list given to the offline verifier does not verify: nothing can be judged with it."""

    def diagnostics(self) -> str:
        return f"The trust list does not verify: {self}."


def _pem(text: object, what: str) -> x509.Certificate:
    if not isinstance(text, str):
        raise TrustListError(f"{what} has no PEM certificate")
    try:
        return x509.load_pem_x509_certificate(text.encode())
    except ValueError as e:
        raise TrustListError(f"{what} is not a readable certificate") from e


def trust_from_list(tl: dict[str, Any]) -> TrustContext:
    """The trust context described by a ``GET /trust-list`` document, once it verifies.

    :class:`TrustListError` if it does not: the root must be a self-signed CA certificate, and
    every listed certificate must carry the root's signature and match its kid.
    """
    if not isinstance(tl, dict) or "root" not in tl:
        raise TrustListError("it is not a trust list (no root)")
    root = _pem(tl["root"], "the root")
    if not root.subject == root.issuer:
        raise TrustListError("the root is not self-signed")
    try:
        root.verify_directly_issued_by(root)
        ca = root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound) as e:
        raise TrustListError(f"the root's self-signature does not verify ({type(e).__name__})") from e
    if not ca:
        raise TrustListError("the root is not a CA certificate")
    certs = []
    entries = [*tl.get("issuers", []), *tl.get("enterprises", [])]
    for n, entry in enumerate(entries, 1):
        try:
            what = f"entry {n} (kid {entry.get('kid')})"
            cert = _pem(entry.get("certificate"), what)
            revoked = entry.get("revoked_from")
            trusted = TrustedCert.from_cert(
                cert,
                entry["kind"],
                str(entry.get("kid")),
                entry.get("department") or entry.get("holder") or "",
                revoked_from=datetime.fromisoformat(revoked) if revoked else None,
                licence_types=tuple(entry.get("licence_types", ())),
            )
        except TrustListError:
            raise
        except (AttributeError, KeyError, TypeError, ValueError, VerifyError) as e:
            raise TrustListError(f"entry {n} cannot be read ({type(e).__name__}: {e})") from e
        if trusted.kid != str(entry.get("kid")):
            raise TrustListError(f"{what}: the kid does not match the certificate")
        if cert.issuer != root.subject:
            raise TrustListError(f"{what} is not issued by the root")
        try:
            cert.verify_directly_issued_by(root)
        except (ValueError, TypeError, InvalidSignature) as e:
            raise TrustListError(f"{what} does not carry the root's signature") from e
        certs.append(trusted)
    try:
        return TrustContext(root=root, certs=tuple(certs))
    except VerifyError as e:
        raise TrustListError(str(e)) from e


STATUS_LIST_TYP = "statuslist+jwt"
StatusListInput = dict[str, Any] | str
"""A status list as fetched: the compact JWT (``Accept: application/statuslist+jwt``) or the JSON
envelope whose ``jws`` member is that JWT."""


def check_status_list(
    sl: StatusListInput, trust: TrustContext, now: datetime | None = None, *, expected_sub: str | None = None
) -> dict[str, Any]:
    """The claims of a Token Status List JWT, once it is signed (ES256, ``typ: statuslist+jwt``) by the
    service certificate on the trust list, unexpired, and about ``expected_sub`` (when known: the
    list's URL). :class:`StatusListError`, in words, otherwise."""
    token = sl.get("jws") if isinstance(sl, dict) else sl
    if not isinstance(token, str):
        raise StatusListError("it is not a signed status list (no readable JWT)")
    token = token.strip()
    try:
        header = unverified_header(token)
    except JwtError as e:
        raise StatusListError("it is not a signed status list (no readable JWT)") from e
    entry = trust.by_kid(str(header.get("kid", "")))
    if entry is None or entry.owner_kind != OwnerKind.SERVICE or header.get("alg") != "ES256":
        raise StatusListError("it is not signed by the service certificate on the trust list")
    key = entry.cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise StatusListError("it is not signed by the service certificate on the trust list")
    moment = (now or datetime.now(UTC)).timestamp()
    sub: dict[str, Any] = {"essential": True}
    if expected_sub:
        sub["value"] = expected_sub
    options = {"sub": sub, "iat": {"essential": True}, "exp": {"essential": True}}
    try:
        payload = verify_es256(token, key, typ=STATUS_LIST_TYP, now=int(moment), claims=options)
    except JwtExpired as e:
        exp = unverified_claims(token).get("exp")
        when = datetime.fromtimestamp(float(exp), UTC).isoformat(timespec="seconds") if exp else "?"
        raise StatusListError(f"it expired at {when}; fetch a fresh one") from e
    except JwtError as e:
        if "signature" in str(e):
            raise StatusListError("its signature does not verify: it was altered or signed by someone else") from e
        raise StatusListError(f"it is not a valid status list: {e}") from e
    lst = payload.get("status_list")
    if not isinstance(lst, dict) or not isinstance(lst.get("lst"), str) or lst.get("bits") not in ALLOWED_BITS:
        raise StatusListError("its signed content is not a status list (status_list.bits, status_list.lst)")
    if entry.revoked_at(datetime.fromtimestamp(float(payload["iat"]), UTC)):
        raise StatusListError("it is signed with a service key revoked before it was issued")
    return payload


def trust_list_from_jws(token: str) -> dict[str, Any]:
    """The trust list inside a compact JWS (``Accept: application/jwt``), once the JWS verifies with the
    root certificate it names both in its header (``x5c``) and in its payload. :class:`TrustListError`
    otherwise. Whether that root is the one to trust stays the caller's decision, as for the JSON."""
    token = token.strip()
    try:
        header, tl = unverified_header(token), unverified_claims(token)
    except JwtError as e:
        raise TrustListError("it is neither JSON nor a compact JWS") from e
    root = _pem(tl.get("root"), "the root")
    x5c = header.get("x5c")
    der = root.public_bytes(Encoding.DER)
    if not isinstance(x5c, list) or not x5c or x5c[0] != base64.b64encode(der).decode():
        raise TrustListError("its JWS header does not carry the root certificate of its payload (x5c)")
    key = root.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise TrustListError("the root key is not an EC key")
    try:
        # generated_at, not exp, dates a trust list; only the signature is checked here
        return verify_es256(token, key, typ="JWT", now=int(datetime.now(UTC).timestamp()))
    except JwtError as e:
        raise TrustListError(f"its JWS by the root key does not verify ({e})") from e


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


def _unknown(out: dict[str, Any], reason: str, **known: Any) -> dict[str, Any]:
    """Fail closed: a genuine file whose status cannot be established offline has status unknown."""
    out["licence"] = {**known, "status": "unknown", "status_reason": reason}
    out["checks"].append({"name": CheckName.STATUS_LIST, "ok": False, "detail": f"Status unknown: {reason}."})
    return out


def verify_offline(
    data: bytes, trust_list: dict[str, Any], status_list: StatusListInput | None, *, now: datetime | None = None
) -> dict[str, Any]:
    """Verify a PDF with only the published trust list (and status list): no access to the service needed.

    :class:`TrustListError` if the trust list does not verify. A genuine licence gets its status
    from the status list only when that list is correctly signed and unexpired; otherwise its
    status is ``unknown``, with the reason. Every check carries its words in Chinese and English.
    """
    return bilingual(_verify_offline(data, trust_list, status_list, now=now))


def _verify_offline(
    data: bytes, trust_list: dict[str, Any], status_list: StatusListInput | None, *, now: datetime | None = None
) -> dict[str, Any]:
    trust = trust_from_list(trust_list)
    report = verify_pdf(data, trust, lambda _sha: True, is_report=lambda _sha: True)
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
    if report.signer is not None and report.signer.owner_kind == OwnerKind.SERVICE:
        out["report"] = {"kind": "report"}  # a verification report under the service's own seal: no status
        return out
    token = qr_token_in(data)
    if token is None:
        return _unknown(out, "the file carries no signed QR payload to find its status by")
    qr = verify_qr_text(token, trust)
    out["qr"] = qr.to_dict()
    claims = qr.claims
    if not qr.genuine or claims is None:
        return _unknown(out, f"the QR payload in the file does not verify ({qr.verdict.value})")
    if claims.kind == KIND_RECEIPT:
        out["receipt"] = {"id": claims.identifier}  # offline, the QR payload is all there is of it
        return out
    known: dict[str, Any] = {
        "identifier": claims.identifier,
        "licence_type": claims.type_code,
        "holder_uscc": claims.holder_uscc,
        "version": claims.version,
        "valid_from": claims.valid_from.isoformat() if claims.valid_from else None,
        "valid_until": claims.valid_until.isoformat() if claims.valid_until else None,
    }
    if claims.status_index is None:
        return _unknown(out, "the licence's QR payload has no status list index", **known)
    if status_list is None:
        return _unknown(out, "no status list was given; fetch GET /api/v1/status-list", **known)
    try:
        sub = claims.status_uri or trust_list.get("status_list_uri")  # the list the QR names, else the service's
        payload = check_status_list(status_list, trust, now, expected_sub=sub if isinstance(sub, str) else None)
        lst = payload["status_list"]
        code = status_at(lst["lst"], claims.status_index, int(lst.get("bits", 2)))
        status = StatusCode(code).name.lower()
    except (StatusListError, ValueError, TypeError) as e:
        reason = e.args[0] if isinstance(e, StatusListError) else f"its list cannot be read ({type(e).__name__})"
        return _unknown(out, f"the status list cannot be used: {reason}", **known)
    today = (now or datetime.now(UTC)).date()
    if status == "valid" and claims.valid_until and claims.valid_until < today:
        status = "expired"
    issued = datetime.fromtimestamp(float(payload["iat"]), UTC).isoformat(timespec="seconds")
    out["licence"] = {**known, "status": status, "status_list_issued_at": payload["iat"]}
    out["checks"].append(
        Check(CheckName.STATUS_LIST, True, f"Status from the signed status list issued at {issued}.").__dict__
    )
    return out


def load_status_list(path: Path) -> StatusListInput:
    """A saved status list: the compact JWT, or the JSON envelope (``ValueError`` if it is neither)."""
    text = path.read_text(encoding="utf-8").strip()
    return json.loads(text) if text.startswith("{") else text


def load_trust_list(path: Path) -> dict[str, Any]:
    """A saved trust list: the JSON, or the compact JWS of it by the root key (verified here)."""
    text = path.read_text(encoding="utf-8").strip()
    if text.startswith("{"):
        return json.loads(text)
    return trust_list_from_jws(text)
