"""``/healthz``: whether the database, the blob store and the key backend answer."""

from __future__ import annotations

from sqlalchemy import text

from certsvc.context import Context


def health_checks(ctx: Context) -> dict[str, str]:
    """``"ok"`` or ``"error: …"`` for each part the service needs; never raises."""
    checks: dict[str, str] = {}
    try:
        with ctx.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as e:
        checks["database"] = f"error: {type(e).__name__}"
    for name, probe in (("blob_store", ctx.blobs.check), ("key_backend", ctx.key_backend.check)):
        try:
            probe()
            checks[name] = "ok"
        except Exception as e:
            checks[name] = f"error: {e}"
    return checks
