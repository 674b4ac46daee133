"""The dispatcher: delivers pending events to their subscriptions, off the request path.

A delivery is claimed with a lease (compare-and-set on ``lease_until``; on PostgreSQL the candidate
rows are also taken ``FOR UPDATE SKIP LOCKED``), so several processes share the work and none sends
one delivery while another holds it. Per subscription and licence, a delivery is claimed only when
every earlier one is delivered or failed: events arrive in order. A 2xx answer marks it delivered;
anything else retries with exponential backoff until the retry period ends, then it is failed.
Each POST carries the Standard Webhooks headers and signature, and nothing else of the service.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets as _random
from asyncio import FIRST_COMPLETED
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from standardwebhooks import Webhook

from certsvc import __version__
from certsvc.core import clock
from certsvc.core.config import Settings
from certsvc.db.atomic import changed_rows
from certsvc.db.session import session_scope
from certsvc.db.work import Delivery, OutboxEvent, Subscription
from certsvc.events import secrets
from certsvc.sealed import Unreadable

log = logging.getLogger("certsvc.events")

BACKOFF_BASE_S = 10.0
BACKOFF_CAP_S = 3600.0
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def backoff(attempts: int, base: float = BACKOFF_BASE_S, cap: float = BACKOFF_CAP_S) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: 10 s, 20 s, 40 s, … at most an hour."""
    return float(min(cap, base * 2 ** max(0, attempts - 1)))


def lease_seconds(settings: Settings) -> float:
    """How long a claimed delivery is this process's: longer than one attempt can take (its timeout),
    short enough that after a crash another process retries it soon."""
    return settings.events_timeout_s * 2 + 10


@dataclass(frozen=True)
class Claimed:
    """A delivery leased to this process, with what it needs to send it."""

    delivery_id: int
    token: str
    subscription_id: str
    url: str
    secret_sealed: str
    event_id: str
    body: str
    created_at: datetime
    attempts: int


def _body(ev: OutboxEvent, base_url: str) -> str:
    data: dict[str, Any] = dict(ev.data)
    path = data.pop("verify_path", None)
    if path:
        data["verify_url"] = f"{base_url}{path}"
    occurred = ev.occurred_at.isoformat(timespec="microseconds").replace("+00:00", "Z")
    body = {"type": ev.type, "id": ev.id, "occurred_at": occurred, "data": data}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def claim(
    engine: Engine, settings: Settings, now: datetime, limit: int, busy: frozenset[str] = frozenset()
) -> list[Claimed]:
    """Lease up to ``limit`` due deliveries whose earlier events (same subscription and licence)
    are settled, skipping the subscriptions in ``busy``."""
    if limit <= 0:
        return []
    earlier = aliased(Delivery)
    blocked = (
        select(earlier.id)
        .where(
            earlier.subscription_id == Delivery.subscription_id,
            earlier.order_key == Delivery.order_key,
            earlier.state == PENDING,
            col(earlier.event_seq) < col(Delivery.event_seq),
        )
        .exists()
    )
    q = (
        select(Delivery.id)
        .where(
            Delivery.state == PENDING,
            col(Delivery.next_attempt_at) <= now,
            or_(col(Delivery.lease_until).is_(None), col(Delivery.lease_until) < now),
            ~blocked,
        )
        .order_by(col(Delivery.event_seq))
        .limit(limit)
    )
    if busy:
        q = q.where(col(Delivery.subscription_id).not_in(busy))
    lease_until = now + timedelta(seconds=lease_seconds(settings))
    out: list[Claimed] = []
    with session_scope(engine) as s:
        if s.get_bind().dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        ids = list(s.exec(q).all())
        for delivery_id in ids:
            token = _random.token_hex(16)
            stmt = (
                update(Delivery)
                .where(
                    col(Delivery.id) == delivery_id,
                    col(Delivery.state) == PENDING,
                    or_(col(Delivery.lease_until).is_(None), col(Delivery.lease_until) < now),
                )
                .values(lease_until=lease_until, lease_token=token)
            )
            if changed_rows(s, stmt) != 1:
                continue  # another process leased it meanwhile
            d = s.get(Delivery, delivery_id)
            assert d is not None
            sub = s.get(Subscription, d.subscription_id)
            ev = s.exec(select(OutboxEvent).where(OutboxEvent.seq == d.event_seq)).one()
            assert sub is not None
            body = _body(ev, settings.public_base_url)
            out.append(
                Claimed(d.id or 0, token, sub.id, sub.url, sub.secret_sealed, ev.id, body, d.created_at, d.attempts)
            )
    return out


def settle(engine: Engine, settings: Settings, c: Claimed, status: int | None, error: str | None, now: datetime) -> str:
    """Record an attempt's outcome (only while this process still holds the lease): the new state."""
    ok = status is not None and 200 <= status < 300
    values: dict[str, Any] = {
        "attempts": c.attempts + 1,
        "last_status": status,
        "last_error": None if ok else (error or f"HTTP {status}")[:500],
        "lease_until": None,
        "lease_token": None,
    }
    if ok:
        values.update(state=DELIVERED, delivered_at=now)
    elif (now - c.created_at).total_seconds() >= settings.events_retry_for_s:
        values.update(state=FAILED)
    else:
        values.update(next_attempt_at=now + timedelta(seconds=backoff(c.attempts + 1)))
    stmt = (
        update(Delivery)
        .where(col(Delivery.id) == c.delivery_id, col(Delivery.lease_token) == c.token, col(Delivery.state) == PENDING)
        .values(**values)
    )
    with session_scope(engine) as s:
        if changed_rows(s, stmt) != 1:
            return "lost"  # the lease ran out (another process retries it) or the subscription ended
    return str(values.get("state", PENDING))


