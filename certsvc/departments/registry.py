"""Departments, their API keys, their seal certificates, and their licence types."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from certsvc import audit
from certsvc.db.counters import next_value
from certsvc.db.models import ApiCredential, Department, LicenceType
from certsvc.db.paging import Key, Keyset, Page, PageRequest, page_of, page_query
from certsvc.errors import Conflict, Invalid
from certsvc.identifiers import IdentifierError, validate_uscc
from certsvc.keyring import Keyring
from certsvc.security import new_bearer
from keys.ca import Subject
from verify.trust import OwnerKind

BUSINESS_LICENCE_CODE = "YYZZ"
BUSINESS_LICENCE_NAME = "营业执照"
BUSINESS_LICENCE_FIELDS: list[dict[str, Any]] = [
    {"name": "类型", "required": True},
    {"name": "法定代表人", "required": False},
    {"name": "注册资本", "required": False},
    {"name": "成立日期", "required": False},
    {"name": "住所", "required": False, "private": True},
    {"name": "经营范围", "required": True},
]
REFORM_MODES = {
    "approval": "优化审批服务",
    "commitment": "实行告知承诺",
    "filing": "审批改为备案",
    "abolished": "直接取消审批",
}
_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")


@dataclass(frozen=True)
class NewDepartment:
    """A department just created, with its API key in clear: the only time the key is available."""

    department: Department
    api_key: str


def add_department(
    session: Session,
    keyring: Keyring,
    *,
    name: str,
    uscc: str,
    code: str,
    registrar: bool = False,
    credit: bool = False,
) -> NewDepartment:
    """Create a department with its seal certificate and first API key; a registrar (the market
    regulator) also gets the business licence type (营业执照, YYZZ); a ``credit`` department keeps
    the list of credit restrictions (信用约束)."""
    try:
        uscc = validate_uscc(uscc)
    except IdentifierError as e:
        raise Invalid(f"uscc: {e}", field="uscc") from e
    code = code.strip().upper()
    if not _CODE.match(code):
        raise Invalid("code: 2-16 capital letters or digits, starting with a letter", field="code")
    if not name.strip():
        raise Invalid("name: required", field="name")
    same = session.exec(select(Department).where((Department.uscc == uscc) | (Department.code == code))).first()
    if same is not None:
        what = f"code {code}" if same.code == code else f"USCC {uscc}"
        raise Conflict(f"a department with {what} exists: {same.name} ({same.code})")
    if registrar:
        existing = session.exec(select(Department).where(col(Department.is_registrar).is_(True))).first()
        if existing is not None:
            raise Conflict(
                f"registrar: {existing.name} ({existing.code}) is already the registrar (the market regulator, "
                f"which owns the business licence type {BUSINESS_LICENCE_CODE}); there is one",
                field="registrar",
            )
    dept = Department(name=name.strip(), uscc=uscc, code=code, is_registrar=registrar, is_credit=credit)
    session.add(dept)
    session.flush()
    assert dept.id is not None
    keyring.issue(session, OwnerKind.DEPARTMENT, dept.id, Subject(dept.name, dept.name, dept.uscc, "电子证照专用章"))
    key = issue_api_key(session, dept)
    if registrar:
        create_licence_type(
            session,
            dept,
            code=BUSINESS_LICENCE_CODE,
            name=BUSINESS_LICENCE_NAME,
            fields=BUSINESS_LICENCE_FIELDS,
            validity_days=None,
            reform_mode="approval",
            business_licence=True,
            actor_kind="operator",
        )
    audit.record(
        session,
        "department.create",
        actor_kind="operator",
        subject_kind="department",
        subject_id=dept.id,
        details={"name": dept.name, "uscc": uscc, "code": code, "registrar": registrar, "credit": credit},
    )
    return NewDepartment(dept, key)


def issue_api_key(session: Session, dept: Department) -> str:
    """A new API key for ``dept``; only its hash is stored, so the caller must hand it over now."""
    secret = new_bearer("csd")
    cred = ApiCredential(kind="department", owner_id=dept.id or 0, prefix=secret.prefix, secret_hash=secret.secret_hash)
    session.add(cred)
    session.flush()
    audit.record(
        session,
        "department.api_key",
        actor_kind="operator",
        subject_kind="department",
        subject_id=dept.id,
        details={"key_id": cred.id},
    )
    return secret.token


def _check_fields(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for i, f in enumerate(fields):
        name = str(f.get("name", "")).strip()
        if not name or len(name) > 64:
            raise Invalid(f"fields.{i}.name: required, at most 64 characters", field=f"fields.{i}.name")
        if name in seen:
            raise Invalid(f"fields.{i}.name: {name!r} appears twice", field=f"fields.{i}.name")
        seen.add(name)
        out.append({"name": name, "required": bool(f.get("required", False)), "private": bool(f.get("private", False))})
    return out


def create_licence_type(
    session: Session,
    dept: Department,
    *,
    code: str,
    name: str,
    fields: list[dict[str, Any]],
    validity_days: int | None,
    reform_mode: str,
    business_licence: bool = False,
    actor_kind: str = "department",
    commitment: dict[str, Any] | None = None,
) -> LicenceType:
    """Define a licence type of ``dept``; its code is unique across departments: requests name a type by code.
    A type in ``commitment`` mode carries its commitment terms (and no other type does)."""
    code = code.strip().upper()
    if not _CODE.match(code):
        raise Invalid("code: 2-16 capital letters or digits, starting with a letter", field="code")
    if reform_mode not in REFORM_MODES:
        raise Invalid(f"reform_mode: one of {', '.join(REFORM_MODES)}", field="reform_mode")
    terms = check_commitment_terms(reform_mode, commitment)
    if validity_days is not None and not 1 <= validity_days <= 36500:
        raise Invalid("validity_days: between 1 and 36500, or null for 长期", field="validity_days")
    if session.exec(select(LicenceType).where(LicenceType.code == code)).first():
        raise Conflict(f"licence type code {code} exists")
    seq = next_value(session, f"type_seq:{dept.id}")
    if seq > 999:
        raise Conflict("this department has defined 999 licence types")
    lt = LicenceType(
        department_id=dept.id or 0,
        code=code,
        name=name.strip(),
        type_code=f"{dept.uscc}{seq:03d}",
        fields=_check_fields(fields),
        validity_days=validity_days,
        reform_mode=reform_mode,
        commitment=terms,
        is_business_licence=business_licence,
    )
    session.add(lt)
    session.flush()
    audit.record(
        session,
        "licence_type.create",
        actor_kind=actor_kind,
        actor_id=dept.id,
        subject_kind="licence_type",
        subject_id=lt.id,
        details={"code": code, "name": lt.name, "reform_mode": reform_mode, "commitment": terms},
    )
    return lt


def check_commitment_terms(reform_mode: str, terms: dict[str, Any] | None) -> dict[str, Any] | None:
    """The commitment terms of a new type: required in ``commitment`` mode, refused in any other
    (422 naming the field)."""
    if reform_mode != "commitment":
        if terms is not None:
            raise Invalid("commitment: only a type in commitment mode carries commitment terms", field="commitment")
        return None
    if terms is None:
        raise Invalid(
            'commitment: required in commitment mode: {"text", "conditions_due_days", "on_overdue"}',
            field="commitment",
        )
    text = str(terms.get("text") or "").strip()
    if not text:
        raise Invalid("commitment.text: required", field="commitment.text")
    days = terms.get("conditions_due_days")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650:
        raise Invalid("commitment.conditions_due_days: 1 to 3650 days", field="commitment.conditions_due_days")
    on_overdue = terms.get("on_overdue", "flag")
    if on_overdue not in ("flag", "suspend"):
        raise Invalid("commitment.on_overdue: flag or suspend", field="commitment.on_overdue")
    return {"text": text, "conditions_due_days": days, "on_overdue": on_overdue}


TYPES = Keyset("licence-types", (Key(col(LicenceType.id), int),))


def licence_types_page(session: Session, dept: Department, page: PageRequest) -> dict[str, Any]:
    """A page of the licence types the department defined, oldest first."""
    stmt = page_query(select(LicenceType).where(LicenceType.department_id == dept.id), TYPES, page)
    rows = session.exec(stmt).all()  # type: ignore[call-overload]
    found: Page[LicenceType] = page_of(rows, TYPES, page, lambda lt: (lt.id,))
    return found.answer(licence_type_view)


def licence_type_view(lt: LicenceType) -> dict[str, Any]:
    """A licence type as the API shows it."""
    return {
        "code": lt.code,
        "name": lt.name,
        "type_code": lt.type_code,
        "fields": lt.fields,
        "validity_days": lt.validity_days,
        "reform_mode": lt.reform_mode,
        "reform_mode_name": REFORM_MODES.get(lt.reform_mode),
        "business_licence": lt.is_business_licence,
        "commitment": lt.commitment,
    }
