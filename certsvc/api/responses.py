"""Response helpers shared by the routes."""

from __future__ import annotations

from fastapi.responses import Response

from certsvc.context import Context
from certsvc.errors import NotFound


def stored_pdf(ctx: Context, sha256: str, filename: str, what: str) -> Response:
    """A sealed PDF from the blob store as a download; 404 naming ``what`` if the blob is gone."""
    data = ctx.blobs.get(sha256)
    if data is None:
        raise NotFound(f"the PDF of this {what} is missing from the blob store")
    return Response(
        data, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
