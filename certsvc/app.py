"""The FastAPI application: thin routes over the services."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from certsvc import __version__
from certsvc.api import docs, errors, openapi
from certsvc.api.deps import safe_parameters
from certsvc.api.head import HeadAsGet
from certsvc.api.limits import BodyLimit
from certsvc.api.routes import (
    departments,
    enterprise,
    events,
    health,
    jobs,
    matters,
    pages,
    portal,
    portal_files,
    portal_reform,
    portal_sign,
    public,
    receipts,
    reform,
    showing,
    tokens,
    verification,
)
from certsvc.audit import checkpoint
from certsvc.backfill.runner import run_jobs
from certsvc.context import Context
from certsvc.core import clock
from certsvc.core.config import Settings, get_settings
from certsvc.core.files import private_umask
from certsvc.db.session import session_scope
from certsvc.events.dispatch import run_dispatcher
from certsvc.metrics import MetricsMiddleware
from certsvc.sweeps import run_sweeps
from signing.fonts import warm_up

log = logging.getLogger("certsvc")


async def _flush_scans(ctx: Context, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        try:
            await asyncio.to_thread(ctx.scans.flush, ctx.engine)
        except Exception:  # counts stay pending; the next round tries again
            log.exception("flushing verification counts failed")


async def _flush_denials(ctx: Context, every_s: float) -> None:
    """Write the refused attempts of finished minutes (one audit event per kind, client and minute)."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await asyncio.to_thread(ctx.denials.flush, ctx.engine, everything=False)
        except Exception:  # counts stay pending; the next round tries again
            log.exception("recording refused attempts failed")


async def _checkpoints(ctx: Context, every_s: float) -> None:
    """Sign the audit chain head from time to time (a no-op when nothing happened)."""
    while True:
        await asyncio.sleep(every_s)
        try:
            with session_scope(ctx.engine) as s:
                await asyncio.to_thread(checkpoint, s, ctx.keyring)
        except Exception:  # keep serving; the next round tries again
            log.exception("audit checkpoint failed")


async def _sweeps(ctx: Context, every_s: float) -> None:
    """The scheduler of time-driven changes (:mod:`certsvc.sweeps`): every process runs it; on
    PostgreSQL one at a time sweeps, and each item changes once whoever sweeps it."""
    while True:
        await asyncio.sleep(every_s)
        try:
            changed = await asyncio.to_thread(run_sweeps, ctx.engine, clock.now())
            if any(changed.values()):
                log.info("sweep: %s", changed)
        except Exception:  # keep serving; the next round tries again
            log.exception("sweep failed")


async def _events(ctx: Context) -> None:
    """The event dispatcher (:mod:`certsvc.events.dispatch`), off the request path; every process runs it."""
    while True:
        try:
            await run_dispatcher(ctx.engine, ctx.settings)
        except asyncio.CancelledError:
            raise
        except Exception:  # keep serving; start the loop again
            log.exception("event dispatcher failed")
            await asyncio.sleep(ctx.settings.events_interval_s)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    ctx: Context = app.state.ctx
    await asyncio.to_thread(warm_up)
    await ctx.sealer.warm()
    # Everything loaded so far lives as long as the process: keep it out of the cyclic collector's
    # full passes, which otherwise stall every request in flight for tens of milliseconds.
    gc.freeze()
    tasks = [
        asyncio.create_task(ctx.capacity.warm()),
        asyncio.create_task(_checkpoints(ctx, ctx.settings.audit_checkpoint_s)),
        asyncio.create_task(_flush_scans(ctx, ctx.settings.scan_flush_s)),
        asyncio.create_task(_flush_denials(ctx, ctx.settings.denial_flush_s)),
    ]
    if ctx.settings.sweep_interval_s > 0:
        tasks.append(asyncio.create_task(_sweeps(ctx, ctx.settings.sweep_interval_s)))
    if ctx.settings.events_interval_s > 0:
        tasks.append(asyncio.create_task(_events(ctx)))
    if ctx.settings.jobs_interval_s > 0:
        tasks.append(asyncio.create_task(run_jobs(ctx)))
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        ctx.scans.flush(ctx.engine)
        try:
            ctx.denials.flush(ctx.engine)
        except Exception:
            log.exception("recording refused attempts at shutdown failed")
        ctx.sealer.close()
        ctx.capacity.close()
        await ctx.public_views.close()


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    """The FastAPI application (uvicorn's factory); ``migrate=False`` for tests that set up the schema themselves."""
    private_umask()  # the database, blobs and keys hold every licence's data: this user's only
    ctx = Context(settings or get_settings())
    if migrate:
        ctx.migrate()
    app = FastAPI(
        lifespan=_lifespan,
        title="certsvc",
        version=__version__,
        description="Electronic licences (电子证照) and seals (电子印章) with verification",
        dependencies=[Depends(safe_parameters)],
        generate_unique_id_function=openapi.operation_id,  # operationId: the route function's name
        docs_url=None,  # /docs and /redoc from assets installed with the package: certsvc.api.docs
        redoc_url=None,  # every route: no control characters in path or query
    )
    app.state.ctx = ctx
    jobs_bytes = {"/api/v1/licence-jobs": ctx.settings.job_max_mib * 1024 * 1024}
    app.add_middleware(BodyLimit, max_bytes=ctx.settings.max_upload_bytes + 1024 * 1024, paths=jobs_bytes)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(HeadAsGet)  # outermost: HEAD wherever GET is
    errors.install(app)
    app.include_router(public.router)  # first: QR scans are most requests, and routes match in order
    app.include_router(pages.router)
    app.include_router(departments.router)
    app.include_router(jobs.router)
    app.include_router(enterprise.router)
    app.include_router(tokens.router)
    app.include_router(showing.router)
    app.include_router(verification.router)
    app.include_router(receipts.router)
    app.include_router(matters.router)
    app.include_router(reform.router)
    app.include_router(reform.public_router)
    app.include_router(portal.router)
    app.include_router(portal_reform.router)
    app.include_router(portal_sign.router)
    app.include_router(portal_files.router)
    app.include_router(events.router)
    app.include_router(health.router)
    openapi.install(app)
    docs.install(app)
    return app
