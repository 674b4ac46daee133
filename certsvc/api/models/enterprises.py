"""Enterprises, grants and share links."""

from __future__ import annotations

from pydantic import Field

from certsvc.api.models.base import GrantState, IsoDate, IsoDateTime, Out
from certsvc.api.models.licences import LicenceOut, SharedLicence


class ActivationOut(Out):
    token: str
    note: str


class HeldLicences(Out):
    """一企一档: every licence the enterprise holds."""

    uscc: str
    name: str
    items: list[LicenceOut]


class LookupOut(Out):
    """共享调用: another holder's current licences, for the stated purpose."""

    uscc: str
    purpose: str
    items: list[LicenceOut]


class GrantOut(Out):
    id: str
    licence_ids: list[str]
    grantee_name: str
    grantee_id: str | None = Field(description="masked")
    purpose: str
    created_at: IsoDateTime
    expires_at: IsoDateTime
    max_downloads: int | None
    downloads: int
    state: GrantState
    qr_url: str


class NewGrantOut(GrantOut):
    share_url: str = Field(description="shown once: stored only as a hash")
    note: str


class GrantList(Out):
    items: list[GrantOut]


class AccessEventOut(Out):
    at: IsoDateTime
    kind: str
    licence_id: str | None
    grant_id: str | None
    department: str | None
    purpose: str | None


class VerificationCountOut(Out):
    licence_id: str
    day: IsoDate
    count: int


class AccessLog(Out):
    page: int
    per_page: int
    total: int
    items: list[AccessEventOut]
    verification_counts: list[VerificationCountOut]


class ShareEnterprise(Out):
    name: str | None
    uscc: str | None


class ShareGrant(Out):
    id: str
    grantee_name: str
    purpose: str
    expires_at: IsoDateTime
    expires_on: IsoDate
    max_downloads: int | None
    downloads: int


class SharePage(Out):
    """The grantee's page of a share link."""

    state: GrantState
    enterprise: ShareEnterprise
    grant: ShareGrant
    licences: list[SharedLicence]
