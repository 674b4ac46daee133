"""The job runner: issues queued back-fill items in the background, inside every ``certsvc serve``
process (and in ``certsvc backfill --wait``).

Items are claimed a chunk at a time with a lease (a token and an expiry, renewed while the chunk is
worked on; on PostgreSQL the candidate rows are taken ``FOR UPDATE SKIP LOCKED``), so several
processes share a job. Each chunk goes through the batch issuance path, and each licence is recorded
in the same transaction that marks its item ``done`` by a compare-and-set on the item's state and
the claim's token: an item is issued exactly once, even if a process is killed mid-chunk (its lease
runs out and another process, or the restarted one, takes the items over) or a slow process's lease
was taken over meanwhile (its transaction finds the item no longer its own, and records nothing).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import ColumnElement, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from certsvc import audit
from certsvc.backfill.jobs import error_record
from certsvc.context import Context
from certsvc.core import clock
from certsvc.db.atomic import changed_rows
from certsvc.db.models import Department, Licence
from certsvc.db.session import session_scope
from certsvc.db.work import LicenceJob, LicenceJobItem
from certsvc.errors import Conflict, Internal, Invalid, ServiceError
from certsvc.inputs import error_location
from certsvc.licences.issuance import OnItem, Result, issue_many
from certsvc.licences.rules import IssueRequest, PaperLicenceRequest

log = logging.getLogger("certsvc.backfill")

CLAIM_ITEMS = 40
"""Items claimed at a time: enough for every sealing worker, little to redo after a crash."""
_ACTIVE_MAX = 100  # active jobs looked at per claim
MAX_ATTEMPTS = 3
"""An item failing for a reason of the service's own (an internal error) is tried this often, then fails."""
RETRY_AFTER_S = 2.0  # an item given back after an internal failure waits this long per attempt


class LeaseLost(Conflict):
    """The claim's lease ran out and another process took the item over: this one records nothing."""

    code = "lease_lost"


@dataclass(frozen=True)
class Claim:
    """Items of one job leased to this process."""

    job_id: str
    department_id: int
    token: str
    items: list[tuple[int, int, str]]  # (item id, seq, body)
    attempts: tuple[int, ...] = ()  # each item's internal failures so far


def _lease_free(now: datetime) -> ColumnElement[bool]:
    return or_(col(LicenceJobItem.lease_until).is_(None), col(LicenceJobItem.lease_until) < now)


def _active_jobs(s: Session, job_id: str | None, now: datetime) -> list[str]:
    """Jobs with items to claim now, oldest first (jobs whose items are all leased by others, or
    finished, are not looked at: they cannot starve the rest)."""
    claimable = (
        select(LicenceJobItem.id)
        .where(col(LicenceJobItem.job_id) == col(LicenceJob.id), col(LicenceJobItem.state) == "pending")
        .where(_lease_free(now))
        .exists()
    )
    q = (
        select(LicenceJob.id)
        .where(col(LicenceJob.state).in_(("queued", "running")), claimable)
        .order_by(col(LicenceJob.created_at), col(LicenceJob.id))
        .limit(_ACTIVE_MAX)
    )
    if job_id is not None:
        q = q.where(LicenceJob.id == job_id)
    return list(s.exec(q).all())


def finish_idle(engine: Engine, job_id: str | None = None) -> int:
    """Finish every active job (or ``job_id``) that has no pending item left: the process that
    recorded its last item may have died before finishing it. Idempotent: how many it finished."""
    pending = (
        select(LicenceJobItem.id)
        .where(col(LicenceJobItem.job_id) == col(LicenceJob.id), col(LicenceJobItem.state) == "pending")
        .exists()
    )
    q = select(LicenceJob.id).where(col(LicenceJob.state).in_(("queued", "running")), ~pending).limit(_ACTIVE_MAX)
    if job_id is not None:
        q = q.where(LicenceJob.id == job_id)
    with Session(engine) as s:
        idle = list(s.exec(q).all())
    return sum(_finish(engine, j) for j in idle)


