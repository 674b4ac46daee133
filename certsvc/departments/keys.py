"""A department's API keys: several at once, added and revoked by the operator, last use shown.

Keys are stored only as hashes (:mod:`certsvc.security`); a new key is shown once, when it is made.
A revoked key answers 401 saying when it was revoked. Every change is in the audit log.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from certsvc import audit
from certsvc.db.models import ApiCredential, Department, utcnow
from certsvc.departments.registry import issue_api_key
from certsvc.errors import Conflict, NotFound
from verify.trust import as_utc


def department_by_code(s: Session, code: str) -> Department:
    """The department with short code ``code`` (any case); NotFound naming the code otherwise."""
    dept = s.exec(select(Department).where(Department.code == code.strip().upper())).first()
    if dept is None:
        raise NotFound(f"no department with code {code.strip().upper()!r}", field="department")
    return dept


def _iso(value: Any) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


def key_view(cred: ApiCredential) -> dict[str, Any]:
    """An API key as the operator sees it: never the secret, only its public prefix."""
    return {
        "id": cred.id,
        "prefix": f"csd_{cred.prefix}_…",
        "created_at": _iso(cred.created_at),
        "last_used_at": _iso(cred.last_used_at),
        "revoked_at": _iso(cred.revoked_at),
    }


def _keys(s: Session, dept: Department) -> list[ApiCredential]:
    q = select(ApiCredential).where(ApiCredential.kind == "department", ApiCredential.owner_id == dept.id)
    return list(s.exec(q.order_by(col(ApiCredential.id))).all())


def add_key(s: Session, code: str) -> tuple[dict[str, Any], str]:
    """A new API key for the department ``code``, beside its others: its view and the key, shown only now."""
    dept = department_by_code(s, code)
    token = issue_api_key(s, dept)
    s.flush()
    newest = _keys(s, dept)[-1]
    return key_view(newest), token


def list_keys(s: Session, code: str) -> list[dict[str, Any]]:
    """The department's API keys, oldest first, revoked ones too."""
    return [key_view(c) for c in _keys(s, department_by_code(s, code))]


def revoke_key(s: Session, code: str, key_id: int) -> dict[str, Any]:
    """Revoke one of the department's keys from now on: requests with it get 401 saying so."""
    dept = department_by_code(s, code)
    cred = s.get(ApiCredential, key_id)
    if cred is None or cred.kind != "department" or cred.owner_id != dept.id:
        raise NotFound(f"department {dept.code} has no API key with id {key_id}", field="key_id")
    if cred.revoked_at is not None:
        raise Conflict(
            f"API key {key_id} of {dept.code} was already revoked on {as_utc(cred.revoked_at):%Y-%m-%d %H:%M} UTC"
        )
    now = utcnow()
    cred.revoked_at = now
    cred.revoke_reason = f"this API key was revoked on {now:%Y-%m-%d %H:%M} UTC by the operator"
    s.add(cred)
    audit.record(
        s,
        "department.api_key.revoke",
        actor_kind="operator",
        subject_kind="department",
        subject_id=dept.id,
        details={"key_id": key_id},
    )
    return key_view(cred)


def list_departments(s: Session) -> list[dict[str, Any]]:
    """Every department with its roles and how many of its API keys work, in order of creation."""
    active: dict[int, int] = {}
    for cred in s.exec(
        select(ApiCredential).where(ApiCredential.kind == "department", col(ApiCredential.revoked_at).is_(None))
    ):
        active[cred.owner_id] = active.get(cred.owner_id, 0) + 1
    return [
        {
            "id": d.id,
            "code": d.code,
            "name": d.name,
            "uscc": d.uscc,
            "registrar": d.is_registrar,
            "credit": d.is_credit,
            "active_keys": active.get(d.id or 0, 0),
            "created_at": _iso(d.created_at),
        }
        for d in s.exec(select(Department).order_by(col(Department.id)))
    ]
