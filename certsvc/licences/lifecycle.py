"""A licence over its life: 变更 (amend) and 延续 (renew) seal a new version; 暂停 (suspend), 恢复
(resume) and 撤销/吊销/注销 (revoke) change its state. Expiry is derived when read."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from certsvc import audit
from certsvc.context import Context
from certsvc.db.atomic import changed_rows
from certsvc.db.counters import next_value
from certsvc.db.models import Department, Licence, LicenceType, utcnow
from certsvc.db.session import session_scope
from certsvc.enterprises.standing import end_enterprise
from certsvc.errors import Conflict, Invalid
from certsvc.events.outbox import ACTION_EVENTS, emit
from certsvc.keyring import Keyring
from certsvc.licences import status as st
from certsvc.licences.history import record_change
from certsvc.licences.issuance import Content, Issued, seal_version, version_row
from certsvc.licences.records import current_version, owned
from certsvc.licences.rules import validate_fields
from certsvc.licences.status_index import allocate as allocate_status_indexes
from certsvc.metrics import ISSUANCES


async def new_version(
    ctx: Context,
    dept: Department,
    licence_id: str,
    *,
    action: str,
    fields: dict[str, Any] | None = None,
    holder_name: str | None = None,
    valid_until: date | None = None,
    reason: str | None = None,
) -> Issued:
    """变更 (amend) or 延续 (renew): a new sealed version supersedes the current one."""
    with session_scope(ctx.engine) as s:
        lic = owned(s, dept, licence_id)
        if lic.state == st.REVOKED:
            raise Conflict("the licence is revoked; it cannot be amended or renewed")
        if lic.state == st.SUSPENDED and action == "amend":
            pass  # a suspended licence may be corrected; it stays suspended
        old = current_version(s, lic)
        lt = s.get(LicenceType, lic.licence_type_id)
        assert lt is not None
        merged = dict(old.fields)
        if fields is not None:
            merged.update(validate_fields(lt, fields, partial=True))
            for k, v in fields.items():
                if v in (None, ""):
                    merged.pop(k, None)
            validate_fields(lt, merged)
        name = (holder_name or lic.holder_name).strip()
        if not name or len(name) > 200:
            raise Invalid("holder_name: at most 200 characters", field="holder_name")
        end = old.valid_until
        if action == "renew":
            if valid_until is None:
                raise Invalid("valid_until: required to renew", field="valid_until")
            if old.valid_until is not None and valid_until <= old.valid_until:
                raise Invalid("valid_until: must be later than the current end of validity", field="valid_until")
            end = valid_until
        if end is not None and end < old.valid_from:
            raise Invalid("valid_until: before valid_from", field="valid_until")
        if lic.current_version >= 999:
            raise Conflict("the licence has reached version 999")
        index = allocate_status_indexes(s)[0]
        version, seen_state = lic.current_version + 1, lic.state
    content = Content(lic.serial, index, version, lic.number, lic.holder_uscc, name, merged, old.valid_from, end)
    sv = await seal_version(ctx, dept, lt, content)
    sha = sv.stored.sha256
    with session_scope(ctx.engine) as s:
        lic = owned(s, dept, licence_id)
        old = current_version(s, lic)  # the version checked, unless the update below finds it changed
        now = utcnow()
        # Record only if the licence is still as it was checked: same version, same state. Sealing
        # took a while; meanwhile another request may have revoked, suspended or amended it.
        stmt = (
            update(Licence)
            .where(
                col(Licence.id) == lic.id,
                col(Licence.current_version) == version - 1,
                col(Licence.state) == seen_state,
            )
            .values(current_version=version, holder_name=name, updated_at=now)
        )
        if changed_rows(s, stmt) != 1:
            s.refresh(lic)
            if lic.state == st.REVOKED:
                raise Conflict("the licence was revoked meanwhile; it cannot be amended or renewed")
            raise Conflict("the licence was changed meanwhile; try again")
        s.refresh(lic)
        old.superseded_at = now
        record_change(s, lic.id, action, lic.state, version, now, reason)
        next_value(s, "status")  # the status list changes
        ver = version_row(lic.id, sv)
        s.add_all([old, ver])
        s.flush()
        audit.record(
            s,
            f"licence.{action}",
            actor_kind="department",
            actor_id=dept.id,
            subject_kind="licence",
            subject_id=lic.id,
            details={
                "version": version,
                "identifier": sv.identifier,
                "supersedes": old.identifier,
                "sha256": sha,
                "reason": reason,
            },
        )
        change = {"change": action, "reason": reason, "supersedes": old.identifier}
        emit(s, ACTION_EVENTS[action], licence=lic, version=ver, licence_type=lt, department=dept, data=change)
    ISSUANCES.labels(action).inc()
    return Issued(lic, ver, lt, dept, sv.verify_url)


_TRANSITIONS = {
    "suspend": ({st.VALID}, st.SUSPENDED),
    "resume": ({st.SUSPENDED}, st.VALID),
    "revoke": ({st.VALID, st.SUSPENDED}, st.REVOKED),
}


def _checked_reason(action: str, reason: str, kind: str | None) -> tuple[str, str | None]:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("reason: required", field="reason")
    if len(reason) > 500:
        raise Invalid("reason: at most 500 characters", field="reason")
    revoke_kind = None
    if action == "revoke":
        revoke_kind = kind or next((k for k in st.REVOKE_KINDS if k in reason), "撤销")
        if revoke_kind not in st.REVOKE_KINDS:
            raise Invalid(f"kind: one of {', '.join(st.REVOKE_KINDS)}", field="kind")
    return reason, revoke_kind


def change_state(
    ctx: Context, dept: Department, licence_id: str, action: str, reason: str, kind: str | None = None
) -> Licence:
    """Suspend, resume or revoke a licence of ``dept``; the status list shows it at once, without reissuing the PDF."""
    with session_scope(ctx.engine) as s:
        lic = owned(s, dept, licence_id)
        return apply_state(s, ctx.keyring, lic, action, reason, kind=kind, actor_kind="department", actor_id=dept.id)


def apply_state(
    s: Session,
    keyring: Keyring | None,
    lic: Licence,
    action: str,
    reason: str,
    *,
    kind: str | None = None,
    actor_kind: str,
    actor_id: str | int | None = None,
) -> Licence:
    """The state change of :func:`change_state` in the caller's transaction, by any actor (the
    issuing department, or the system when a commitment is overdue): compare-and-set, history,
    status list, audit, and the business-licence cascade."""
    allowed, target = _TRANSITIONS[action]
    reason, revoke_kind = _checked_reason(action, reason, kind)
    before = lic.state
    now = utcnow()
    for _ in range(len(allowed) + 1):
        if before not in allowed:
            raise Conflict(f"cannot {action} a licence that is {before}")
        # compare-and-set: only if the state is still the one checked (see certsvc.db.atomic)
        values: dict[str, Any] = {"state": target, "state_reason": reason, "updated_at": now}
        if action == "revoke":
            values["revoke_kind"] = revoke_kind
        stmt = update(Licence).where(col(Licence.id) == lic.id, col(Licence.state) == before).values(**values)
        if changed_rows(s, stmt) == 1:
            break
        s.refresh(lic)  # another request changed the state meanwhile: check again against what it is now
        before = lic.state
    else:
        raise Conflict("the licence is being changed by another request; try again")
    s.refresh(lic)
    record_change(s, lic.id, action, target, lic.current_version, now, reason)
    next_value(s, "status")  # the status list changes
    audit.record(
        s,
        f"licence.{action}",
        actor_kind=actor_kind,
        actor_id=actor_id,
        subject_kind="licence",
        subject_id=lic.id,
        details={"from": before, "to": target, "reason": reason, "kind": revoke_kind},
    )
    lt = s.get(LicenceType, lic.licence_type_id)
    change = {"change": action, "reason": reason, "revoke_kind": revoke_kind}
    emit(s, ACTION_EVENTS[action], licence=lic, licence_type=lt, data=change)
    if action == "revoke" and lt is not None and lt.is_business_licence:
        assert keyring is not None, "revoking a business licence needs the keyring"
        end_enterprise(s, keyring, lic, now)  # 一注到底: in this same transaction
    return lic
