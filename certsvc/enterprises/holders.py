"""Everything held under one USCC (一企一档, 一码展示)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from certsvc.db.models import Department, Enterprise, Licence, LicenceType, LicenceVersion
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
    """The public page of a USCC (一码展示): current licences first, the rest after; None if it holds none."""
    try:
        uscc = validate_uscc(uscc)
    except IdentifierError:
        return None
    views = public_views_of_holder(s.connection(), uscc, base_url)
    if not views:
        return None
    ent = s.exec(select(Enterprise).where(Enterprise.uscc == uscc)).first()
    current = [v for v in views if v["status"] in CURRENT]
    other = [v for v in views if v["status"] not in CURRENT]
    # Business licence first among current ones: it is the enterprise's identity.
    current.sort(key=lambda v: v["licence_type"] != "YYZZ")
    return {
        "uscc": uscc,
        "name": ent.name if ent else views[0]["holder_name"],
        "registered": ent is not None,
        "current": current,
        "other": other,
        "count": len(views),
    }


def holder_view(s: Session, uscc: str, base_url: str) -> list[dict[str, Any]]:
    """For the holder itself and for departments with a stated purpose: full records."""
    out = []
    for lic, ver, lt, dept in holder_licences(s, uscc):
        out.append(licence_view(lic, ver, lt, dept, base_url, f"{base_url}/v/{ver.qr_payload}"))
    return out
