"""Request bodies of the HTTP API, shared by the routes and the services that validate items."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from certsvc.inputs import Day, RequestModel
from certsvc.licences.rules import IssueRequest


class FieldSpec(RequestModel):
    """One field of a new licence type: its name, whether issuing requires it, whether it holds personal data."""

    name: str = Field(min_length=1, max_length=64)
    required: bool = False
    private: bool = False


class CommitmentTerms(RequestModel):
    """What an enterprise commits to in commitment mode (实行告知承诺), the days it has to meet the
    conditions, and what happens when they pass unchecked: ``flag`` (overdue) or ``suspend``."""

    MULTILINE = frozenset({"text"})

    text: str = Field(min_length=1, max_length=4000)
    conditions_due_days: int = Field(ge=1, le=3650)
    on_overdue: Literal["flag", "suspend"] = "flag"


class LicenceTypeIn(RequestModel):
    """A new licence type: its code, name, fields, validity in days (none: 长期), reform mode, and in
    commitment mode its commitment terms."""

    MULTILINE = frozenset({"commitment"})

    code: str = Field(min_length=2, max_length=16)
    name: str = Field(min_length=1, max_length=100)
    fields: list[FieldSpec] = Field(default_factory=list, max_length=50)
    validity_days: int | None = Field(default=None, ge=1, le=36500)
    reform_mode: Literal["approval", "commitment", "filing", "abolished"] = "approval"
    commitment: CommitmentTerms | None = None


LicenceIn = IssueRequest
"""The body of ``POST /licences`` (also each item of a batch)."""


class BatchIn(RequestModel):
    """Up to 500 licences to issue, each a ``POST /licences`` body; each item is checked on its own."""

    CHECKED_PER_ITEM = frozenset({"items"})  # a bad item is that item's error (certsvc.licences.batch)

    items: list[dict[str, Any]] = Field(min_length=1, max_length=500)


class ReasonIn(RequestModel):
    """Why a licence is suspended, resumed or revoked; for a revocation, which kind (撤销, 吊销 or 注销)."""

    MULTILINE = frozenset({"reason"})

    reason: str = Field(min_length=1, max_length=500)
    kind: Literal["撤销", "吊销", "注销"] | None = None


class RenewIn(RequestModel):
    """The new end of validity (later than the current one), and why."""

    MULTILINE = frozenset({"reason"})

    valid_until: Day
    reason: str | None = Field(default=None, max_length=500)


class AmendIn(RequestModel):
    """The fields to change (an empty or null value removes one), a corrected holder name, and why."""

    MULTILINE = frozenset({"fields", "reason"})

    fields: dict[str, Any] = Field(default_factory=dict)
    holder_name: str | None = Field(default=None, min_length=1, max_length=200)
    reason: str | None = Field(default=None, max_length=500)


class ActivateIn(RequestModel):
    """The enterprise's USCC and the one-time activation code issued with its business licence."""

    uscc: str = Field(min_length=1, max_length=32)
    activation_code: str = Field(min_length=1, max_length=64)


class GrantIn(RequestModel):
    """What to share (some licences, or all current ones), with whom, for what, for how long, how many downloads."""

    licence_ids: list[str] | None = Field(default=None, max_length=200)
    all_current: bool = False
    grantee_name: str = Field(min_length=1, max_length=200)
    grantee_id: str | None = Field(default=None, max_length=32)
    purpose: str = Field(min_length=1, max_length=500)
    expires_in_days: int | None = None
    max_downloads: int | None = None


class ShowIn(RequestModel):
    """A live showing (亮照): some licences, or all current ones, shown through a code that expires in 30-600 s."""

    licence_ids: list[str] | None = Field(default=None, max_length=200)
    all_current: bool = False
    expires_in_seconds: int = Field(default=120, ge=30, le=600)


class MissingMaterial(RequestModel):
    """A material the applicant still has to hand in, and by when."""

    name: str = Field(min_length=1, max_length=200)
    due: Day