async def send(client: httpx.AsyncClient, settings: Settings, c: Claimed) -> tuple[int | None, str | None]:
    """POST one delivery, signed; the receiver's status, or the error that stopped it."""
    try:
        secret = await asyncio.to_thread(secrets.unseal, settings, c.subscription_id, c.secret_sealed)
    except Unreadable:
        return None, "the subscription's secret cannot be read with this service's sealing key"
    signed_at = clock.now()
    headers = {
        "content-type": "application/json",
        "user-agent": f"certsvc/{__version__} (events)",
        "webhook-id": c.event_id,
        "webhook-timestamp": str(int(signed_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(c.event_id, signed_at, c.body),
    }
    try:
        post = client.post(c.url, content=c.body.encode(), headers=headers)
        r = await asyncio.wait_for(post, timeout=settings.events_timeout_s)  # the whole exchange, not each phase
        return r.status_code, None
    except TimeoutError:
        return None, f"no answer within {settings.events_timeout_s:g} s"
    except httpx.HTTPError as e:
        return None, f"{type(e).__name__}: {e}"[:500]


def new_client(settings: Settings) -> httpx.AsyncClient:
    """The outbound client: a timeout, no redirects, no proxies or netrc credentials from the environment."""
    limits = httpx.Limits(max_connections=max(1, settings.events_concurrency))
    return httpx.AsyncClient(timeout=settings.events_timeout_s, follow_redirects=False, trust_env=False, limits=limits)


async def _deliver(
    engine: Engine, settings: Settings, client: httpx.AsyncClient, c: Claimed, now: Callable[[], datetime]
) -> str:
    status, error = await send(client, settings, c)
    state = await asyncio.to_thread(settle, engine, settings, c, status, error, now())
    if state != DELIVERED:
        log.info("event %s to %s: %s (%s)", c.event_id, c.subscription_id, state, error or status)
    return state


async def dispatch_once(
    engine: Engine,
    settings: Settings,
    *,
    now: datetime | None = None,
    client: httpx.AsyncClient | None = None,
    max_rounds: int = 1000,
) -> dict[str, int]:
    """Deliver everything due as of ``now`` (default: the clock), round after round until nothing is
    claimable: what happened (for ``certsvc events dispatch`` and tests)."""
    counts = {DELIVERED: 0, PENDING: 0, FAILED: 0, "lost": 0}
    own = client is None
    http = client or new_client(settings)
    try:
        for _ in range(max_rounds):
            at = now or clock.now()
            batch = await asyncio.to_thread(claim, engine, settings, at, max(1, settings.events_concurrency))
            if not batch:
                break
            states = await asyncio.gather(
                *(_deliver(engine, settings, http, c, lambda: now or clock.now()) for c in batch)
            )
            for state in states:
                counts[state] += 1
    finally:
        if own:
            await http.aclose()
    return {"delivered": counts[DELIVERED], "retrying": counts[PENDING], "failed": counts[FAILED]}


async def run_dispatcher(engine: Engine, settings: Settings) -> None:
    """The loop inside ``certsvc serve``: at most ``events_concurrency`` deliveries in flight, at most
    half of them to one subscription, so a receiver that hangs delays only its own deliveries."""
    per_subscription = max(1, settings.events_concurrency // 2)
    inflight: dict[asyncio.Task[str], str] = {}
    async with new_client(settings) as client:
        while True:
            claimed: list[Claimed] = []
            free = settings.events_concurrency - len(inflight)
            try:
                counts: dict[str, int] = {}
                for sub_id in inflight.values():
                    counts[sub_id] = counts.get(sub_id, 0) + 1
                busy = frozenset(k for k, n in counts.items() if n >= per_subscription)
                claimed = await asyncio.to_thread(claim, engine, settings, clock.now(), free, busy)
            except Exception:  # the database is away: try again next round
                log.exception("claiming event deliveries failed")
            for c in claimed:
                task = asyncio.create_task(_deliver(engine, settings, client, c, clock.now))
                inflight[task] = c.subscription_id
                task.add_done_callback(lambda t: inflight.pop(t, None))
            if inflight:  # look again as soon as one finishes (or after the interval)
                await asyncio.wait(set(inflight), timeout=settings.events_interval_s, return_when=FIRST_COMPLETED)
            else:
                await asyncio.sleep(settings.events_interval_s)


def stats(engine: Engine, now: datetime) -> dict[str, float]:
    """Deliveries by state, retries made, and the age of the oldest pending one (for /metrics)."""
    with Session(engine) as s:
        by_state = dict(s.exec(select(Delivery.state, func.count()).group_by(col(Delivery.state))).all())
        retries = s.exec(
            select(func.coalesce(func.sum(col(Delivery.attempts) - 1), 0)).where(col(Delivery.attempts) > 1)
        ).one()
        oldest = s.exec(select(func.min(col(Delivery.created_at))).where(Delivery.state == PENDING)).one()
    age = 0.0
    if oldest is not None:
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
        age = max(0.0, (now - oldest).total_seconds())
    return {
        "pending": float(by_state.get(PENDING, 0)),
        "delivered": float(by_state.get(DELIVERED, 0)),
        "failed": float(by_state.get(FAILED, 0)),
        "retries": float(retries or 0),
        "oldest_pending_age_s": age,
    }
