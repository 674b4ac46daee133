"""The FastAPI application: thin routes over the services."""

from __future__ import annotations

from fastapi import FastAPI

from certsvc import __version__
from certsvc.api import errors
from certsvc.api.routes import departments, enterprise, health, public, receipts, verification
from certsvc.context import Context
from certsvc.core.config import Settings, get_settings


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    ctx = Context(settings or get_settings())
    if migrate:
        ctx.migrate()
    app = FastAPI(
        title="certsvc",
        version=__version__,
        description="Electronic licences (电子证照) and seals (电子印章) with verification",
    )
    app.state.ctx = ctx
    errors.install(app)
    app.include_router(departments.router)
    app.include_router(enterprise.router)
    app.include_router(verification.router)
    app.include_router(receipts.router)
    app.include_router(public.router)
    app.include_router(health.router)
    return app
