"""Health and metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from certsvc.api.deps import CtxDep
from certsvc.api.models import Health, media
from certsvc.health import health_checks

router = APIRouter(tags=["operations"])


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": Health, "description": "A part the service needs does not answer"}},
)
def healthz(ctx: CtxDep) -> JSONResponse:
    """Whether the database, the blob store and the key backend answer: 200 ``ok``, or 503 ``degraded``."""
    checks = health_checks(ctx)
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ok else "degraded", "checks": checks}, status_code=200 if ok else 503)


@router.get(
    "/metrics",
    response_class=Response,
    responses=media(CONTENT_TYPE_LATEST, "Prometheus text exposition format"),
)
def metrics(ctx: CtxDep) -> Response:
    """Prometheus metrics (issuances, verifications, QR page scans, grant downloads, event deliveries, …)
    in the text format."""
    from certsvc.events.stats import exposition
    from certsvc.metrics import render

    body, content_type = render()
    body += exposition(ctx.engine)
    return Response(body, media_type=content_type)
