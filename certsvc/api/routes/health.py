"""Health and metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from certsvc.api.deps import CtxDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz(ctx: CtxDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        with ctx.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as e:  # noqa: BLE001 - a health check reports, it does not raise
        checks["database"] = f"error: {type(e).__name__}"
    for name, probe in (("blob_store", ctx.blobs.check), ("key_backend", ctx.key_backend.check)):
        try:
            probe()
            checks[name] = "ok"
        except Exception as e:  # noqa: BLE001
            checks[name] = f"error: {e}"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ok else "degraded", "checks": checks}, status_code=200 if ok else 503)


@router.get("/metrics")
def metrics() -> Response:
    from certsvc.metrics import render

    body, content_type = render()
    return Response(body, media_type=content_type)
