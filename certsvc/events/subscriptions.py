"""Subscriptions (who is told what, where), their deliveries, and feedback (反馈) on events received."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from certsvc import audit
from certsvc.context import Context
from certsvc.db.models import Department, LicenceType, utcnow
from certsvc.db.paging import Key, Keyset, Page, PageRequest, page_of, page_query
from certsvc.db.session import session_scope
from certsvc.db.work import Delivery, Feedback, OutboxEvent, Subscription
from certsvc.errors import Conflict, Denial, Invalid, NotFound
from certsvc.events import secrets
from certsvc.events.outbox import EVENTS

MAX_PER_DEPARTMENT = 20
_LOOPBACK = {"localhost", "localhost.localdomain"}


def _d(t: datetime | None) -> str | None:
    return t.isoformat().replace("+00:00", "Z") if t else None


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    return host, parts.port or (443 if parts.scheme == "https" else 80)


def _loopback(host: str) -> bool:
    if host in _LOOPBACK:
        return True
    try:
        ip = ipaddress.ip_address(host)
        return ip.is_loopback or ip.is_unspecified  # 0.0.0.0: this machine
    except ValueError:
        return False


def check_url(url: str, public_base_url: str) -> str:
    """An http(s) URL with a host, no user name or password, and not the service itself."""
    url = (url or "").strip()
    if len(url) > 2000:
        raise Invalid("url: at most 2000 characters", field="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise Invalid(f"url: {e}", field="url") from e
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid("url: an http or https URL with a host", field="url")
    if parts.username or parts.password:
        raise Invalid("url: no user name or password in the URL", field="url")
    host, port = _host_port(url)
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        ip = None
    if ip is not None and (ip.is_link_local or ip.is_multicast or ip.is_unspecified):
        raise Invalid("url: not a link-local, multicast or unspecified address", field="url")  # e.g. cloud metadata
    own_host, own_port = _host_port(public_base_url)
    same_host = host == own_host or (_loopback(host) and _loopback(own_host))
    if same_host and port == own_port:
        raise Invalid("url: points at this service itself", field="url")
    return url


def _check_types(s: Session, licence_types: list[str]) -> list[str]:
    if not licence_types:
        raise Invalid('licence_types: at least one ("DEPTCODE:TYPECODE", "DEPTCODE:*" or "*")', field="licence_types")
    out = []
    for t in dict.fromkeys(licence_types):
        if t == "*":
            out.append(t)
            continue
        dept_code, _, type_code = t.partition(":")
        dept = s.exec(select(Department).where(Department.code == dept_code)).first()
        if dept is None or not type_code:
            raise Invalid(f"licence_types: no such department or type: {t}", field="licence_types")
        if type_code != "*":
            lt = s.exec(select(LicenceType).where(LicenceType.code == type_code)).first()
            if lt is None or lt.department_id != dept.id:
                raise Invalid(f"licence_types: {dept_code} has no licence type {type_code}", field="licence_types")
        out.append(t)
    return out


def subscription_view(sub: Subscription) -> dict[str, Any]:
    """A subscription as its department sees it (never the secret)."""
    return {
        "id": sub.id,
        "url": sub.url,
        "licence_types": sub.licence_types,
        "events": sub.events or list(EVENTS),
        "created_at": _d(sub.created_at),
    }


def create_subscription(
    ctx: Context, dept: Department, url: str, licence_types: list[str], events: list[str] | None
) -> tuple[Subscription, str]:
    """Subscribe ``dept``; the secret is returned here only (stored encrypted)."""
    url = check_url(url, ctx.settings.public_base_url)
    chosen = list(dict.fromkeys(events or EVENTS))
    unknown = [e for e in chosen if e not in EVENTS]
    if unknown:
        raise Invalid(f"events: unknown {', '.join(unknown)}; one of {', '.join(EVENTS)}", field="events")
    with session_scope(ctx.engine) as s:
        types = _check_types(s, licence_types)
        live = s.exec(
            select(Subscription).where(Subscription.department_id == dept.id, col(Subscription.deleted_at).is_(None))
        ).all()
        if len(live) >= MAX_PER_DEPARTMENT:
            raise Conflict(f"a department has at most {MAX_PER_DEPARTMENT} subscriptions")
        secret = secrets.new_secret()
        sub = Subscription(department_id=dept.id or 0, url=url, licence_types=types, events=chosen, secret_sealed="")
        sub.secret_sealed = secrets.seal(ctx.settings, sub.id, secret)
        s.add(sub)
        s.flush()
        audit.record(
            s,
            "subscription.create",
            actor_kind="department",
            actor_id=dept.id,
            subject_kind="subscription",
            subject_id=sub.id,
            details={"url": url, "licence_types": types, "events": chosen},
        )
        s.refresh(sub)
        s.expunge(sub)
    return sub, secret


def own_subscription(s: Session, dept: Department, subscription_id: str) -> Subscription:
    """One of ``dept``'s live subscriptions; 404 (recorded) for another department's."""
    sub = s.get(Subscription, subscription_id)
    if sub is None or sub.deleted_at is not None:
        raise NotFound("no such subscription")
    if sub.department_id != dept.id:
        denial = Denial("cross_department", "department", dept.id, "subscription", sub.id, "another department's")
        raise NotFound("no such subscription", denial=denial)
    return sub


SUBSCRIPTIONS = Keyset("subscriptions", (Key(col(Subscription.created_at), datetime), Key(col(Subscription.id), str)))
DELIVERIES = Keyset("deliveries", (Key(col(Delivery.id), int, True),))


def subscriptions_of(ctx: Context, dept: Department, page: PageRequest) -> dict[str, Any]:
    """A page of the department's live subscriptions, oldest first."""
    with Session(ctx.engine) as s:
        q = select(Subscription).where(Subscription.department_id == dept.id, col(Subscription.deleted_at).is_(None))
        rows = s.exec(page_query(q, SUBSCRIPTIONS, page)).all()  # type: ignore[call-overload]
        found: Page[Subscription] = page_of(rows, SUBSCRIPTIONS, page, lambda x: (x.created_at, x.id))
        return found.answer(subscription_view)


