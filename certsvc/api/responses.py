"""Response helpers shared by the routes."""

from __future__ import annotations

import io
import re
import unicodedata
from urllib.parse import quote

import qrcode
from fastapi.responses import Response

from certsvc.context import Context
from certsvc.errors import NotFound

_NOT_TOKEN = re.compile(r"[^A-Za-z0-9.\-_]")


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """A ``Content-Disposition`` value per RFC 6266: an ASCII ``filename`` for old clients (anything
    but letters, digits, ``.``, ``-`` and ``_`` replaced by ``_``), and when that is not the name itself,
    the name in ``filename*`` (RFC 8187, UTF-8, percent-encoded). Nothing in ``filename`` can end the
    parameter or the header: quotes, semicolons and control characters only ever appear encoded."""
    unaccented = "".join(c for c in unicodedata.normalize("NFKD", filename) if not unicodedata.combining(c))
    fallback = _NOT_TOKEN.sub("_", unaccented) or "download"
    if fallback == filename:
        return f'{disposition}; filename="{fallback}"'
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def stored_pdf(ctx: Context, sha256: str, filename: str, what: str) -> Response:
    """A sealed PDF from the blob store as a download; 404 naming ``what`` if the blob is gone."""
    data = ctx.blobs.get(sha256)
    if data is None:
        raise NotFound(f"the PDF of this {what} is missing from the blob store")
    return Response(data, media_type="application/pdf", headers={"Content-Disposition": content_disposition(filename)})


def qr_png(text: str) -> bytes:
    """``text`` as a QR code, a PNG (error correction level M)."""
    img = qrcode.make(text, error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