class ReceiptIn(RequestModel):
    """An application accepted: the applicant, the matter, its number, materials received and missing, a note."""

    MULTILINE = frozenset({"note"})

    applicant_name: str = Field(min_length=1, max_length=200)
    applicant_uscc: str | None = Field(default=None, max_length=32)
    matter: str = Field(min_length=1, max_length=200)
    application_number: str = Field(min_length=1, max_length=64)
    materials_received: list[str] = Field(default_factory=list, max_length=100)
    materials_missing: list[MissingMaterial] = Field(default_factory=list, max_length=100)
    note: str = Field(default="", max_length=500)


class MaterialReceivedIn(RequestModel):
    """A missing material (容缺) of a receipt, now handed in: its name as the receipt lists it."""

    name: str = Field(min_length=1, max_length=200)


class MatterMaterialIn(RequestModel):
    """A material a matter asks for; ``licence_type`` (``DEPTCODE:TYPECODE``) when it is a licence."""

    name: str = Field(min_length=1, max_length=200)
    licence_type: str | None = Field(default=None, min_length=3, max_length=40)


class MatterIn(RequestModel):
    """A matter of the catalogue (事项清单): code, name, legal basis, reform mode, the licence type it
    issues (the department's own), the materials it asks for, and how it is supervised."""

    MULTILINE = frozenset({"legal_basis", "supervision"})

    code: str = Field(min_length=2, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    legal_basis: str = Field(min_length=1, max_length=2000)
    reform_mode: Literal["approval", "commitment", "filing", "abolished"]
    licence_type: str = Field(min_length=2, max_length=40)
    materials: list[MatterMaterialIn] = Field(default_factory=list, max_length=100)
    supervision: str = Field(min_length=1, max_length=2000)


class CreditRestrictionIn(RequestModel):
    """A holder to put on the serious-dishonesty list (信用约束), why, and its last day (China date)."""

    MULTILINE = frozenset({"reason"})

    uscc: str = Field(min_length=1, max_length=32)
    reason: str = Field(min_length=1, max_length=500)
    until: Day


class FilingIn(RequestModel):
    """A filing (备案): the department (code), its licence type in filing mode, and the type's fields."""

    MULTILINE = frozenset({"fields"})

    department: str = Field(min_length=1, max_length=16)
    licence_type: str = Field(min_length=1, max_length=16)
    fields: dict[str, Any] = Field(default_factory=dict)


class CommitmentIn(RequestModel):
    """The licence type (of the department, by codes) whose commitment text the enterprise signs."""

    department: str = Field(min_length=1, max_length=16)
    licence_type: str = Field(min_length=1, max_length=16)


class CommitmentResultIn(RequestModel):
    """The department's check (核查) of a commitment, and a note."""

    MULTILINE = frozenset({"note"})

    result: Literal["fulfilled", "unfulfilled"]
    note: str | None = Field(default=None, max_length=500)


class SubscriptionIn(RequestModel):
    """A department's subscription: where to send which events of which licence types (审管互动)."""

    url: str = Field(min_length=1, max_length=2000)
    licence_types: list[str] = Field(
        min_length=1, max_length=100, description='"DEPTCODE:TYPECODE", "DEPTCODE:*" or "*"'
    )
    events: list[str] | None = Field(default=None, max_length=20, description="default: every event")


class FeedbackIn(RequestModel):
    """A supervising department's answer to an event it received: e.g. 纳入监管, 核查通过, 责令整改."""

    MULTILINE = frozenset({"note"})

    result: str = Field(min_length=1, max_length=64)
    note: str | None = Field(default=None, max_length=2000)


class TokenIn(RequestModel):
    """A staff token (管理员, 办事人): whom it is for, what it may do, for how many days (1-365)."""

    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(min_length=1, max_length=5)
    expires_in_days: int = Field(default=90, ge=1, le=365)