def claim(
    engine: Engine, now: datetime, lease_s: float, limit: int = CLAIM_ITEMS, job_id: str | None = None
) -> Claim | None:
    """Lease up to ``limit`` pending items of one job with any to do (of ``job_id`` if given)."""
    with session_scope(engine) as s:
        pg = s.get_bind().dialect.name == "postgresql"
        for active in _active_jobs(s, job_id, now):
            q = (
                select(LicenceJobItem.id)
                .where(col(LicenceJobItem.job_id) == active, col(LicenceJobItem.state) == "pending", _lease_free(now))
                .order_by(col(LicenceJobItem.seq))
                .limit(limit)
            )
            if pg:
                q = q.with_for_update(skip_locked=True)
            ids = list(s.exec(q).all())
            if not ids:
                continue
            token = secrets.token_hex(16)
            stmt = (
                update(LicenceJobItem)
                .where(col(LicenceJobItem.id).in_(ids), col(LicenceJobItem.state) == "pending", _lease_free(now))
                .values(lease_until=now + timedelta(seconds=lease_s), lease_token=token)
            )
            if not changed_rows(s, stmt):
                continue  # another process leased them meanwhile
            rows = s.exec(
                select(LicenceJobItem.id, LicenceJobItem.seq, LicenceJobItem.body, LicenceJobItem.attempts)
                .where(col(LicenceJobItem.lease_token) == token)
                .order_by(col(LicenceJobItem.seq))
            ).all()
            job = s.get(LicenceJob, active)
            assert job is not None
            if job.state == "queued":
                started = update(LicenceJob).where(col(LicenceJob.id) == job.id, col(LicenceJob.state) == "queued")
                changed_rows(s, started.values(state="running", started_at=now))
            items = [(i or 0, seq, body) for i, seq, body, _ in rows]
            return Claim(job.id, job.department_id, token, items, tuple(n for *_, n in rows))
    return None


def renew(engine: Engine, c: Claim, lease_s: float) -> None:
    """Extend the claim's lease on the items still pending."""
    stmt = (
        update(LicenceJobItem)
        .where(col(LicenceJobItem.lease_token) == c.token, col(LicenceJobItem.state) == "pending")
        .values(lease_until=clock.now() + timedelta(seconds=lease_s))
    )
    with session_scope(engine) as s:
        changed_rows(s, stmt)


def _parse(c: Claim, results: list[Result | None]) -> list[tuple[int, IssueRequest]]:
    out: list[tuple[int, IssueRequest]] = []
    for k, (_id, _seq, body) in enumerate(c.items):
        try:
            out.append((k, PaperLicenceRequest.model_validate(json.loads(body))))
        except ValidationError as e:
            err = e.errors()[0]
            where = error_location(err, whole="item")
            results[k] = Invalid(f"{where}: {err.get('msg')}", field=where)
    return out


def _numbers_taken(engine: Engine, requests: list[tuple[int, IssueRequest]], results: list[Result | None]) -> None:
    """An item whose paper number a licence already has fails (numbers are unique)."""
    wanted = {}
    for k, req in requests:
        if isinstance(req, PaperLicenceRequest) and req.number and req.number.strip():
            wanted[req.number.strip()] = k
    if not wanted:
        return
    with Session(engine) as s:
        taken = s.exec(select(Licence.number).where(col(Licence.number).in_(list(wanted)))).all()
    for number in taken:
        k = wanted[number]
        results[k] = Conflict(f"number: {number} is already the number of a licence", field="number")


def _mark_done(c: Claim) -> OnItem:
    def on_item(s: Session, k: int, lic: Licence) -> None:
        stmt = (
            update(LicenceJobItem)
            .where(
                col(LicenceJobItem.id) == c.items[k][0],
                col(LicenceJobItem.state) == "pending",
                col(LicenceJobItem.lease_token) == c.token,
            )
            .values(state="done", licence_id=lic.id, lease_until=None, finished_at=clock.now())
        )
        if changed_rows(s, stmt) != 1:
            raise LeaseLost("this item was taken over by another process")

    return on_item


def _mark_failed(engine: Engine, c: Claim, results: list[Result | None]) -> None:
    """Record each failed item's error; an internal error gives the item back (to be tried again
    after a pause) until it has failed :data:`MAX_ATTEMPTS` times."""
    at = clock.now()
    with session_scope(engine) as s:
        for k, r in enumerate(results):
            if isinstance(r, ServiceError) and not isinstance(r, LeaseLost):
                mine = (
                    col(LicenceJobItem.id) == c.items[k][0],
                    col(LicenceJobItem.state) == "pending",
                    col(LicenceJobItem.lease_token) == c.token,
                )
                if isinstance(r, Internal):
                    again = update(LicenceJobItem).where(*mine, col(LicenceJobItem.attempts) < MAX_ATTEMPTS - 1)
                    attempts = col(LicenceJobItem.attempts) + 1
                    tried = c.attempts[k] if k < len(c.attempts) else 0
                    after = at + timedelta(seconds=RETRY_AFTER_S * (tried + 1))
                    if changed_rows(s, again.values(attempts=attempts, lease_token=None, lease_until=after)):
                        continue
                stmt = update(LicenceJobItem).where(*mine)
                changed_rows(s, stmt.values(state="failed", error=error_record(r), lease_until=None, finished_at=at))


