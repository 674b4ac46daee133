"""What the portal's filing and commitment pages show: the types one may file or commit for, the
chosen type's form or text, and the enterprise's own filings and commitments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from certsvc.db.models import Enterprise
from certsvc.enterprises.holders import holder_view
from certsvc.errors import ServiceError
from certsvc.reform.commitments import commitment_view, commitments_of
from certsvc.reform.forms import department_and_type, types_in_mode


@dataclass
class ModePage:
    """The types in one reform mode, the one chosen (if any), and the enterprise's records of that mode."""

    types: list[dict[str, Any]]
    chosen: dict[str, Any] | None = None
    records: list[dict[str, Any]] = field(default_factory=list)


def _type_row(dept_code: str, dept_name: str, code: str, name: str) -> dict[str, Any]:
    return {"department": dept_code, "department_name": dept_name, "code": code, "name": name}


def _chosen(s: Session, mode: str, department: str, code: str) -> dict[str, Any] | None:
    if not department or not code:
        return None
    try:
        dept, lt = department_and_type(s, department, code)
    except ServiceError:
        return None
    if lt.reform_mode != mode:
        return None
    return {**_type_row(dept.code, dept.name, lt.code, lt.name), "fields": lt.fields, "commitment": lt.commitment}


def filing_page(s: Session, ent: Enterprise, base_url: str, department: str = "", code: str = "") -> ModePage:
    """Types in filing mode, the chosen one's fields, and the enterprise's 备案凭证 (newest first)."""
    types = [_type_row(d.code, d.name, t.code, t.name) for d, t in types_in_mode(s, "filing")]
    records = [v for v in holder_view(s, ent.uscc, base_url) if v["kind"] == "filing"]
    return ModePage(types, _chosen(s, "filing", department, code), records)


def commitment_page(s: Session, ent: Enterprise, base_url: str, department: str = "", code: str = "") -> ModePage:
    """Types in commitment mode, the chosen one's text, and the enterprise's commitments (newest first)."""
    types = [_type_row(d.code, d.name, t.code, t.name) for d, t in types_in_mode(s, "commitment")]
    records = [commitment_view(c, base_url) for c in commitments_of(s, ent)]
    return ModePage(types, _chosen(s, "commitment", department, code), records)
