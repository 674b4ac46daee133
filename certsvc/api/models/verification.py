"""Verification answers, the trust list and the status list; health."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from certsvc.api.models.base import GrantState, IsoDate, IsoDateTime, Out
from certsvc.api.models.licences import PublicLicence
from verify.report import CheckName, Verdict
from verify.trust import OwnerKind


class CheckOut(Out):
    """One rule of the verdict, whether it held, and why, in words a member of the public can read."""

    name: CheckName
    ok: bool
    detail: str
    label_zh: str | None = Field(default=None, description="what the rule is, in Chinese (e.g. 签章完好)")
    label_en: str | None = Field(default=None, description="what the rule is, in English (e.g. Seal intact)")
    detail_zh: str | None = Field(default=None, description="whether it held, in Chinese")


class SignerOut(Out):
    """Who sealed the file: the certificate and its owner (a department, an enterprise or the service), and when."""

    name: str | None
    uscc: str | None
    kid: str | None
    owner_kind: OwnerKind | None
    owner_id: str | None = None
    field_name: str | None = None
    signing_time: IsoDateTime | None = None
    certificate_valid_then: bool | None = Field(
        default=None, description="signed_by_enterprise: the certificate chained to the root, unrevoked, when it signed"
    )
    certificate_valid_now: bool | None = Field(
        default=None, description="signed_by_enterprise: the certificate is within its validity and not revoked now"
    )


class LaterSignatureOut(Out):
    """A signature added after the seal; on a genuine file, the service's mark on a copy made for a grantee."""

    field_name: str
    kid: str | None
    owner_kind: OwnerKind | None
    signing_time: IsoDateTime | None = None


class FileOut(Out):
    """The uploaded file: its size, its SHA-256 and how many revisions (incremental saves) it has."""

    size: int
    sha256: str
    revisions: int


class ReceiptRef(Out):
    """The acceptance receipt (受理回执) the document or QR code is, as this service recorded it."""

    id: str
    application_number: str
    matter: str
    issued_at: IsoDateTime | None = None
    verify_url: str | None = None


class ReportRef(Out):
    """The verification report (验证报告) the uploaded file is: sealed by this service about a file
    or QR code it checked; it is not a licence and has no licence status."""

    id: str
    kind: Literal["report"] = "report"
    checked_at: IsoDateTime
    checked_sha256: str | None = Field(default=None, description="SHA-256 of the file that was checked (PDF)")
    verdict: Verdict = Field(description="the verdict the report states about the file it checked")
    source: Literal["pdf", "qr"]


class GrantRef(Out):
    """The grant a marked copy was made for."""

    id: str
    grantee_name: str
    purpose: str
    expires_at: IsoDateTime
    active: bool
    state: GrantState


class VerifyResult(Out):
    """The verdict on an uploaded PDF, the checks behind it, and what the service knows of it."""

    verdict: Verdict
    checks: list[CheckOut]
    signer: SignerOut | None = None
    signers: list[SignerOut] | None = Field(
        default=None, description="signed_by_enterprise: every enterprise that signed, in signing order"
    )
    later_signatures: list[LaterSignatureOut] | None = None
    file: FileOut | None = None
    sealed_revision_sha256: str | None = None
    licence: PublicLicence | None = None
    receipt: ReceiptRef | None = None
    report: ReportRef | None = None
    grant: GrantRef | None = None


class QrClaims(Out):
    """What a QR payload states under its signature: the document, its holder, type, validity, version, status index."""

    kind: str | int
    identifier: str
    holder_uscc: str | None
    type_code: str | None
    valid_from: IsoDate | None
    valid_until: IsoDate | None
    version: int | None
    doc_hash_prefix: str
    status_index: int | None
    issuer: str | None = Field(
        default=None, description="CWT iss: the service's public base URL (absent on older QR codes)"
    )
    issued_at: IsoDateTime | None = Field(default=None, description="CWT iat: when the payload was signed")
    status_list_uri: str | None = Field(default=None, description="the status list the status index refers to")


class QrSigner(Out):
    """Whose key signed the QR payload."""

    kid: str
    name: str | None
    kind: OwnerKind | None


class QrVerifyResult(Out):
    """The verdict on the text of a QR code."""

    verdict: Verdict
    checks: list[CheckOut]
    claims: QrClaims | None = None
    signer: QrSigner | None = None
    licence: PublicLicence | None = None
    receipt: ReceiptRef | None = None


class TrustedIssuer(Out):
    """A department's (or the service's) certificate."""

    kid: str
    kind: OwnerKind
    department: str
    uscc: str | None
    certificate: str = Field(description="PEM")
    licence_types: list[str]
    not_before: IsoDateTime
    not_after: IsoDateTime
    revoked_from: IsoDateTime | None = None


class TrustedEnterprise(Out):
    """An enterprise's business-licence signing certificate."""

    kid: str
    kind: OwnerKind
    uscc: str | None
    certificate: str = Field(description="PEM")
    licence_types: list[str]
    not_before: IsoDateTime
    not_after: IsoDateTime
    holder: str
    revoked_from: IsoDateTime | None = None


class TrustList(Out):
    """What an offline verifier trusts: the root, and the certificates of the departments, service and enterprises."""

    root: str = Field(description="PEM of the root certificate")
    issuers: list[TrustedIssuer]
    enterprises: list[TrustedEnterprise]
    status_list_uri: str = Field(description="the status list's URL, the ``sub`` of its JWT")
    generated_at: IsoDateTime


class StatusListBits(Out):
    """The Token Status List: ``bits`` per licence version, least significant first, ZLIB-compressed and
    base64url-encoded in ``lst``."""

    bits: int
    lst: str


class StatusListPayload(Out):
    """The claims of the status list JWT: issuer, the list's own URL (``sub``), issue and expiry times (Unix),
    time-to-live in seconds, and the list."""

    iss: str
    sub: str
    iat: int
    exp: int
    ttl: int
    status_list: StatusListBits


class StatusList(Out):
    """The status list JWT (``jws``: ES256, ``typ: statuslist+jwt``, by the service seal), its claims, and what
    each code means (0 valid, 1 revoked, 2 suspended, 3 superseded)."""

    payload: StatusListPayload
    jws: str
    codes: dict[str, str]


class Jwk(Out):
    """A public key (P-256) that signs QR payloads, status lists or events, with its certificate chain."""

    kty: str
    crv: str
    x: str
    y: str
    kid: str
    use: str
    alg: str
    x5c: list[str] = Field(description="the certificate, then the root (base64 DER)")
    revoked_from: IsoDateTime | None = None


class Jwks(Out):
    """The JSON Web Key Set of the keys verifiers need, rotated ones included."""

    keys: list[Jwk]


class Health(Out):
    """Whether the service can work: ``ok`` or ``degraded``, and the check of each part it needs."""

    status: Literal["ok", "degraded"]
    checks: dict[str, str]
