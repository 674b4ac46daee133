"""The department's register (登记簿): its licences, filtered and paged, and each licence's versions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from certsvc.core.clock import today
from certsvc.db.models import Department, Licence, LicenceType, LicenceVersion
from certsvc.db.paging import Key, Keyset, Page, PageRequest, page_of, page_query
from certsvc.errors import Invalid, NotFound
from certsvc.identifiers import IdentifierError, validate_uscc
from certsvc.licences import records
from certsvc.licences import status as st
from certsvc.licences.views import licence_view

# Newest first, by when the licence was first issued: amending or renewing it does not move it.
REGISTER = Keyset(
    "licences",
    (Key(col(Licence.created_at), datetime, descending=True), Key(col(Licence.id), str, descending=True)),
)
VERSIONS = Keyset("versions", (Key(col(LicenceVersion.version), int),))
REGISTER_STATUSES = (st.VALID, st.EXPIRED, st.SUSPENDED, st.REVOKED)
MAX_Q = 100


@dataclass(frozen=True)
class RegisterFilter:
    """The register's filters, each optional: status, licence type code, holder USCC, exact number, text."""

    status: str | None = None
    type: str | None = None
    holder_uscc: str | None = None
    number: str | None = None
    q: str | None = None


def _status_clause(status: str) -> Any:
    if status == st.SUPERSEDED:
        raise Invalid(
            "status: the register lists current versions; superseded ones are under /licences/{id}/versions",
            field="status",
        )
    if status not in REGISTER_STATUSES:
        raise Invalid(f"status: one of {', '.join(REGISTER_STATUSES)}, not {status[:40]!r}", field="status")
    until = col(LicenceVersion.valid_until)
    if status == st.VALID:
        return and_(col(Licence.state) == st.VALID, or_(until.is_(None), until >= today()))
    if status == st.EXPIRED:
        return and_(col(Licence.state) == st.VALID, until < today())
    return col(Licence.state) == status


def _where(s: Session, dept: Department, f: RegisterFilter) -> list[Any]:
    clauses: list[Any] = [col(Licence.department_id) == dept.id]
    if f.status:
        clauses.append(_status_clause(f.status))
    if f.type:
        lt = s.exec(
            select(LicenceType).where(LicenceType.code == f.type.upper(), LicenceType.department_id == dept.id)
        ).first()
        if lt is None:
            raise Invalid(f"type: your department has no licence type {f.type[:16]!r}", field="type")
        clauses.append(col(Licence.licence_type_id) == lt.id)
    if f.holder_uscc:
        try:
            clauses.append(col(Licence.holder_uscc) == validate_uscc(f.holder_uscc))
        except IdentifierError as e:
            raise Invalid(f"holder_uscc: {e}", field="holder_uscc") from e
    if f.number:
        clauses.append(col(Licence.number) == f.number.strip())
    if f.q is not None:
        q = f.q.strip()
        if not q or len(q) > MAX_Q:
            raise Invalid(f"q: 1-{MAX_Q} characters of a holder name or licence number", field="q")
        name, number = col(LicenceVersion.holder_name), col(Licence.number)
        clauses.append(or_(name.contains(q, autoescape=True), number.contains(q, autoescape=True)))
    return clauses


def register(s: Session, dept: Department, f: RegisterFilter, page: PageRequest, base_url: str) -> dict[str, Any]:
    """A page of the department's licences (current versions), newest first, matching every filter given."""
    stmt = (
        select(Licence, LicenceVersion, LicenceType)
        .join(
            LicenceVersion,
            and_(
                col(LicenceVersion.licence_id) == col(Licence.id),
                col(LicenceVersion.version) == col(Licence.current_version),
            ),
        )
        .join(LicenceType, col(LicenceType.id) == col(Licence.licence_type_id))
        .where(*_where(s, dept, f))
    )
    rows = s.exec(page_query(stmt, REGISTER, page)).all()  # type: ignore[call-overload]
    found: Page[Any] = page_of(rows, REGISTER, page, lambda r: (r[0].created_at, r[0].id))
    return found.answer(lambda r: licence_view(r[0], r[1], r[2], dept, base_url))


def version_view(lic: Licence, ver: LicenceVersion, base_url: str) -> dict[str, Any]:
    """One version of a licence as its history lists it."""
    status = st.status_of(lic, ver)
    return {
        "version": ver.version,
        "identifier": ver.identifier,
        "number": lic.number,
        "status": status,
        "status_label": st.LABELS[status][0],
        "holder_name": ver.holder_name,
        "valid_from": ver.valid_from.isoformat(),
        "valid_until": ver.valid_until.isoformat() if ver.valid_until else None,
        "sha256": ver.pdf_sha256,
        "created_at": ver.issued_at.isoformat(),
        "superseded_at": ver.superseded_at.isoformat() if ver.superseded_at else None,
        "pdf_url": f"{base_url}/api/v1/licences/{lic.id}/pdf?version={ver.version}",
    }


def versions(s: Session, dept: Department, licence_id: str, page: PageRequest, base_url: str) -> dict[str, Any]:
    """A page of every version of one of the department's licences, oldest first."""
    lic = records.owned(s, dept, licence_id)
    stmt = select(LicenceVersion).where(LicenceVersion.licence_id == lic.id)
    rows = s.exec(page_query(stmt, VERSIONS, page)).all()  # type: ignore[call-overload]
    found: Page[LicenceVersion] = page_of(rows, VERSIONS, page, lambda v: (v.version,))
    return found.answer(lambda v: version_view(lic, v, base_url))


def download_version(s: Session, dept: Department, licence_id: str, version: int) -> tuple[Licence, LicenceVersion]:
    """One version of the department's licence whose PDF it downloads (404 naming the version if there is no
    such version); the download is audited."""
    lic = records.owned(s, dept, licence_id)
    ver = s.exec(
        select(LicenceVersion).where(LicenceVersion.licence_id == lic.id, LicenceVersion.version == version)
    ).first()
    if ver is None:
        raise NotFound(
            f"version: licence {lic.number} has no version {version} (it has versions 1-{lic.current_version})",
            field="version",
        )
    records.record_download(s, dept, lic, ver)
    return lic, ver
