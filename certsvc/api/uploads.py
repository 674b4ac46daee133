"""Bounded uploads: a file field read up to the configured limit, 413 beyond it."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import UploadFile

from certsvc.api.limits import size_text
from certsvc.errors import Invalid, TooLarge

CHUNK = 1 << 20


async def read_pdf_upload(request: Request, file: UploadFile | None, limit: int) -> bytes:
    """The uploaded PDF's bytes, refused early on the declared length and again on what actually arrives."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise TooLarge(f"upload larger than {size_text(limit)}")
    if file is None:
        raise Invalid("file: send the PDF as multipart form field 'file'", field="file")
    parts: list[bytes] = []
    size = 0
    while chunk := await file.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"file larger than {size_text(limit)}")
        parts.append(chunk)
    if size == 0:
        raise Invalid("file: empty upload", field="file")
    return b"".join(parts)