def delete_subscription(ctx: Context, dept: Department, subscription_id: str) -> None:
    """End a subscription: nothing more is sent to it (pending deliveries are dropped as failed)."""
    with session_scope(ctx.engine) as s:
        sub = own_subscription(s, dept, subscription_id)
        sub.deleted_at = utcnow()
        s.add(sub)
        pending = s.exec(select(Delivery).where(Delivery.subscription_id == sub.id, Delivery.state == "pending")).all()
        for d in pending:
            d.state, d.last_error = "failed", "the subscription was deleted"
            s.add(d)
        audit.record(
            s,
            "subscription.delete",
            actor_kind="department",
            actor_id=dept.id,
            subject_kind="subscription",
            subject_id=sub.id,
            details={"dropped": len(pending)},
        )


def delivery_view(d: Delivery, ev: OutboxEvent) -> dict[str, Any]:
    """A delivery as the subscriber (and the operator) sees it."""
    return {
        "id": str(d.id),
        "event_id": ev.id,
        "event_type": ev.type,
        "licence_id": ev.licence_id,
        "occurred_at": _d(ev.occurred_at),
        "state": d.state,
        "attempts": d.attempts,
        "next_attempt_at": _d(d.next_attempt_at) if d.state == "pending" else None,
        "last_status": d.last_status,
        "last_error": d.last_error,
        "delivered_at": _d(d.delivered_at),
    }


def deliveries_of(
    ctx: Context, dept: Department, subscription_id: str, page: PageRequest, *, state: str | None
) -> dict[str, Any]:
    """A page of a subscription's deliveries, newest first; only its own department sees them."""
    if state not in (None, "pending", "delivered", "failed"):
        raise Invalid("state: pending, delivered or failed", field="state")
    with Session(ctx.engine) as s:
        sub = own_subscription(s, dept, subscription_id)
        q = (
            select(Delivery, OutboxEvent)
            .join(OutboxEvent, col(OutboxEvent.seq) == col(Delivery.event_seq))
            .where(Delivery.subscription_id == sub.id)
        )
        if state:
            q = q.where(Delivery.state == state)
        rows = s.exec(page_query(q, DELIVERIES, page)).all()  # type: ignore[call-overload]
    found: Page[Any] = page_of(rows, DELIVERIES, page, lambda r: (r[0].id,))
    return found.answer(lambda r: delivery_view(*r))


def feedback_view(f: Feedback, ev: OutboxEvent | None, dept: Department | None) -> dict[str, Any]:
    """A feedback entry as the issuing department sees it on the licence."""
    return {
        "id": f.id,
        "event_id": f.event_id,
        "event_type": ev.type if ev else None,
        "department": dept.code if dept else None,
        "department_name": dept.name if dept else None,
        "result": f.result,
        "note": f.note,
        "at": _d(f.created_at),
    }


def give_feedback(ctx: Context, dept: Department, event_id: str, result: str, note: str | None) -> dict[str, Any]:
    """反馈: ``dept`` answers an event one of its subscriptions received; the issuer sees it on the licence."""
    result = (result or "").strip()
    if not result or len(result) > 64:
        raise Invalid("result: 1 to 64 characters (e.g. 纳入监管, 核查通过, 责令整改)", field="result")
    note = (note or "").strip() or None
    if note is not None and len(note) > 2000:
        raise Invalid("note: at most 2000 characters", field="note")
    with session_scope(ctx.engine) as s:
        ev = s.exec(select(OutboxEvent).where(OutboxEvent.id == event_id)).first()
        received = None
        if ev is not None:
            received = s.exec(
                select(Delivery)
                .join(Subscription, col(Subscription.id) == col(Delivery.subscription_id))
                .where(
                    Delivery.event_seq == ev.seq,
                    Delivery.state == "delivered",
                    Subscription.department_id == dept.id,
                )
            ).first()
        if ev is None or received is None:
            denial = None
            if ev is not None:
                denial = Denial("feedback_not_received", "department", dept.id, "event", ev.id, "not sent to it")
            raise NotFound("no such event sent to your department", denial=denial)
        fb = Feedback(event_id=ev.id, licence_id=ev.licence_id, department_id=dept.id or 0, result=result, note=note)
        s.add(fb)
        s.flush()
        audit.record(
            s,
            "event.feedback",
            actor_kind="department",
            actor_id=dept.id,
            subject_kind="event",
            subject_id=ev.id,
            details={"licence_id": ev.licence_id, "result": result, "note": note},
        )
        return feedback_view(fb, ev, dept)


def licence_feedback(s: Session, licence_id: str) -> list[dict[str, Any]]:
    """The feedback supervising departments gave on a licence's events, oldest first."""
    rows = s.exec(
        select(Feedback, OutboxEvent, Department)
        .join(OutboxEvent, col(OutboxEvent.id) == col(Feedback.event_id))
        .join(Department, col(Department.id) == col(Feedback.department_id))
        .where(Feedback.licence_id == licence_id)
        .order_by(col(Feedback.created_at), col(Feedback.id))
    ).all()
    return [feedback_view(f, ev, d) for f, ev, d in rows]
