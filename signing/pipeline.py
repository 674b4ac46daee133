"""The document pipeline: every PDF the service makes comes from one of these three calls.

- :func:`seal`: render a licence or an acceptance receipt with its signed QR code and certify it
  with the department's *seal* (PAdES, DocMDP level 2), reserving the mark field on licences;
- :func:`mark`: fill the reserved field of a sealed licence with the service's *mark* (加注), the
  visible "仅供 … 用于 …" of a shared copy;
- :func:`sign`: add an enterprise's business-licence-based *signature* to a PDF it uploaded.

Callers (the sealing workers, the in-process path, the tests) pass a :class:`SealKey`; key material
stays with the key backend, which may be an HSM.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from pyhanko.sign.signers import Signer

from signing import layout
from signing.models import LicenceDocument, QrSpec, ReceiptDocument, SealJob
from signing.payload import sign_claims
from signing.seal import seal_png
from signing.seal_pdf import Rect, add_signature_async, seal_pdf_async

__all__ = ["MARK_FIELD", "MARK_RECT", "SEAL_FIELD", "QrToken", "SealKey", "Sealed", "mark", "seal", "sign"]

SEAL_FIELD = "DeptSeal"
"""The department's certification signature field."""

MARK_FIELD = "Mark"
"""The empty signature field reserved at :data:`MARK_RECT` when a licence is sealed. Filling an
existing field after a certification signature is plain signing, while a new visible field counts
as a modification for pyHanko and other validators."""

MARK_RECT = layout.MARK_RECT
"""Free space on the page, between the table and the QR code."""


@dataclass(frozen=True)
class SealKey:
    """A signing key as the pipeline uses it: a pyHanko signer for the PDF, a raw ECDSA signer for
    the QR payload, and the key id printed in the QR's COSE header."""

    kid: str
    """Hex key id: the first 8 bytes of SHA-256 of the certificate."""
    signer: Signer
    sign_raw: Callable[[bytes], bytes]
    """ECDSA-SHA256 over the data, DER-encoded."""


@dataclass(frozen=True)
class QrToken:
    """The signed QR payload (base64url COSE_Sign1) and the URL printed as the QR code."""

    token: str
    url: str


@dataclass(frozen=True)
class Sealed:
    """A sealed document and the QR token printed on it."""

    pdf: bytes
    qr: QrToken


def sign_qr(key: SealKey, spec: QrSpec) -> QrToken:
    """The COSE_Sign1 token signed with ``key`` and the URL it is printed as."""
    token = sign_claims(spec.claims, bytes.fromhex(key.kid), key.sign_raw)
    return QrToken(token, f"{spec.base_url}/{spec.path}/{token}")


def render(document: LicenceDocument | ReceiptDocument) -> bytes:
    """The unsealed PDF of a licence or a receipt."""
    if isinstance(document, ReceiptDocument):
        return layout.render_receipt_pdf(document)
    return layout.render_licence_pdf(document)


async def seal(job: SealJob, key: SealKey) -> Sealed:
    """Sign the QR payload, render the document with its URL, and certify it with the department's
    seal. :class:`~signing.layout.LayoutError` if the content does not fit its page."""
    qr = sign_qr(key, job.qr)
    doc = replace(job.document, qr_text=qr.url)
    reserve: list[tuple[str, Rect]] = [(MARK_FIELD, MARK_RECT)] if job.reserve_mark else []
    pdf = await seal_pdf_async(
        render(doc),
        key.signer,
        field_name=SEAL_FIELD,
        seal_png=seal_png(doc.seal_name, doc.seal_purpose, doc.seal_code),
        rect=layout.SEAL_RECT,
        certify=True,
        reason=job.reason,
        location=None,
        bytes_reserved=job.bytes_reserved,
        reserve_fields=reserve,
    )
    return Sealed(pdf, qr)


async def mark(pdf: bytes, signer: Signer, *, lines: Sequence[str], reason: str) -> bytes:
    """Fill :data:`MARK_FIELD` of a sealed licence with the service's visible mark, such as
    ``["仅供 X 用于 Y", "有效期至 … 授权编号 …"]``; the department's seal stays valid."""
    return await add_signature_async(
        pdf, signer, field_name=MARK_FIELD, rect=None, reason=reason, text_lines=lines, bytes_reserved=None
    )


async def sign(
    pdf: bytes,
    signer: Signer,
    *,
    field_name: str,
    rect: Rect,
    page: int,
    reason: str,
    lines: Sequence[str],
    seal_image: bytes,
) -> bytes:
    """Add an enterprise's signature in a new field at ``rect`` on ``page``, its seal image under
    ``lines`` (name and signing time)."""
    return await add_signature_async(
        pdf,
        signer,
        field_name=field_name,
        rect=rect,
        page=page,
        reason=reason,
        text_lines=lines,
        appearance_png=seal_image,
        bytes_reserved=None,
    )
