"""Answers about 容缺受理 (tracked materials of receipts) and the catalogue of matters (事项清单)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from certsvc.api.models.base import IsoDate, IsoDateTime, Out
from certsvc.api.models.licences import ReceiptOut

MaterialsState = Literal["pending", "overdue", "complete"]


class TrackedMaterial(Out):
    """A material accepted as missing (容缺): due by ``due``; received, outstanding or overdue."""

    name: str
    due: IsoDate
    state: Literal["received", "outstanding", "overdue"]
    received_at: IsoDateTime | None


class TrackedReceipt(ReceiptOut):
    """A receipt for its department, with its missing materials tracked."""

    materials_state: MaterialsState
    materials_missing: list[TrackedMaterial]
    outstanding: list[TrackedMaterial]


class TrackedReceiptList(Out):
    """A page of the department's receipts, newest first."""

    items: list[TrackedReceipt]
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last page")


class EnterpriseReceipt(Out):
    """One of the enterprise's receipts: the matter, the department, and what is still to hand in."""

    id: str
    matter: str
    application_number: str
    department: str
    issued_at: IsoDateTime
    verify_url: str
    pdf_url: str = Field(description="the sealed receipt PDF, for the enterprise itself")
    materials_state: MaterialsState
    materials_missing: list[TrackedMaterial]
    outstanding: list[TrackedMaterial]


class EnterpriseReceipts(Out):
    """The enterprise's receipts, newest first."""

    items: list[EnterpriseReceipt]
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last page")


class MatterMaterial(Out):
    """A material a matter asks for; ``licence_type`` (``DEPTCODE:TYPECODE``) when a licence is that material."""

    name: str
    licence_type: str | None = None


class MatterOut(Out):
    """A matter of the catalogue (事项清单)."""

    code: str
    name: str
    department: str
    department_code: str
    legal_basis: str
    reform_mode: str
    reform_mode_name: str
    licence_type: str
    licence_type_name: str
    materials: list[MatterMaterial]
    supervision: str


class Catalogue(Out):
    """The catalogue of matters, by code."""

    items: list[MatterOut]
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last page")


class HeldMaterial(Out):
    """A material of a matter for one enterprise: ``held`` (a valid licence of it: 免提交) or ``submit``."""

    name: str
    state: Literal["held", "submit"]
    licence_id: str | None = None
    verify_url: str | None = None


class MatterMaterials(Out):
    """What an enterprise need not hand in for a matter (免提交), and what it must."""

    matter: str
    uscc: str
    purpose: str
    items: list[HeldMaterial]
