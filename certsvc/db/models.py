"""Database tables (SQLModel). The schema itself is owned by the Alembic migrations."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from certsvc.core import clock


def utcnow() -> datetime:
    """An aware UTC timestamp from the service's clock, so stored times compare correctly whatever the server's zone."""
    return clock.now()


def new_id() -> str:
    """A random primary key for rows whose ids appear in URLs: unguessable, unlike a counter."""
    return uuid.uuid4().hex


class Department(SQLModel, table=True):
    """A licensing department (发证机关): issues licences of its own types and seals them with its key."""

    __tablename__ = "department"
    id: int | None = Field(default=None, primary_key=True)
    name: str
    uscc: str = Field(unique=True, max_length=18)
    code: str = Field(unique=True, max_length=16)
    is_registrar: bool = False
    is_credit: bool = False  # keeps the credit list (信用约束)
    created_at: datetime = Field(default_factory=utcnow)


class ApiCredential(SQLModel, table=True):
    """A bearer secret, stored only as a SHA-256 hash; ``prefix`` finds the row."""

    __tablename__ = "api_credential"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # department | enterprise
    owner_id: int = Field(index=True)
    prefix: str = Field(unique=True, max_length=24)
    secret_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    # Staff tokens (an enterprise's 管理员, 办事人): a name, the scopes, an expiry. ``scopes`` None is the
    # credential of the whole owner: a department key, or the enterprise token from activation.
    name: str | None = Field(default=None, max_length=100)
    scopes: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    expires_at: datetime | None = None
    revoke_reason: str | None = Field(default=None, max_length=300)  # words for the 401 once revoked


class SigningCertificate(SQLModel, table=True):
    """A certificate of the service: the root, a department seal, an enterprise signing cert."""

    __tablename__ = "signing_certificate"
    id: int | None = Field(default=None, primary_key=True)
    kid: str = Field(unique=True, max_length=16)  # hex of the first 8 bytes of SHA-256(cert DER)
    owner_kind: str = Field(max_length=16)  # root | department | enterprise | service
    owner_id: int | None = Field(default=None, index=True)
    key_label: str = Field(max_length=128)
    cert_pem: str
    not_before: datetime
    not_after: datetime
    active: bool = True
    revoked_from: datetime | None = None
    revocation_reason: str | None = Field(default=None, max_length=32)  # RFC 5280 reason, e.g. key_compromise
    created_at: datetime = Field(default_factory=utcnow)


class RevocationList(SQLModel, table=True):
    """A CRL the service published for one of its CAs: numbered, signed once, served to everyone
    (every process serves the same bytes: the newest row)."""

    __tablename__ = "revocation_list"
    __table_args__ = (UniqueConstraint("issuer", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    issuer: str = Field(max_length=32)  # the CA's public name, as in /crl/{issuer}.crl
    number: int = Field(sa_column=Column(BigInteger, nullable=False))
    entries: str = Field(max_length=64)  # SHA-256 of the revoked entries it lists, to tell when it is out of date
    this_update: datetime
    next_update: datetime
    der: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class LicenceType(SQLModel, table=True):
    """A kind of licence a department defines: its fields, validity and reform mode."""

    __tablename__ = "licence_type"
    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(index=True)
    code: str = Field(unique=True, max_length=16)
    name: str
    type_code: str = Field(max_length=21)  # defining department USCC + 3-digit sequence
    fields: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    validity_days: int | None = None
    reform_mode: str = Field(default="approval", max_length=16)
    # commitment mode (实行告知承诺): {"text", "conditions_due_days", "on_overdue": "flag" | "suspend"}
    commitment: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    is_business_licence: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class Enterprise(SQLModel, table=True):
    """A holder registered for the portal, keyed by its USCC; licences exist whether it registered or not."""

    __tablename__ = "enterprise"
    id: int | None = Field(default=None, primary_key=True)
    uscc: str = Field(unique=True, max_length=18)
    name: str
    kind: str = Field(default="enterprise", max_length=16)
    business_licence_id: str | None = None
    activation_code_hash: str | None = Field(default=None, max_length=64)
    activated_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Licence(SQLModel, table=True):
    """A licence's identity and lifecycle state; its content lives in versions."""

    __tablename__ = "licence"
    __table_args__ = (  # the register's filters and its order, and the holder's (0011)
        Index("ix_licence_register", "department_id", "created_at", "id"),
        Index("ix_licence_register_state", "department_id", "state", "created_at", "id"),
        Index("ix_licence_register_type", "department_id", "licence_type_id", "created_at", "id"),
        Index("ix_licence_holder_created", "holder_uscc", "created_at", "id"),
    )
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    licence_type_id: int = Field(index=True)
    department_id: int = Field(index=True)
    holder_uscc: str = Field(index=True, max_length=18)
    holder_name: str
    holder_kind: str = Field(default="enterprise", max_length=16)
    serial: int = Field(sa_column=Column(BigInteger, nullable=False))
    number: str = Field(unique=True, max_length=64)
    current_version: int = 1
    state: str = Field(default="valid", max_length=16)  # valid | suspended | revoked
    state_reason: str | None = None
    revoke_kind: str | None = Field(default=None, max_length=16)  # 撤销 | 吊销 | 注销
    kind: str = Field(default="licence", max_length=16, sa_column_kwargs={"server_default": "licence"})  # | filing
    issued_on: date | None = None  # a back-filled paper licence's original issue date (颁发日期)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class LicenceVersion(SQLModel, table=True):
    """One sealed version of a licence: each change issues a new version and supersedes the previous one."""

    __tablename__ = "licence_version"
    __table_args__ = (UniqueConstraint("licence_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    licence_id: str = Field(index=True, max_length=32)
    version: int
    identifier: str = Field(unique=True, max_length=96)
    qr_token: str = Field(unique=True, max_length=64)  # SHA-256 of the QR token, for look-up
    qr_payload: str  # the signed QR token itself (public: it is printed on the licence)
    status_index: int = Field(unique=True)
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    holder_name: str
    valid_from: date
    valid_until: date | None = None
    pdf_sha256: str = Field(index=True, max_length=64)  # the PDF as sealed: its sealed revision's SHA-256
    archive_sha256: str | None = Field(default=None, max_length=64)  # the same PDF with later archive time-stamps
    pdf_size: int = 0
    signer_kid: str = Field(max_length=16)
    issued_at: datetime = Field(default_factory=utcnow)
    superseded_at: datetime | None = None
    expiry_recorded_at: datetime | None = None  # when the sweep recorded (and audited) this version's expiry

    @property
    def stored_sha256(self) -> str:
        """The blob to hand out: the archive-time-stamped PDF once there is one, else the sealed one."""
        return self.archive_sha256 or self.pdf_sha256


class LicenceStatusChange(SQLModel, table=True):
    """A licence's state and current version from ``at`` on: the history ``?at=`` answers from."""

    __tablename__ = "licence_status_change"
    __table_args__ = (Index("ix_licence_status_change_licence_at", "licence_id", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    licence_id: str = Field(max_length=32)
    at: datetime = Field(default_factory=utcnow)
    action: str = Field(max_length=16)  # issue | amend | renew | suspend | resume | revoke
    state: str = Field(max_length=16)  # valid | suspended | revoked
    version: int  # the version current from ``at`` on
    reason: str | None = None


class Counter(SQLModel, table=True):
    """Monotonic counters (licence serials, status-list indexes, type sequences)."""

    __tablename__ = "counter"
    name: str = Field(primary_key=True, max_length=64)
    value: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class StatusIndexScheme(SQLModel, table=True):
    """The one row that shuffles status-list indexes (see certsvc.licences.status_index); written
    by migration 0006, never changed."""

    __tablename__ = "status_index_scheme"
    id: int = Field(primary_key=True)
    secret: str = Field(max_length=64)  # hex of 32 random bytes
    base: int = Field(sa_column=Column(BigInteger, nullable=False))


class AuditEvent(SQLModel, table=True):
    """An append-only, hash-chained record of every state change and access."""

    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    actor_kind: str = Field(max_length=16)  # department | enterprise | public | operator | system
    actor_id: str | None = Field(default=None, max_length=64)
    action: str = Field(max_length=48, index=True)
    subject_kind: str | None = Field(default=None, max_length=24)
    subject_id: str | None = Field(default=None, max_length=64, index=True)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditCheckpoint(SQLModel, table=True):
    """A signature by the service key over the audit chain head at some event."""

    __tablename__ = "audit_checkpoint"
    id: int | None = Field(default=None, primary_key=True)
    event_id: int
    head_hash: str = Field(max_length=64)
    signature: str
    kid: str = Field(max_length=16)
    at: datetime = Field(default_factory=utcnow)


class Grant(SQLModel, table=True):
    """An enterprise's share link: which licences, to whom, for what, until when and how many downloads."""

    __tablename__ = "grant"
    __table_args__ = (Index("ix_grant_enterprise_created", "enterprise_id", "created_at", "id"),)
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    enterprise_id: int = Field(index=True)
    token_hash: str = Field(unique=True, max_length=64)
    licence_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    grantee_name: str
    grantee_id: str | None = None
    purpose: str
    expires_at: datetime
    max_downloads: int | None = None
    downloads: int = 0
    revoked_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    # the share token sealed (certsvc.sealed) so that its owner can see its link and QR again; None
    # for grants made before it was kept
    token_sealed: str | None = None


class LiveShow(SQLModel, table=True):
    """A live showing (亮照): a short-lived code that shows chosen licences of an enterprise at a counter."""

    __tablename__ = "live_show"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    enterprise_id: int = Field(index=True)
    token_hash: str = Field(unique=True, max_length=64)
    token_sealed: str
    licence_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    all_current: bool = False
    seconds: int
    expires_at: datetime
    created_at: datetime = Field(default_factory=utcnow)


class AccessEvent(SQLModel, table=True):
    """What the holder sees in its access log: downloads, look-ups, verifications."""

    __tablename__ = "access_event"
    __table_args__ = (Index("ix_access_event_holder_at", "holder_uscc", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    holder_uscc: str = Field(max_length=18)
    licence_id: str | None = Field(default=None, max_length=32)
    kind: str = Field(max_length=24)  # grant_download | lookup | verify | refused_<grant state>
    grant_id: str | None = Field(default=None, max_length=32)
    department_id: int | None = None
    purpose: str | None = None
    matter: str | None = Field(default=None, max_length=32)  # the matter code of a 免提交 look-up
    at: datetime = Field(default_factory=utcnow)
    attempts: int = Field(default=1, sa_column_kwargs={"server_default": "1"})  # refusals are counted per minute


class EndedSession(SQLModel, table=True):
    """A portal session signed out before its cookie expired: refused until ``expires_at``."""

    __tablename__ = "portal_session_end"
    sid: str = Field(primary_key=True, max_length=32)
    expires_at: datetime


class VerificationCount(SQLModel, table=True):
    """QR scans per licence per day, counted in memory and flushed in batches."""

    __tablename__ = "verification_count"
    licence_id: str = Field(primary_key=True, max_length=32)
    day: date = Field(primary_key=True)
    count: int = 0


class Receipt(SQLModel, table=True):
    """A sealed acceptance receipt (受理回执) a department hands to an applicant."""

    __tablename__ = "receipt"
    __table_args__ = (  # the department's and the applicant's lists (0011)
        Index("ix_receipt_department_issued", "department_id", "issued_at", "id"),
        Index("ix_receipt_applicant_issued", "applicant_uscc", "issued_at", "id"),
    )
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    department_id: int = Field(index=True)
    applicant_name: str
    applicant_uscc: str | None = Field(default=None, max_length=18)
    matter: str
    application_number: str
    materials: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    qr_token: str = Field(unique=True, max_length=64)
    qr_payload: str
    pdf_sha256: str = Field(index=True, max_length=64)
    signer_kid: str = Field(max_length=16)
    issued_at: datetime = Field(default_factory=utcnow)
    materials_state: str = Field(  # pending | overdue | complete: see certsvc.receipts.materials
        default="complete", max_length=16, sa_column_kwargs={"server_default": "complete"}
    )


class ActivationAttempt(SQLModel, table=True):
    """A failed activation attempt: for which USCC, from which client address, when (to slow down guessing)."""

    __tablename__ = "activation_attempt"
    __table_args__ = (Index("ix_activation_attempt_client_at", "client", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    uscc: str = Field(index=True, max_length=18)
    client: str | None = Field(default=None, max_length=64)
    at: datetime = Field(default_factory=utcnow, index=True)


class ReceiptMaterial(SQLModel, table=True):
    """A material a receipt accepted as missing (容缺受理): due by ``due``, received or overdue after."""

    __tablename__ = "receipt_material"
    __table_args__ = (UniqueConstraint("receipt_id", "name"), Index("ix_receipt_material_open", "received_at", "due"))
    id: int | None = Field(default=None, primary_key=True)
    receipt_id: str = Field(max_length=32, index=True)
    name: str = Field(max_length=200)
    due: date
    received_at: datetime | None = None
    overdue_at: datetime | None = None  # set once, by the sweep that found it past its due date


class Matter(SQLModel, table=True):
    """A licensing matter of the catalogue (事项清单): its legal basis, department, mode, materials, supervision."""

    __tablename__ = "matter"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    name: str = Field(max_length=200)
    department_id: int = Field(index=True)
    legal_basis: str
    reform_mode: str = Field(max_length=16)
    licence_type_id: int
    materials: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    supervision: str
    created_at: datetime = Field(default_factory=utcnow)


class CreditRestriction(SQLModel, table=True):
    """A holder on the serious-dishonesty list (信用约束): no commitment, filing or 容缺 until ``until`` (inclusive)."""

    __tablename__ = "credit_restriction"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    department_id: int = Field(index=True)
    uscc: str = Field(index=True, max_length=18)
    reason: str
    until: date
    created_at: datetime = Field(default_factory=utcnow)
    lifted_at: datetime | None = None


class Commitment(SQLModel, table=True):
    """A notification-commitment (告知承诺书) the enterprise signed; bound to the licence issued with it."""

    __tablename__ = "commitment"
    __table_args__ = (
        Index("ix_commitment_status_due", "status", "due"),
        Index("ix_commitment_enterprise_signed", "enterprise_id", "signed_at", "id"),
    )
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    enterprise_id: int = Field(index=True)
    holder_uscc: str = Field(index=True, max_length=18)
    department_id: int
    licence_type_id: int
    text: str
    conditions_due_days: int
    on_overdue: str = Field(max_length=16)  # flag | suspend
    pdf_sha256: str = Field(max_length=64)
    signed_at: datetime = Field(default_factory=utcnow)
    licence_id: str | None = Field(default=None, unique=True, max_length=32)
    status: str = Field(default="signed", max_length=16)  # signed | pending | overdue | fulfilled | unfulfilled
    due: date | None = None
    overdue_at: datetime | None = None
    decided_at: datetime | None = None
    note: str | None = None


class Filing(SQLModel, table=True):
    """A filing (备案): the form the enterprise signed, and its 备案凭证 (a licence of kind ``filing``)."""

    __tablename__ = "filing"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    licence_id: str = Field(unique=True, max_length=32)
    enterprise_id: int = Field(index=True)
    form_sha256: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
