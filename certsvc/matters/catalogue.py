"""Matters of the catalogue (事项清单): published by their competent department, read by anyone,
and the 免提交 look-up: which of a matter's materials an enterprise already holds as a licence."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from certsvc import audit
from certsvc.db.models import Department, LicenceType, Matter
from certsvc.db.paging import Key, Keyset, Page, PageRequest, page_of, page_query
from certsvc.departments.registry import REFORM_MODES
from certsvc.enterprises.accounts import log_access
from certsvc.enterprises.holders import holder_view
from certsvc.errors import Conflict, Invalid, NotFound
from certsvc.identifiers import IdentifierError, validate_uscc
from certsvc.licences import status as st
from certsvc.schemas import MatterIn

MAX_PAGE = 200


def _type_named(s: Session, ref: str, field: str, owner: Department | None = None) -> tuple[LicenceType, Department]:
    """The licence type ``DEPTCODE:TYPECODE`` (or just ``TYPECODE`` of ``owner``); 422 naming ``field``."""
    dept_code, _, type_code = ref.strip().upper().rpartition(":")
    if not dept_code and owner is not None:
        dept_code = owner.code
    row = s.exec(
        select(LicenceType, Department)
        .join(Department, col(Department.id) == col(LicenceType.department_id))
        .where(LicenceType.code == type_code, Department.code == dept_code)
    ).first()
    if row is None:
        raise Invalid(f"{field}: no licence type {ref!r} (DEPTCODE:TYPECODE)", field=field)
    return row[0], row[1]


def create_matter(s: Session, dept: Department, body: MatterIn) -> tuple[Matter, LicenceType]:
    """Publish a matter of ``dept``: its licence type must be the department's own and in the same
    reform mode; material licence types must exist; a code already published is 409."""
    code = body.code.strip().upper()
    lt, owner = _type_named(s, body.licence_type, "licence_type", dept)
    if owner.id != dept.id:
        raise Invalid("licence_type: a matter issues a licence type of your own department", field="licence_type")
    if lt.reform_mode != body.reform_mode:
        raise Invalid(
            f"reform_mode: licence type {lt.code} is in mode {lt.reform_mode}, not {body.reform_mode}",
            field="reform_mode",
        )
    materials: list[dict[str, Any]] = []
    for i, m in enumerate(body.materials):
        name = m.name.strip()
        if any(x["name"] == name for x in materials):
            raise Invalid(f"materials.{i}.name: listed twice", field=f"materials.{i}.name")
        item: dict[str, Any] = {"name": name}
        if m.licence_type:
            mt, md = _type_named(s, m.licence_type, f"materials.{i}.licence_type")
            item["licence_type"] = f"{md.code}:{mt.code}"
        materials.append(item)
    if s.exec(select(Matter).where(Matter.code == code)).first() is not None:
        raise Conflict(f"code: a matter with code {code} exists", field="code")
    matter = Matter(
        code=code,
        name=body.name.strip(),
        department_id=dept.id or 0,
        legal_basis=body.legal_basis.strip(),
        reform_mode=body.reform_mode,
        licence_type_id=lt.id or 0,
        materials=materials,
        supervision=body.supervision.strip(),
    )
    try:
        with s.begin_nested():  # a concurrent request may publish the same code first
            s.add(matter)
    except IntegrityError as e:
        raise Conflict(f"code: a matter with code {code} exists", field="code") from e
    audit.record(
        s,
        "matter.create",
        actor_kind="department",
        actor_id=dept.id,
        subject_kind="matter",
        subject_id=code,
        details={"name": matter.name, "reform_mode": matter.reform_mode, "licence_type": lt.code},
    )
    return matter, lt


def matter_view(m: Matter, dept: Department, lt: LicenceType) -> dict[str, Any]:
    """A matter as the catalogue shows it."""
    return {
        "code": m.code,
        "name": m.name,
        "department": dept.name,
        "department_code": dept.code,
        "legal_basis": m.legal_basis,
        "reform_mode": m.reform_mode,
        "reform_mode_name": REFORM_MODES.get(m.reform_mode, m.reform_mode),
        "licence_type": f"{dept.code}:{lt.code}",
        "licence_type_name": lt.name,
        "materials": m.materials,
        "supervision": m.supervision,
    }


MATTERS = Keyset("matters", (Key(col(Matter.code), str),))


def catalogue(
    s: Session, page: PageRequest = PageRequest(), *, q: str | None = None, department: str | None = None
) -> dict[str, Any]:
    """A page of the catalogue, by code: ``q`` finds matters whose name (or code) contains it, ``department``
    those of a department given by its code or (part of) its name."""
    stmt = (
        select(Matter, Department, LicenceType)
        .join(Department, col(Department.id) == col(Matter.department_id))
        .join(LicenceType, col(LicenceType.id) == col(Matter.licence_type_id))
    )
    if q and q.strip():
        needle = q.strip()
        by_name = col(Matter.name).contains(needle, autoescape=True)
        stmt = stmt.where(or_(by_name, col(Matter.code).contains(needle.upper(), autoescape=True)))
    if department and department.strip():
        d = department.strip()
        stmt = stmt.where(or_(col(Department.code) == d.upper(), col(Department.name).contains(d, autoescape=True)))
    rows = s.exec(page_query(stmt, MATTERS, page)).all()  # type: ignore[call-overload]
    found: Page[Any] = page_of(rows, MATTERS, page, lambda r: (r[0].code,))
    return found.answer(lambda r: matter_view(*r))


def held_materials(
    s: Session, dept: Department, code: str, *, uscc: str, purpose: str | None, base_url: str
) -> dict[str, Any]:
    """免提交: each material of matter ``code`` as ``held`` (the enterprise holds a valid licence of its
    type: no need to hand it in) or ``submit``. A department asks, for a stated purpose; the look-up is
    written to the holder's access log with the matter code, once per licence it read."""
    if not purpose or not purpose.strip():
        raise Invalid("purpose: required — say why the materials are looked up", field="purpose")
    purpose = purpose.strip()
    try:
        uscc = validate_uscc(uscc)
    except IdentifierError as e:
        raise Invalid(f"uscc: {e}", field="uscc") from e
    matter = s.exec(select(Matter).where(Matter.code == code.strip().upper())).first()
    if matter is None:
        raise NotFound(f"code: no matter {code!r} in the catalogue", field="code")
    valid = [v for v in holder_view(s, uscc, base_url) if v["status"] == st.VALID]
    items: list[dict[str, Any]] = []
    for m in matter.materials:
        ref = m.get("licence_type")
        type_code = ref.rpartition(":")[2] if ref else None
        found = next((v for v in valid if type_code and v["licence_type"] == type_code), None)
        if found is None:
            items.append({"name": m["name"], "state": "submit"})
            continue
        items.append({"name": m["name"], "state": "held", "licence_id": found["id"], "verify_url": found["verify_url"]})
    read = list(dict.fromkeys(i["licence_id"] for i in items if i["state"] == "held"))
    for licence_id in read or [None]:
        log_access(
            s, uscc, "matter_lookup", licence_id=licence_id, department_id=dept.id, purpose=purpose, matter=matter.code
        )
    audit.record_access(
        s,
        "matter.materials_lookup",
        actor_kind="department",
        actor_id=dept.id,
        subject_kind="holder",
        subject_id=uscc,
        details={"matter": matter.code, "purpose": purpose, "held": read},
    )
    return {"matter": matter.code, "uscc": uscc, "purpose": purpose, "items": items}
