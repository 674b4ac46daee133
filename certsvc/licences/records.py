"""Reading a department's licence records."""

from __future__ import annotations

from sqlmodel import Session, select

from certsvc.db.models import Department, Licence, LicenceVersion
from certsvc.errors import NotFound


def owned(s: Session, dept: Department, licence_id: str) -> Licence:
    """The licence if this department issued it; otherwise 404, never revealing that it exists."""
    lic = s.get(Licence, licence_id)
    if lic is None or lic.department_id != dept.id:
        raise NotFound("no such licence")
    return lic


def current_version(s: Session, lic: Licence) -> LicenceVersion:
    """The version the licence is at now."""
    return s.exec(
        select(LicenceVersion).where(LicenceVersion.licence_id == lic.id, LicenceVersion.version == lic.current_version)
    ).one()
