"""The transactional outbox: :func:`emit` writes an event, and one delivery per matching subscription,
in the caller's transaction. A crash after the commit loses nothing (the dispatcher finds the
deliveries); a rolled-back change sends nothing (its event rolls back with it)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from certsvc.db.models import (
    Department,
    Licence,
    LicenceType,
    LicenceVersion,
    new_id,
    utcnow,
)
from certsvc.db.work import Delivery, OutboxEvent, Subscription
from certsvc.licences import status as st
from certsvc.licences.records import current_version

EVENTS = (
    "licence.issued",
    "licence.amended",
    "licence.renewed",
    "licence.suspended",
    "licence.resumed",
    "licence.revoked",
    "filing.created",
    "commitment.overdue",
    "receipt.overdue",
    "holder.revoked",
)
# the lifecycle action (licence_status_change.action) → its event
ACTION_EVENTS = {
    "issue": "licence.issued",
    "amend": "licence.amended",
    "renew": "licence.renewed",
    "suspend": "licence.suspended",
    "resume": "licence.resumed",
    "revoke": "licence.revoked",
}
_CACHE = "certsvc.events.subscriptions"


def _subscriptions(s: Session) -> list[Subscription]:
    """The live subscriptions, read once per transaction (a batch emits many events)."""
    cached = s.info.get(_CACHE)
    if cached is None:
        cached = list(s.exec(select(Subscription).where(col(Subscription.deleted_at).is_(None))).all())
        s.info[_CACHE] = cached
    return cached


def forget_subscriptions(s: Session) -> None:
    """Drop the per-transaction cache (after a subscription changes in this session)."""
    s.info.pop(_CACHE, None)


def _matches(sub: Subscription, event: str, type_key: str | None) -> bool:
    if sub.events and event not in sub.events:
        return False
    if type_key is None:
        return True
    dept = type_key.split(":", 1)[0]
    return any(t in ("*", type_key, f"{dept}:*") for t in sub.licence_types)


def licence_data(
    s: Session,
    lic: Licence,
    *,
    version: LicenceVersion | None = None,
    licence_type: LicenceType | None = None,
    department: Department | None = None,
) -> dict[str, Any]:
    """What a supervisor needs to know of a licence: no field values, which may hold personal data."""
    ver = version or current_version(s, lic)
    lt = licence_type or s.get(LicenceType, lic.licence_type_id)
    dept = department or s.get(Department, lic.department_id)
    assert lt is not None and dept is not None
    return {
        "licence_id": lic.id,
        "kind": lic.kind,
        "identifier": ver.identifier,
        "number": lic.number,
        "version": ver.version,
        "licence_type": f"{dept.code}:{lt.code}",
        "licence_type_name": lt.name,
        "issuer_code": dept.code,
        "issuer": dept.name,
        "holder_uscc": lic.holder_uscc,
        "holder_name": ver.holder_name,
        "holder_kind": lic.holder_kind,
        "status": st.status_of(lic, ver),
        "valid_from": ver.valid_from.isoformat(),
        "valid_until": ver.valid_until.isoformat() if ver.valid_until else None,
        "verify_path": f"/v/{ver.qr_payload}",  # the dispatcher sends verify_url, under the public base URL
    }


def emit(
    s: Session,
    event: str,
    *,
    licence: Licence | None = None,
    data: dict[str, Any] | None = None,
    departments: set[int] | None = None,
    order_key: str | None = None,
    version: LicenceVersion | None = None,
    licence_type: LicenceType | None = None,
    department: Department | None = None,
) -> OutboxEvent:
    """Write ``event`` about ``licence`` (its data, merged with ``data``) and its deliveries, in the
    caller's transaction. Subscriptions match on event and licence type; ``departments`` limits
    the receivers to those departments' subscriptions (and then the licence type does not matter)."""
    assert event in EVENTS, event
    body: dict[str, Any] = {}
    type_key = None
    if licence is not None:
        body = licence_data(s, licence, version=version, licence_type=licence_type, department=department)
        type_key = body["licence_type"]
    body.update(data or {})
    ev = OutboxEvent(
        id=f"evt_{new_id()}",
        type=event,
        licence_id=licence.id if licence is not None else None,
        department_id=licence.department_id if licence is not None else None,
        data=body,
        occurred_at=utcnow(),
    )
    s.add(ev)
    s.flush()
    assert ev.seq is not None
    key = order_key or (licence.id if licence is not None else ev.id)
    for sub in _subscriptions(s):
        if departments is not None:
            if sub.department_id not in departments or not _matches(sub, event, None):
                continue
        elif not _matches(sub, event, type_key):
            continue
        s.add(Delivery(event_seq=ev.seq, subscription_id=sub.id, order_key=key, next_attempt_at=ev.occurred_at))
    return ev
