"""Tables of the work the service does for others: event subscriptions and their deliveries
(审管互动), back-fill jobs, verification reports and the findings recorded for the fast path.
The service's own records (departments, licences, grants, …) are in :mod:`certsvc.db.models`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from certsvc.db.models import new_id, utcnow


class Subscription(SQLModel, table=True):
    """A department's webhook (审管互动): where to push which events of which licence types."""

    __tablename__ = "event_subscription"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    department_id: int = Field(index=True)
    url: str = Field(max_length=2000)
    licence_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # DEPT:TYPE | *
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    secret_sealed: str  # the signing secret, AES-GCM under a key the database does not hold
    created_at: datetime = Field(default_factory=utcnow)
    deleted_at: datetime | None = None


class OutboxEvent(SQLModel, table=True):
    """An event written in the transaction of the change it tells (a transactional outbox)."""

    __tablename__ = "outbox_event"
    seq: int | None = Field(default=None, primary_key=True)  # the order events happened in
    id: str = Field(unique=True, max_length=40)  # the stable webhook-id
    type: str = Field(max_length=32)
    licence_id: str | None = Field(default=None, max_length=32, index=True)
    department_id: int | None = None  # the department whose change it tells
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    occurred_at: datetime = Field(default_factory=utcnow)


class Delivery(SQLModel, table=True):
    """One event to one subscription: pending until the receiver answers 2xx, failed after the retry period."""

    __tablename__ = "event_delivery"
    __table_args__ = (
        UniqueConstraint("event_seq", "subscription_id"),
        Index("ix_event_delivery_due", "state", "next_attempt_at"),
        Index("ix_event_delivery_order", "subscription_id", "order_key", "state", "event_seq"),
    )
    id: int | None = Field(default=None, primary_key=True)
    event_seq: int = Field(index=True)
    subscription_id: str = Field(max_length=32)
    order_key: str = Field(max_length=40)  # deliveries with one key go out in event order (the licence)
    state: str = Field(default="pending", max_length=16)  # pending | delivered | failed
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    lease_until: datetime | None = None
    lease_token: str | None = Field(default=None, max_length=32)
    last_status: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = None


class Feedback(SQLModel, table=True):
    """A supervising department's answer (反馈) to an event it received: e.g. 纳入监管, 核查通过, 责令整改."""

    __tablename__ = "event_feedback"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    event_id: str = Field(max_length=40, index=True)
    licence_id: str | None = Field(default=None, max_length=32, index=True)
    department_id: int
    result: str = Field(max_length=64)
    note: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)


class VerificationReport(SQLModel, table=True):
    """A check made on the /verify page, and the verification report (验证报告) sealed for it.

    The answer is kept (not the uploaded file) with the licence's status history as it stood then,
    so the report can be sealed when it is first downloaded; ``pdf_sha256`` is set once it is.
    """

    __tablename__ = "verification_report"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    checked_at: datetime = Field(default_factory=utcnow, index=True)
    source: str = Field(max_length=8)  # pdf | qr
    checked_sha256: str | None = Field(default=None, max_length=64)
    verdict: str = Field(max_length=32)
    licence_id: str | None = Field(default=None, max_length=32)
    answer: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    pdf_sha256: str | None = Field(default=None, max_length=64, index=True)
    signer_kid: str | None = Field(default=None, max_length=16)
    sealed_at: datetime | None = None


class LicenceJob(SQLModel, table=True):
    """A back-fill job (``POST /licence-jobs``): many licences issued in the background, item by item."""

    __tablename__ = "licence_job"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    department_id: int = Field(index=True)
    state: str = Field(default="queued", max_length=16)  # queued | running | done | failed
    total: int = 0
    error: str | None = Field(default=None, max_length=500)  # why the whole job failed
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class LicenceJobItem(SQLModel, table=True):
    """One item of a back-fill job: its request, and once processed its licence or its error.

    An item is issued exactly once: the licence is recorded and the item marked ``done`` in one
    transaction, by a compare-and-set on ``state = 'pending'`` and the lease token of its claim."""

    __tablename__ = "licence_job_item"
    __table_args__ = (
        UniqueConstraint("job_id", "seq"),
        Index("ix_licence_job_item_claim", "job_id", "state", "seq"),
    )
    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(max_length=32)
    seq: int  # the item's index in the job (0-based)
    body: str  # the item as submitted (compact JSON)
    number: str | None = Field(default=None, max_length=64)  # the paper licence number it asks to keep
    state: str = Field(default="pending", max_length=16)  # pending | done | failed
    lease_until: datetime | None = None
    lease_token: str | None = Field(default=None, max_length=32)
    licence_id: str | None = Field(default=None, max_length=32)
    error: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))  # code, message, field
    finished_at: datetime | None = None
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # internal failures so far


class VerifiedFile(SQLModel, table=True):
    """The findings of the full analysis of a file the service produced, by its SHA-256 and the
    trust list's version: the same file is answered again from here without being parsed."""

    __tablename__ = "verified_file"
    sha256: str = Field(primary_key=True, max_length=64)
    trust_version: int = Field(primary_key=True)
    findings: str  # JSON (pydantic's form of verify.report.PdfFindings)
    created_at: datetime = Field(default_factory=utcnow)
