"""Licence types, licences (full and public views) and receipts."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from certsvc.api.models.base import HolderStatus, IsoDate, IsoDateTime, LicenceStatus, Out
from certsvc.api.models.errors import ErrorDetail
from certsvc.api.models.events import FeedbackOut
from certsvc.api.models.reform import CommitmentOut, CommitmentTermsOut, PublicCommitment


class LicenceField(Out):
    """One field of a licence type: its name, whether issuing requires it, whether it holds personal data."""

    name: str
    required: bool
    private: bool


class LicenceTypeOut(Out):
    """A licence type (证照类型): the code requests name it by, its type code, fields, validity and reform mode."""

    code: str
    name: str
    type_code: str
    fields: list[LicenceField]
    validity_days: int | None
    reform_mode: str
    reform_mode_name: str | None
    business_licence: bool
    commitment: CommitmentTermsOut | None = None


class LicenceTypeList(Out):
    """The licence types the department has defined, oldest first."""

    items: list[LicenceTypeOut]
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last page")


class LicenceOut(Out):
    """The full record of a licence at a version, for its issuer and its holder."""

    id: str
    kind: Literal["licence", "filing"] = "licence"
    identifier: str
    number: str
    version: int
    status: LicenceStatus
    status_label: str
    licence_type: str
    licence_type_name: str
    holder_uscc: str
    holder_name: str
    holder_kind: str
    fields: dict[str, Any]
    valid_from: IsoDate | None
    valid_until: IsoDate | None
    issuer: str
    issuer_code: str
    issued_at: IsoDateTime | None
    issued_on: IsoDate | None = None
    state_reason: str | None
    revoke_kind: str | None
    sha256: str
    pdf_url: str
    verify_url: str | None = None
    activation_code: str | None = Field(default=None, description="business licences only: shown once")
    commitment: CommitmentOut | None = Field(default=None, description="issued in commitment mode (告知承诺)")
    feedback: list[FeedbackOut] | None = Field(default=None, description="supervising departments' feedback (反馈)")


class LicenceRegister(Out):
    """A page of the department's register: its licences at their current versions, newest first."""

    items: list[LicenceOut]
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last page")


class LicenceVersionOut(Out):
    """One version of a licence: what it was, its status now, and where its sealed PDF is."""

    version: int
    identifier: str
    number: str
    status: LicenceStatus
    status_label: str
    holder_name: str
    valid_from: IsoDate
    valid_until: IsoDate | None
    sha256: str
    created_at: IsoDateTime
    superseded_at: IsoDateTime | None
    pdf_url: str


class LicenceVersionList(Out):
    """A page of a licence's versions, oldest first."""

    items: list[LicenceVersionOut]
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last page")


class BatchItemOut(Out):
    """One item of a batch: ``ok`` and ``status_code``, then the licence or the error."""

    ok: bool
    status_code: int
    id: str | None = None
    identifier: str | None = None
    number: str | None = None
    version: int | None = None
    status: LicenceStatus | None = None
    status_label: str | None = None
    licence_type: str | None = None
    licence_type_name: str | None = None
    holder_uscc: str | None = None
    holder_name: str | None = None
    holder_kind: str | None = None
    fields: dict[str, Any] | None = None
    valid_from: IsoDate | None = None
    valid_until: IsoDate | None = None
    issuer: str | None = None
    issuer_code: str | None = None
    issued_at: IsoDateTime | None = None
    state_reason: str | None = None
    revoke_kind: str | None = None
    sha256: str | None = None
    pdf_url: str | None = None
    verify_url: str | None = None
    activation_code: str | None = None
    error: ErrorDetail | None = None


class BatchOut(Out):
    """The outcome of a batch: one result per item, in the order sent, and how many were issued and failed."""

    results: list[BatchItemOut]
    issued: int
    failed: int


class PublicLicence(Out):
    """What anyone may see of a licence: no field values, so no personal data."""

    genuine: bool
    kind: Literal["licence", "filing"] = "licence"
    status: LicenceStatus
    status_label: str
    status_label_en: str
    licence_type: str
    licence_type_name: str
    number: str
    identifier: str
    version: int
    current_version: int
    holder_name: str
    holder_uscc: str
    issuer: str
    issuer_uscc: str
    valid_from: IsoDate | None
    valid_until: IsoDate | None
    issued_at: IsoDateTime | None
    issued_on: IsoDate | None = None
    pdf_sha256: str
    state_reason: str | None
    revoke_kind: str | None
    enterprise_url: str
    holder_status: HolderStatus | None = None
    holder_status_label: str | None = None
    holder_status_label_en: str | None = None
    verdict: Literal["signature_invalid"] | None = None
    seal_problem: str | None = None
    status_at: IsoDateTime | None = None
    status_at_local: str | None = None
    commitment: PublicCommitment | None = None


class HeldPublicLicence(PublicLicence):
    """A licence on its holder's public page (一码展示), with the page its QR code opens and whether it is
    current (valid or suspended, and its seal sound)."""

    verify_url: str
    current: bool


class SharedLicence(PublicLicence):
    """A licence on a share link's page, and whether (and where) the grantee may download its marked copy."""

    id: str
    downloadable: bool
    download_url: str | None


class EnterprisePage(Out):
    """一码展示: a page of the licences held under a USCC, current ones first (the business licence first of
    all), then the rest, newest first; ``count`` is how many it holds in all."""

    uscc: str
    name: str | None
    registered: bool
    holder_status: HolderStatus | None = None
    holder_status_label: str | None = None
    holder_status_label_en: str | None = None
    count: int
    items: list[HeldPublicLicence]
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last page")


# --- receipts ----------------------------------------------------------------------------


class MissingMaterialOut(Out):
    """A material the applicant still has to hand in (补正材料), and by when."""

    name: str
    due: IsoDate


class ReceiptMaterials(Out):
    """The application's materials: those received, and those missing with their due dates."""

    received: list[str]
    missing: list[MissingMaterialOut]


class ReceiptPublic(Out):
    """An acceptance receipt as its QR code shows it."""

    id: str
    genuine: bool
    kind: Literal["receipt"]
    matter: str
    application_number: str
    applicant_name: str
    department: str
    issued_at: IsoDateTime
    sha256: str
    verify_url: str


class ReceiptOut(ReceiptPublic):
    """The full receipt, for the department that issued it."""

    materials: ReceiptMaterials
    applicant_uscc: str | None
    pdf_url: str
