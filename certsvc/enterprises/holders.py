"""Everything held under one USCC (一企一档, 一码展示)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, func, select

from certsvc import audit
from certsvc.core.clock import today
from certsvc.db.models import Department, Enterprise, Licence, LicenceType, LicenceVersion
from certsvc.db.paging import Page, PageRequest, page_of, page_query
from certsvc.enterprises.accounts import log_access
from certsvc.errors import Invalid
from certsvc.identifiers import IdentifierError, validate_uscc
from certsvc.licences import status as st
from certsvc.licences.lookup import HELD, current_clause, held_licences, public_views_of_holder
from certsvc.licences.views import licence_view

CURRENT = {st.VALID, st.SUSPENDED}  # the statuses a holder's licence is shown and shared as current


def holder_licences(s: Session, uscc: str) -> list[tuple[Licence, LicenceVersion, LicenceType, Department]]:
    """All licences of a holder with their current version, newest first."""
    # SQLModel's exec() runs any SQLAlchemy Select, but its overloads only admit its own
    stmt = held_licences(Licence, LicenceVersion, LicenceType, Department).order_by(*HELD.order_by())
    rows = s.exec(stmt, params={"key": uscc}).all()  # type: ignore[call-overload]
    return [tuple(r) for r in rows]


def chosen_licences(
    s: Session, uscc: str, licence_ids: list[str] | None, all_current: bool, current: set[str]
) -> dict[str, str]:
    """The licences a holder chose to share or show (``licence_ids``, each its own), or with
    ``all_current`` every one whose status is in ``current``: ``{licence id: status}``; Invalid
    (naming the field) for none or for another holder's licence."""
    held = {lic.id: st.status_of(lic, ver) for lic, ver, _lt, _d in holder_licences(s, uscc)}
    if all_current:
        chosen = {i: status for i, status in held.items() if status in current}
        if not chosen:
            raise Invalid("all_current: the enterprise holds no current licence", field="all_current")
        return chosen
    ids = list(dict.fromkeys(licence_ids or []))
    if not ids:
        raise Invalid("licence_ids: name at least one licence, or set all_current", field="licence_ids")
    for i in ids:
        if i not in held:
            raise Invalid(f"licence_ids: {i} is not a licence of this enterprise", field="licence_ids")
    return {i: held[i] for i in ids}


def holder_page(
    s: Session,
    uscc: str,
    base_url: str,
    page: PageRequest,
    *,
    current: bool = False,
    type_code: str | None = None,
    own: bool = False,
) -> Page[dict[str, Any]]:
    """A page of the full records of a holder's licences, newest first; only current ones with ``current``,
    only those of a licence type with ``type_code``; for the holder itself (``own``) each ``pdf_url`` is the
    holder's own download."""
    stmt = held_licences(Licence, LicenceVersion, LicenceType, Department)
    if current:
        stmt = stmt.where(current_clause())
    if type_code is not None:
        stmt = stmt.where(col(LicenceType.code) == type_code.upper())
    params = {"key": uscc, "today": today()}
    rows = s.exec(page_query(stmt, HELD, page), params=params).all()  # type: ignore[call-overload]
    found: Page[Any] = page_of(rows, HELD, page, lambda r: (r[0].created_at, r[0].id))
    views = [licence_view(r[0], r[1], r[2], r[3], base_url) for r in found.items]
    if own:
        for v, r in zip(views, found.items, strict=True):
            v["pdf_url"] = f"{base_url}/api/v1/enterprise/licences/{r[0].id}/pdf"
    return Page(views, found.next_cursor)


def public_holder_view(s: Session, uscc: str, base_url: str, page: PageRequest) -> dict[str, Any] | None:
    """A page of the public view of a USCC (一码展示): current licences first (the business licence, the holder's
    identity, first of all), then the rest, newest first; each says whether it is ``current``. None if it holds
    none; Invalid (naming ``uscc``) if it is not a valid USCC."""
    try:
        uscc = validate_uscc(uscc)
    except IdentifierError as e:
        raise Invalid(f"uscc: {e}", field="uscc") from e
    found = public_views_of_holder(s.connection(), uscc, base_url, page)
    views = found.items
    if not views and not page.cursor:
        return None
    ent = s.exec(select(Enterprise).where(Enterprise.uscc == uscc)).first()
    holder = next((v for v in views if v["holder_status"]), None)
    count = s.exec(select(func.count()).select_from(Licence).where(Licence.holder_uscc == uscc)).one()
    return {
        "uscc": uscc,
        "name": ent.name if ent else (views[0]["holder_name"] if views else uscc),
        "holder_status": holder["holder_status"] if holder else None,
        "holder_status_label": holder["holder_status_label"] if holder else None,
        "holder_status_label_en": holder["holder_status_label_en"] if holder else None,
        "registered": ent is not None,
        "count": count,
        "items": views,
        "next_cursor": found.next_cursor,
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
    s: Session,
    dept: Department,
    uscc: str,
    *,
    purpose: str | None,
    type_code: str | None,
    base_url: str,
    page: PageRequest = PageRequest(),
) -> dict[str, Any]:
    """共享调用: a department reads another holder's current licences for a stated purpose; the call
    is written to the holder's access log and to the audit chain."""
    if not purpose or not purpose.strip():
        raise Invalid("purpose: required — say why the licences are looked up (共享调用事由)", field="purpose")
    purpose = purpose.strip()
    try:
        uscc = validate_uscc(uscc)
    except IdentifierError as e:
        raise Invalid(f"uscc: {e}", field="uscc") from e
    found = holder_page(s, uscc, base_url, page, current=True, type_code=type_code)
    items = found.items
    log_access(s, uscc, "lookup", department_id=dept.id, purpose=purpose)
    audit.record_access(
        s,
        "licence.lookup",
        actor_kind="department",
        actor_id=dept.id,
        subject_kind="holder",
        subject_id=uscc,
        details={"purpose": purpose, "type": type_code, "results": len(items)},
    )
    return {"uscc": uscc, "purpose": purpose, "items": items, "next_cursor": found.next_cursor}
