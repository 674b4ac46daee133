"""An enterprise comes into the service with its business licence (营业执照): it is registered,
gets its business-licence signing certificate and a one-time activation code."""

from __future__ import annotations

from sqlmodel import Session, select

from certsvc import audit
from certsvc.db.models import Department, Enterprise, Licence
from certsvc.errors import Conflict
from certsvc.keyring import Keyring
from certsvc.licences import status as st
from certsvc.security import hash_secret, new_activation_code
from keys.ca import Subject
from verify.trust import OwnerKind


def check_business_licence_free(s: Session, uscc: str) -> None:
    """409 if ``uscc`` already holds a business licence that is not revoked."""
    ent = s.exec(select(Enterprise).where(Enterprise.uscc == uscc)).first()
    if ent and ent.business_licence_id:
        current = s.get(Licence, ent.business_licence_id)
        if current and current.state != st.REVOKED:
            raise Conflict(
                f"holder_uscc: {uscc} already holds a business licence ({current.number})", field="holder_uscc"
            )


def register_enterprise(keyring: Keyring, s: Session, dept: Department, lic: Licence, kind: str) -> str:
    """Register (or re-register) the holder of business licence ``lic``; the activation code."""
    code = new_activation_code()
    ent = s.exec(select(Enterprise).where(Enterprise.uscc == lic.holder_uscc)).first()
    if ent is None:
        ent = Enterprise(uscc=lic.holder_uscc, name=lic.holder_name, kind=kind)
    ent.name, ent.kind, ent.business_licence_id = lic.holder_name, kind, lic.id
    ent.activation_code_hash = hash_secret(code.replace("-", ""))
    s.add(ent)
    s.flush()
    keyring.issue(s, OwnerKind.ENTERPRISE, ent.id or 0, Subject(ent.name, ent.name, ent.uscc, "电子营业执照"))
    audit.record(
        s,
        "enterprise.register",
        actor_kind="department",
        actor_id=dept.id,
        subject_kind="enterprise",
        subject_id=ent.id,
        details={"uscc": ent.uscc, "name": ent.name, "kind": kind, "business_licence": lic.id},
    )
    return code
