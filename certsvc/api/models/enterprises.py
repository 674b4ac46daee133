"""Enterprises, grants and share links."""

from __future__ import annotations

from pydantic import Field

from certsvc.api.models.base import GrantState, IsoDate, IsoDateTime, Out
from certsvc.api.models.licences import HeldPublicLicence, LicenceOut, SharedLicence


class ActivationOut(Out):
    """The enterprise token an activation code was exchanged for: shown this once, so store it safely."""

    token: str
    note: str


class HeldLicences(Out):
    """一企一档: a page of every licence the enterprise holds, newest first."""

    uscc: str
    name: str
    items: list[LicenceOut]
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last page")


class LookupOut(Out):
    """共享调用: a page of another holder's current licences, for the stated purpose."""

    uscc: str
    purpose: str
    items: list[LicenceOut]
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last page")


class GrantOut(Out):
    """A grant as its enterprise sees it: who, for what, until when, how many downloads are left."""

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
    """A grant just created, with its share URL (kept sealed: its QR code stays at ``qr_url`` of the grants list)."""

    share_url: str = Field(description="anyone who has it can download within the grant's limits: keep it safe")
    note: str


class GrantList(Out):
    """A page of the enterprise's grants, newest first."""

    items: list[GrantOut]
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last page")


class AccessEventOut(Out):
    """One access to the enterprise's licences: when, what kind (grant download, department look-up), by whom, why."""

    at: IsoDateTime
    kind: str
    licence_id: str | None
    grant_id: str | None
    department: str | None
    purpose: str | None
    matter: str | None = Field(None, description="the matter code of a 免提交 look-up (matter_lookup)")
    attempts: int = Field(1, description="refused downloads (refused_*): how many attempts, counted per minute")


class VerificationCountOut(Out):
    """How many times a licence's verification page (its QR code) was opened on one day."""

    licence_id: str
    day: IsoDate
    count: int


class AccessLog(Out):
    """One page of who accessed the enterprise's licences, newest first, with the daily QR scan counts."""

    items: list[AccessEventOut]
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last page")
    verification_counts: list[VerificationCountOut]


class ShareEnterprise(Out):
    """The enterprise that shared the licences."""

    name: str | None
    uscc: str | None


class ShareGrant(Out):
    """The grant behind a share link, as its grantee sees it: for whom, for what, until when, downloads used."""

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


class NewShowOut(Out):
    """A live showing code (亮照) just made: the URL its QR code opens, the QR image, and when it expires."""

    id: str
    url: str = Field(description="the page the code opens (unguessable; stored only hashed)")
    qr_url: str = Field(description="the URL as a PNG QR code, to show on a screen")
    expires_at: IsoDateTime
    expires_in_seconds: int
    licence_ids: list[str]


class ShowEnterprise(Out):
    """The enterprise that shows its licences."""

    name: str
    uscc: str


class ShowPage(Out):
    """What a live showing code shows: the enterprise, the chosen licences (as ``/e/`` shows them), when it expires."""

    state: str = Field(description="active (afterwards the code answers 410)")
    enterprise: ShowEnterprise
    created_at: IsoDateTime
    expires_at: IsoDateTime
    expires_in_seconds: int
    licences: list[HeldPublicLicence]
