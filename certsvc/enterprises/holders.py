"""Everything held under one USCC (一企一档, 一码展示)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from certsvc import audit
from certsvc.db.models import Department, Enterprise, Licence, LicenceType, LicenceVersion
from certsvc.enterprises.accounts import log_access
from certsvc.errors import BadRequest, Invalid
from certsvc.identifiers import IdentifierError, validate_uscc
from certsvc.licences import status as st
from certsvc.licences.lookup import held_licences, public_views_of_holder
from certsvc.licences.views import licence_view

CURRENT = {st.VALID, st.SUSPENDED}


def holder_licences(s: Session, uscc: str) -> list[tuple[Licence, LicenceVersion, LicenceType, Department]]:
    """All licences of a holder with their current version, newest first."""
    # SQLModel's exec() runs any SQLAlchemy Select, but its overloads only admit its own
    stmt = held_licences(Licence, LicenceVersion, LicenceType, Department)
    rows = s.exec(stmt, params={"key": uscc}).all()  # type: ignore[call-overload]
    return [tuple(r) for r in rows]


def public_holder_view(s: Session, uscc: str, base_url: str) -> dict[str, Any] | None:
    """The public page of a USCC (一码展示): current licences first, the rest after; None if it holds none,
    Invalid (naming ``uscc``) if it is not a valid USCC."""
    try:
        uscc = validate_uscc(uscc)
    except IdentifierError as e:
        raise Invalid(f"uscc: {e}", field="uscc") from e
    views = public_views_of_holder(s.connection(), uscc, base_url)
    if not views:
        return None
    ent = s.exec(select(Enterprise).where(Enterprise.uscc == uscc)).first()
    current = [v for v in views if v["status"] in CURRENT and v["genuine"]]
    other = [v for v in views if v["status"] not in CURRENT or not v["genuine"]]
    # Business licence first among current ones: it is the enterprise's identity.
    current.sort(key=lambda v: v["licence_type"] != "YYZZ")
    holder = next((v for v in views if v["holder_status"]), None)
    return {
        "uscc": uscc,
        "name": ent.name if ent else views[0]["holder_name"],
        "holder_status": holder["holder_status"] if holder else None,
        "holder_status_label": holder["holder_status_label"] if holder else None,
        "holder_status_label_en": holder["holder_status_label_en"] if holder else None,
        "registered": ent is not None,
        "current": current,
        "other": other,
        "count": len(views),
    }


def holder_view(s: Session, uscc: str, base_url: str, *, own: bool = False) -> list[dict[str, Any]]:
    """For the holder itself (``own``: each ``pdf_url`` is the holder's own download) and for departments
    with a stated purpose: full records."""
    out = []
    for lic, ver, lt, dept in holder_licences(s, uscc):
        view = licence_view(lic, ver, lt, dept, base_url)
        if own:
            view["pdf_url"] = f"{base_url}/api/v1/enterprise/licences/{lic.id}/pdf"
        out.append(view)
    return out


def shared_lookup(
    s: Session, dept: Department, uscc: str, *, purpose: str | None, type_code: str | None, base_url: str
) -> dict[str, Any]:
    """共享调用: a department reads another holder's current licences for a stated purpose; the call
    is written to the holder's access log and to the audit chain."""
    if not purpose or not purpose.strip():
        raise BadRequest("purpose: required — say why the licences are looked up (共享调用事由)", field="purpose")
    purpose = purpose.strip()
    try:
        uscc = validate_uscc(uscc)
    except IdentifierError as e:
        raise Invalid(f"uscc: {e}", field="uscc") from e
    items = [
        v
        for v in holder_view(s, uscc, base_url)
        if v["status"] in CURRENT and (type_code is None or v["licence_type"] == type_code.upper())
    ]
    log_access(s, uscc, "lookup", department_id=dept.id, purpose=purpose)
    audit.record(
        s,
        "licence.lookup",
        actor_kind="department",
        actor_id=dept.id,
        subject_kind="holder",
        subject_id=uscc,
        details={"purpose": purpose, "type": type_code, "results": len(items)},
    )
    return {"uscc": uscc, "purpose": purpose, "items": items}
