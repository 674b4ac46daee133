"""证照分离: credit restrictions, commitments (告知承诺) and filings (备案)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from certsvc.api.models.base import IsoDate, IsoDateTime, Out

CommitmentStatus = Literal["signed", "pending", "overdue", "fulfilled", "unfulfilled"]


class CommitmentTermsOut(Out):
    """A commitment-mode type's terms: the text, the days to meet the conditions, what happens when they pass."""

    text: str
    conditions_due_days: int
    on_overdue: Literal["flag", "suspend"]


class CommitmentTextOut(CommitmentTermsOut):
    """The commitment text of a type, public, to read before signing."""

    department: str
    department_name: str
    licence_type: str
    licence_type_name: str


class PublicCommitment(Out):
    """A commitment as shown with its licence, to anyone (企业承诺内容应向社会公开)."""

    id: str
    status: CommitmentStatus
    status_label: str
    status_label_en: str
    due: IsoDate | None
    text: str
    signed_at: IsoDateTime
    decided_at: IsoDateTime | None
    pdf_url: str


class CommitmentOut(PublicCommitment):
    """A commitment for its enterprise and department: also the licence, the terms and the check's note."""

    licence_id: str | None
    conditions_due_days: int
    on_overdue: Literal["flag", "suspend"]
    note: str | None
    public_pdf_url: str | None


class CommitmentList(Out):
    """The enterprise's commitments, newest first."""

    items: list[CommitmentOut]
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last page")


class CreditRestrictionOut(Out):
    """A holder on the serious-dishonesty list until ``until`` (inclusive), unless lifted."""

    id: str
    uscc: str
    reason: str
    until: IsoDate
    created_at: IsoDateTime
    lifted_at: IsoDateTime | None
    active: bool


class CreditRestrictionList(Out):
    """Credit restrictions, newest first."""

    items: list[CreditRestrictionOut]
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last page")
