"""One-call pipelines: render a licence or receipt, seal it, and later mark a shared copy.

Rendering is synchronous CPU work (≈10 ms); callers in an event loop may run these in a thread.
"""

from collections.abc import Sequence

from pyhanko.sign.signers import Signer

from signing.layout import MARK_RECT, SEAL_RECT, render_licence_pdf, render_receipt_pdf
from signing.models import LicenceDocument, ReceiptDocument
from signing.seal import seal_png
from signing.seal_pdf import add_signature_async, seal_pdf_async

__all__ = ["MARK_FIELD", "SEAL_FIELD", "mark_copy_async", "sign_licence_async", "sign_receipt_async"]

SEAL_FIELD = "Seal"
"""Name of the department's certification signature field."""

MARK_FIELD = "Mark"
"""Name of the empty signature field reserved at :data:`~signing.layout.MARK_RECT` for the mark of a
shared copy (加注)."""


async def sign_licence_async(doc: LicenceDocument, signer: Signer, *, reason: str = "电子证照签发",
                             location: str | None = None, bytes_reserved: int | None = 16384) -> bytes:
    """Render ``doc`` and certify it with the department seal; reserves :data:`MARK_FIELD`."""
    return await seal_pdf_async(
        render_licence_pdf(doc), signer, field_name=SEAL_FIELD,
        seal_png=seal_png(doc.seal_name, doc.seal_purpose, doc.seal_code), rect=SEAL_RECT,
        reason=reason, location=location, bytes_reserved=bytes_reserved,
        reserve_fields=[(MARK_FIELD, MARK_RECT)])


async def sign_receipt_async(doc: ReceiptDocument, signer: Signer, *, reason: str = "受理回执签章",
                             location: str | None = None, bytes_reserved: int | None = 16384) -> bytes:
    """Render the acceptance receipt and certify it with the department seal."""
    return await seal_pdf_async(
        render_receipt_pdf(doc), signer, field_name=SEAL_FIELD,
        seal_png=seal_png(doc.seal_name, doc.seal_purpose, doc.seal_code), rect=SEAL_RECT,
        reason=reason, location=location, bytes_reserved=bytes_reserved)


async def mark_copy_async(pdf: bytes, signer: Signer, *, lines: Sequence[str], reason: str = "授权使用加注",
                          bytes_reserved: int | None = 16384) -> bytes:
    """Fill :data:`MARK_FIELD` of a sealed licence with a visible mark such as
    ``["仅供 X 用于 Y", "2025年3月1日 授权编号 …"]``; the seal stays valid."""
    return await add_signature_async(pdf, signer, field_name=MARK_FIELD, reason=reason, text_lines=lines,
                                     bytes_reserved=bytes_reserved)