def _finish(engine: Engine, job_id: str) -> int:
    """Mark the job done once no item is pending (whoever finishes last; audited once): 1 if this call did."""
    with session_scope(engine) as s:
        left = s.exec(
            select(LicenceJobItem.id)
            .where(col(LicenceJobItem.job_id) == job_id, col(LicenceJobItem.state) == "pending")
            .limit(1)
        ).first()
        if left is not None:
            return 0
        stmt = update(LicenceJob).where(col(LicenceJob.id) == job_id, col(LicenceJob.state).in_(("queued", "running")))
        if changed_rows(s, stmt.values(state="done", finished_at=clock.now())) != 1:
            return 0
        job = s.get(LicenceJob, job_id)
        assert job is not None
        audit.record(
            s,
            "licence_job.done",
            actor_kind="service",
            subject_kind="licence_job",
            subject_id=job_id,
            details={"department_id": job.department_id, "total": job.total},
        )
        return 1


def _fail_job(engine: Engine, job_id: str, reason: str) -> None:
    stmt = update(LicenceJob).where(col(LicenceJob.id) == job_id, col(LicenceJob.state).in_(("queued", "running")))
    with session_scope(engine) as s:
        if changed_rows(s, stmt.values(state="failed", error=reason[:500], finished_at=clock.now())) == 1:
            audit.record(
                s,
                "licence_job.failed",
                actor_kind="service",
                subject_kind="licence_job",
                subject_id=job_id,
                details={"reason": reason},
            )


async def work(ctx: Context, c: Claim) -> None:
    """Issue a claim's items (renewing the lease meanwhile) and record each one's result."""
    with Session(ctx.engine) as s:
        dept = s.get(Department, c.department_id)
        if dept is not None:
            s.expunge(dept)
    if dept is None:
        await asyncio.to_thread(_fail_job, ctx.engine, c.job_id, "the department no longer exists")
        return
    lease_s = ctx.settings.job_lease_s
    results: list[Result | None] = [None] * len(c.items)

    async def keep_lease() -> None:
        while True:
            await asyncio.sleep(lease_s / 3)
            try:
                await asyncio.to_thread(renew, ctx.engine, c, lease_s)
            except Exception:  # the database is away for a moment: the next round tries again
                log.exception("renewing a back-fill lease failed")

    keeper = asyncio.create_task(keep_lease())
    try:
        requests = _parse(c, results)
        await asyncio.to_thread(_numbers_taken, ctx.engine, requests, results)
        requests = [(k, req) for k, req in requests if results[k] is None]
        await issue_many(ctx, dept, requests, results, on_item=_mark_done(c))
        retry = [(k, req) for k, req in requests if isinstance(results[k], Internal)]
        for k, _req in retry:
            results[k] = None
        if retry:  # a chunk failed as a whole (e.g. a number taken meanwhile): numbers again, then each on its own
            await asyncio.to_thread(_numbers_taken, ctx.engine, retry, results)
        for k, req in retry:
            if results[k] is None:
                await issue_many(ctx, dept, [(k, req)], results, on_item=_mark_done(c))
    finally:
        keeper.cancel()
    await asyncio.to_thread(_mark_failed, ctx.engine, c, results)
    await asyncio.to_thread(_finish, ctx.engine, c.job_id)


async def run_once(ctx: Context, job_id: str | None = None) -> int:
    """Claim and work one chunk (of ``job_id``, or of any job): how many items it held (0: none to do)."""
    c = await asyncio.to_thread(claim, ctx.engine, clock.now(), ctx.settings.job_lease_s, CLAIM_ITEMS, job_id)
    if c is None:  # nothing to claim: finish any job whose finisher died after its last item
        await asyncio.to_thread(finish_idle, ctx.engine, job_id)
        return 0
    await work(ctx, c)
    return len(c.items)


async def run_jobs(ctx: Context, concurrency: int = 2) -> None:
    """The loop inside ``certsvc serve``: ``concurrency`` chunks in flight, so the sealing workers
    stay busy while a chunk is recorded; idle, it looks for work every ``jobs_interval_s``."""

    async def lane() -> None:
        while True:
            try:
                if await run_once(ctx):
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is away, or a bug: logged; the lease lets another retry
                log.exception("back-fill chunk failed")
            await asyncio.sleep(ctx.settings.jobs_interval_s)

    await asyncio.gather(*(lane() for _ in range(concurrency)))
