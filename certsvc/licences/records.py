"""Reading a department's licence records."""

from __future__ import annotations

from sqlmodel import Session, select

from certsvc import audit
from certsvc.db.models import Department, Licence, LicenceType, LicenceVersion
from certsvc.departments.owned import owned_by


def owned(s: Session, dept: Department, licence_id: str) -> Licence:
    """The licence if this department issued it; otherwise 404, never revealing that it exists."""
    return owned_by(s, dept, Licence, licence_id, "licence", "licence")


def current_version(s: Session, lic: Licence) -> LicenceVersion:
    """The version the licence is at now."""
    return s.exec(
        select(LicenceVersion).where(LicenceVersion.licence_id == lic.id, LicenceVersion.version == lic.current_version)
    ).one()


def owned_current(s: Session, dept: Department, licence_id: str) -> tuple[Licence, LicenceVersion, LicenceType]:
    """The department's licence at its current version, with its licence type (404 if not its own)."""
    lic = owned(s, dept, licence_id)
    ver = current_version(s, lic)
    lt = s.get(LicenceType, lic.licence_type_id)
    assert lt is not None
    return lic, ver, lt


def download(s: Session, dept: Department, licence_id: str) -> tuple[Licence, LicenceVersion]:
    """The department's licence and current version whose PDF it downloads; the download is audited."""
    lic, ver, _lt = owned_current(s, dept, licence_id)
    record_download(s, dept, lic, ver)
    return lic, ver


def record_download(s: Session, dept: Department, lic: Licence, ver: LicenceVersion) -> None:
    """Audit the department's download of a version of its licence (a ``HEAD`` records nothing)."""
    audit.record_access(
        s,
        "licence.download",
        actor_kind="department",
        actor_id=dept.id,
        subject_kind="licence",
        subject_id=lic.id,
        details={"version": ver.version},
    )
