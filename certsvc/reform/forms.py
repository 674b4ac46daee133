"""Forms an enterprise signs: rendered here, signed with its business-licence signature
(:func:`certsvc.enterprises.signature.sign_for_enterprise`), stored by their SHA-256."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlmodel import Session, select

from certsvc.context import Context
from certsvc.core.clock import today
from certsvc.db.models import Department, Enterprise, LicenceType
from certsvc.enterprises.signature import sign_for_enterprise
from certsvc.errors import Invalid, NotFound
from certsvc.licences.rules import layout_invalid
from signing.forms import FormDocument, render_form_pdf
from signing.layout import LayoutError


def department_and_type(s: Session, department: str, licence_type: str) -> tuple[Department, LicenceType]:
    """The department ``department`` (its code) and its licence type ``licence_type``; 422 naming the field."""
    dept = s.exec(select(Department).where(Department.code == (department or "").strip().upper())).first()
    if dept is None:
        raise Invalid(f"department: no department with code {department!r}", field="department")
    lt = s.exec(select(LicenceType).where(LicenceType.code == (licence_type or "").strip().upper())).first()
    if lt is None or lt.department_id != dept.id:
        raise Invalid(f"licence_type: {licence_type!r} is not a licence type of {dept.name}", field="licence_type")
    return dept, lt


def types_in_mode(s: Session, mode: str) -> list[tuple[Department, LicenceType]]:
    """Every licence type in reform mode ``mode``, with its department, by department then code."""
    rows = s.exec(
        select(Department, LicenceType)
        .where(LicenceType.department_id == Department.id, LicenceType.reform_mode == mode)
        .order_by(Department.code, LicenceType.code)
    ).all()
    return [(d, t) for d, t in rows]


def enterprise_of(s: Session, ent_id: int) -> Enterprise:
    """The enterprise row, fresh."""
    ent = s.get(Enterprise, ent_id)
    if ent is None:
        raise NotFound("no such enterprise")
    return ent


async def signed_form(
    ctx: Context,
    ent: Enterprise,
    *,
    title: str,
    reference: str,
    rows: Sequence[tuple[str, str]],
    text: str,
    footer: str,
    signer_label: str,
) -> tuple[bytes, str]:
    """The form rendered, signed with the enterprise's business-licence signature and stored:
    ``(pdf, sha256)``."""
    doc = FormDocument(title, reference, ent.name, ent.uscc, rows, text, today(), footer, signer_label)
    try:
        pdf = await asyncio.to_thread(render_form_pdf, doc)
    except LayoutError as e:
        raise layout_invalid(e) from e
    signed = await sign_for_enterprise(ctx, ent, pdf)
    sha = await asyncio.to_thread(ctx.blobs.put, signed)
    return signed, sha
