"""The audit log: an append-only hash chain of every state change and access.

Each event's hash covers its content and the previous event's hash, so a changed, removed or
inserted row breaks the chain. The chain head is signed from time to time by the service key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import text
from sqlmodel import Session, col, select

from certsvc.core.head_only import head_only
from certsvc.db.counters import next_value
from certsvc.db.models import AuditCheckpoint, AuditEvent, utcnow
from certsvc.keyring import Keyring
from verify.trust import OwnerKind

GENESIS = "0" * 64
_HEAD = text("SELECT hash FROM audit_event ORDER BY id DESC LIMIT 1")


def _canonical(ev: AuditEvent) -> bytes:
    at = ev.at.isoformat(timespec="microseconds") if isinstance(ev.at, datetime) else str(ev.at)
    body = {
        "id": ev.id,
        "at": at.replace("+00:00", "Z"),
        "actor_kind": ev.actor_kind,
        "actor_id": ev.actor_id,
        "action": ev.action,
        "subject_kind": ev.subject_kind,
        "subject_id": ev.subject_id,
        "details": ev.details,
        "prev": ev.prev_hash,
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def event_hash(ev: AuditEvent) -> str:
    """The hash that chains ``ev`` to the next event; recomputed on verification to detect edits."""
    return hashlib.sha256(_canonical(ev)).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One event to append (see :func:`record_many`)."""

    action: str
    actor_kind: str
    actor_id: str | int | None = None
    subject_kind: str | None = None
    subject_id: str | int | None = None
    details: dict[str, Any] | None = None


def record(
    session: Session,
    action: str,
    *,
    actor_kind: str,
    actor_id: str | int | None = None,
    subject_kind: str | None = None,
    subject_id: str | int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event in the caller's transaction (it commits or rolls back with the change)."""
    return record_many(session, [Entry(action, actor_kind, actor_id, subject_kind, subject_id, details)])[0]


def record_access(
    session: Session,
    action: str,
    *,
    actor_kind: str,
    actor_id: str | int | None = None,
    subject_kind: str | None = None,
    subject_id: str | int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append a read (a download, a look-up) as :func:`record` does; a ``HEAD`` reads nothing and is not
    recorded (:mod:`certsvc.core.head_only`)."""
    if not head_only():
        record(
            session,
            action,
            actor_kind=actor_kind,
            actor_id=actor_id,
            subject_kind=subject_kind,
            subject_id=subject_id,
            details=details,
        )


def _opt_str(v: str | int | None) -> str | None:
    return None if v is None else str(v)


def record_many(session: Session, entries: list[Entry]) -> list[AuditEvent]:
    """Append events in order, in the caller's transaction, taking the chain lock once."""
    # Take the chain lock first: this UPDATE serialises appenders on SQLite and PostgreSQL alike.
    first_id = next_value(session, "audit", len(entries))
    prev_hash = session.execute(_HEAD).scalar() or GENESIS
    at = utcnow()
    events = []
    for k, e in enumerate(entries):
        ev = AuditEvent(
            id=first_id + k,
            at=at,
            actor_kind=e.actor_kind,
            actor_id=_opt_str(e.actor_id),
            action=e.action,
            subject_kind=e.subject_kind,
            subject_id=_opt_str(e.subject_id),
            details=e.details or {},
            prev_hash=prev_hash,
            hash="",
        )
        ev.hash = prev_hash = event_hash(ev)
        events.append(ev)
    session.add_all(events)
    session.flush()
    return events


@dataclass(frozen=True)
class ChainReport:
    """The outcome of checking the audit chain: how far it holds, and where and why it breaks."""

    events: int
    ok: bool
    first_bad_id: int | None = None
    reason: str | None = None


def verify_chain(session: Session, batch: int = 5000) -> ChainReport:
    """Walk the chain from the start; name the first event that does not fit."""
    prev_hash = GENESIS
    prev_id = 0
    count = 0
    last_id = 0
    while True:
        rows = session.exec(
            select(AuditEvent).where(col(AuditEvent.id) > last_id).order_by(col(AuditEvent.id)).limit(batch)
        ).all()
        if not rows:
            return ChainReport(events=count, ok=True)
        for ev in rows:
            count += 1
            if ev.prev_hash != prev_hash:
                why = "previous hash does not match"
                if ev.id != prev_id + 1:
                    why += f" (an event between {prev_id} and {ev.id} was removed)"
                else:
                    why += " (an event was inserted or the previous one changed)"
                return ChainReport(count, False, ev.id, why)
            if event_hash(ev) != ev.hash:
                return ChainReport(count, False, ev.id, "content does not match its hash (changed)")
            prev_hash, prev_id = ev.hash, ev.id or 0
        last_id = rows[-1].id or 0


def _checkpoint_message(event_id: int, head_hash: str) -> bytes:
    return f"certsvc-audit-head:{event_id}:{head_hash}".encode()


def checkpoint(session: Session, keyring: Keyring) -> AuditCheckpoint | None:
    """Sign the current chain head with the service key, unless it is signed already."""
    head = session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(1)).first()
    if head is None:
        return None
    last = session.exec(select(AuditCheckpoint).order_by(col(AuditCheckpoint.id).desc()).limit(1)).first()
    if last is not None and last.event_id == head.id:
        return last
    cert = keyring.current(session, OwnerKind.SERVICE, None)
    sig = keyring.sign_raw(cert, _checkpoint_message(head.id or 0, head.hash))
    cp = AuditCheckpoint(event_id=head.id or 0, head_hash=head.hash, signature=sig.hex(), kid=cert.kid)
    session.add(cp)
    session.flush()
    return cp


def verify_checkpoints(session: Session, keyring: Keyring) -> ChainReport | None:
    """Every signed head must still be in the chain with the same hash: catches cut-off tails."""
    for cp in session.exec(select(AuditCheckpoint).order_by(col(AuditCheckpoint.id))):
        info = keyring.by_kid(session, cp.kid)
        if info is None:
            return ChainReport(0, False, cp.event_id, f"checkpoint {cp.id} signed by an unknown key")
        key = info.cert.public_key()
        try:
            if not isinstance(key, ec.EllipticCurvePublicKey):
                raise InvalidSignature("not an EC key")
            key.verify(
                bytes.fromhex(cp.signature), _checkpoint_message(cp.event_id, cp.head_hash), ec.ECDSA(hashes.SHA256())
            )
        except (InvalidSignature, ValueError):
            return ChainReport(0, False, cp.event_id, f"checkpoint {cp.id} signature is invalid")
        ev = session.get(AuditEvent, cp.event_id)
        if ev is None:
            return ChainReport(0, False, cp.event_id, f"event {cp.event_id}, signed at checkpoint {cp.id}, was removed")
        if ev.hash != cp.head_hash:
            return ChainReport(
                0, False, cp.event_id, f"event {cp.event_id} differs from the head signed at checkpoint {cp.id}"
            )
    return None
