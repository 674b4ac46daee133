"""Request bodies of the HTTP API, shared by the routes and the services that validate items."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from certsvc.licences.rules import IssueRequest


class FieldSpec(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    required: bool = False
    private: bool = False


class LicenceTypeIn(BaseModel):
    code: str = Field(min_length=2, max_length=16)
    name: str = Field(min_length=1, max_length=100)
    fields: list[FieldSpec] = Field(default_factory=list, max_length=50)
    validity_days: int | None = Field(default=None, ge=1, le=36500)
    reform_mode: Literal["approval", "commitment", "filing", "abolished"] = "approval"


LicenceIn = IssueRequest
"""The body of ``POST /licences`` (also each item of a batch)."""


class BatchIn(BaseModel):
    items: list[dict[str, Any]] = Field(min_length=1, max_length=500)


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)
    kind: Literal["撤销", "吊销", "注销"] | None = None


class RenewIn(BaseModel):
    valid_until: date
    reason: str | None = Field(default=None, max_length=500)


class AmendIn(BaseModel):
    fields: dict[str, Any] = Field(default_factory=dict)
    holder_name: str | None = Field(default=None, min_length=1, max_length=200)
    reason: str | None = Field(default=None, max_length=500)


class ActivateIn(BaseModel):
    uscc: str = Field(min_length=1, max_length=32)
    activation_code: str = Field(min_length=1, max_length=64)


class GrantIn(BaseModel):
    licence_ids: list[str] | None = Field(default=None, max_length=200)
    all_current: bool = False
    grantee_name: str = Field(min_length=1, max_length=200)
    grantee_id: str | None = Field(default=None, max_length=32)
    purpose: str = Field(min_length=1, max_length=500)
    expires_in_days: int | None = None
    max_downloads: int | None = None


class MissingMaterial(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    due: date


class ReceiptIn(BaseModel):
    applicant_name: str = Field(min_length=1, max_length=200)
    applicant_uscc: str | None = Field(default=None, max_length=32)
    matter: str = Field(min_length=1, max_length=200)
    application_number: str = Field(min_length=1, max_length=64)
    materials_received: list[str] = Field(default_factory=list, max_length=100)
    materials_missing: list[MissingMaterial] = Field(default_factory=list, max_length=100)
    note: str = Field(default="", max_length=500)
