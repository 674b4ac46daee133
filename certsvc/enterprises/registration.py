"""An enterprise comes into the service with its business licence (营业执照): it is registered,
gets its business-licence signing certificate and a one-time activation code."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from certsvc import audit
from certsvc.db.models import Department, Enterprise, Licence, utcnow
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


def claim_uscc(s: Session, uscc: str, name: str, kind: str) -> None:
    """Lock the enterprise row of ``uscc`` for this transaction, creating it if it is new.

    Checking "no business licence yet" and then registering is a read-check-write: two server
    processes issuing a business licence for one USCC at once would both pass the check. Claiming
    the row first (insert-or-nothing, then ``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the
    insert takes the database's write lock) makes the second wait and then see the first's licence.
    The row is part of the caller's transaction: if the issuance fails, it goes too.
    """
    dialect = s.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {"uscc": uscc, "name": name, "kind": kind, "created_at": utcnow()}
    s.execute(insert(Enterprise).values(**values).on_conflict_do_nothing(index_elements=["uscc"]))
    s.exec(select(Enterprise).where(Enterprise.uscc == uscc).with_for_update()).one()


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
