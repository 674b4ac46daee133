"""PAdES signatures with pyHanko whose visible appearance is a red seal (or a few lines of text).

:func:`seal_pdf_async` puts the issuing department's seal on a rendered licence or receipt: a
certification signature (DocMDP level 2, FILL_FORMS, so later signatures stay allowed).
:func:`add_signature_async` adds a further approval signature in a new incremental update, e.g.
the mark "仅供 X 用于 Y" on a shared copy, leaving the earlier signatures intact.
"""

import asyncio
import hashlib
import hmac
import io
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, Signer
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument
from pyhanko.stamp import BaseStampStyle, StaticStampStyle

from signing.appearance import FILL, Layers, PdfPage, PngImage, mark_style
from signing.cms import cms_size_bound, pades_cms
from signing.ltv import LocalTsa, LtvData, add_dss
from signing.marks import MARK_RED
from signing.sigfields import NoSuchField, empty_field_rect, make_read_only, reserve_hidden_field

__all__ = [
    "Layers",
    "NoSuchField",
    "PdfPage",
    "PngImage",
    "PreparedSignature",
    "Rect",
    "add_signature",
    "add_signature_async",
    "finish_signature",
    "prepare_signature_async",
    "run_sync",
    "seal_pdf",
    "seal_pdf_async",
]

T = TypeVar("T")

Rect = tuple[float, float, float, float]
"""(x1, y1, x2, y2) in PDF points on the page."""


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from synchronous code, also when this thread already runs an event
    loop (Playwright's sync API, Jupyter): then in a short-lived worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _meta(field_name: str, reason: str, location: str | None, certify: bool) -> PdfSignatureMetadata:
    return PdfSignatureMetadata(
        field_name=field_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        certify=certify,
        docmdp_permissions=fields.MDPPerm.FILL_FORMS,
        reason=reason,
        location=location,
    )


@dataclass(frozen=True)
class PreparedSignature:
    """A PDF laid out for one more signature with its ``/Contents`` left blank: the digest the key
    must sign and where the CMS container goes. Picklable, so a worker process that parsed an
    untrusted file can hand it back for the key holder to finish (:func:`finish_signature`)."""

    pdf: bytes
    digest: PreparedByteRangeDigest
    md: str

    def covered_digest(self) -> bytes:
        """The digest of the bytes the ``/ByteRange`` covers, computed afresh."""
        d, view = self.digest, memoryview(self.pdf)
        if not 0 < d.reserved_region_start < d.reserved_region_end <= len(view):
            raise ValueError("the reserved region lies outside the document")
        h = hashlib.new(self.md)
        h.update(view[: d.reserved_region_start])
        h.update(view[d.reserved_region_end :])
        return h.digest()


async def _prepare(
    writer: IncrementalPdfFileWriter,
    signer: Signer,
    meta: PdfSignatureMetadata,
    style: BaseStampStyle,
    rect: Rect | None,
    page: int,
    bytes_reserved: int | None,
    ltv: LtvData | None = None,
) -> PreparedSignature:
    """Lay out field ``meta.field_name`` (an existing empty field if ``rect`` is None, else a new
    visible field at ``rect`` on ``page``) and digest the byte range. ``signer`` only needs its
    certificates here (an ``ExternalSigner`` will do). ``ltv``: DSS content, room for a time-stamp."""
    add_dss(writer, ltv)
    spec = None
    if rect is not None:
        box = (round(rect[0]), round(rect[1]), round(rect[2]), round(rect[3]))
        spec = fields.SigFieldSpec(sig_field_name=meta.field_name or "Signature", on_page=page, box=box)
    md = meta.md_algorithm or "sha256"
    if bytes_reserved is None:  # bound from the CMS template; pyHanko's dry run if there is none
        bound = await cms_size_bound(signer, md, ltv.tsa if ltv is not None else None)
        bytes_reserved = None if bound is None else 2 * bound  # pyHanko counts hex digits
    pdf_signer = PdfSigner(meta, signer, stamp_style=style, new_field_spec=spec)
    # pyHanko lays out the field, appearance and signature dictionary and digests the byte range;
    # the CMS container comes from signing.cms (same structure, ≈0.2 ms instead of ≈25 ms).
    prepared, _, output = await pdf_signer.async_digest_doc_for_signing(
        writer, existing_fields_only=rect is None, bytes_reserved=bytes_reserved
    )
    assert isinstance(output, io.BytesIO)  # pyHanko's own buffer, since we gave it no output stream
    return PreparedSignature(output.getvalue(), prepared, md)


async def finish_signature(
    prepared: PreparedSignature, signer: Signer, *, check: bool = True, tsa: LocalTsa | None = None
) -> bytes:
    """Sign the prepared digest with ``signer``'s key (time-stamped by ``tsa``), write the CMS in its place.

    With ``check`` the digest is first computed again over the document's own bytes, so a key
    signs exactly the file it returns even if the preparation ran somewhere less trusted.
    """
    if check:
        size = len(prepared.pdf)
        covered = await asyncio.to_thread(prepared.covered_digest) if size > 1 << 20 else prepared.covered_digest()
        if not hmac.compare_digest(covered, prepared.digest.document_digest):
            raise ValueError("the prepared digest does not match the document's bytes")
    signature = await pades_cms(signer, prepared.digest.document_digest, prepared.md, tsa)
    output = io.BytesIO(prepared.pdf)
    await PdfTBSDocument.async_finish_signing(output, prepared.digest, signature)
    return output.getvalue()


async def _sign(
    writer: IncrementalPdfFileWriter,
    signer: Signer,
    meta: PdfSignatureMetadata,
    style: BaseStampStyle,
    rect: Rect | None,
    page: int,
    bytes_reserved: int | None,
    ltv: LtvData | None = None,
) -> bytes:
    """:func:`_prepare` and :func:`finish_signature` in one go, with a key at hand."""
    prepared = await _prepare(writer, signer, meta, style, rect, page, bytes_reserved, ltv)
    return await finish_signature(prepared, signer, check=False, tsa=ltv.tsa if ltv is not None else None)


async def seal_pdf_async(
    pdf: bytes,
    signer: Signer,
    *,
    field_name: str,
    seal_png: bytes,
    rect: Rect,
    certify: bool = True,
    reason: str,
    location: str | None = None,
    bytes_reserved: int | None = 16384,
    reserve_fields: Sequence[tuple[str, Rect, str]] = (),
    ltv: LtvData | None = None,
) -> bytes:
    """Sign ``pdf`` (PAdES B-B, SHA-256; B-LT with ``ltv``) with a visible seal at ``rect`` on page 1.

    With ``certify`` it is a certification signature allowing form filling and further signatures
    (DocMDP P=2). ``bytes_reserved`` is pyHanko's: hex digits reserved for the CMS container (16384
    holds 8 KB of DER); ``None`` computes a tight bound from the signer's certificates and key
    size (≈3 000 digits for ECDSA P-256 with a two-certificate chain) without pyHanko's dry run.
    Smaller placeholders also make every later parse of the PDF faster (pyHanko reads the hex
    string character by character: ≈15 ms for 16 KB).

    ``reserve_fields`` adds empty signature fields ``(name, rect, tooltip)`` on page 1 in the same
    revision, for later :func:`add_signature_async` calls: validators (pyHanko by default) accept
    filling an existing field after a certification signature but flag a *new visible* signature
    field. They stay hidden until signed.
    """
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    for name, box, tooltip in reserve_fields:
        reserve_hidden_field(writer, name, box, tooltip)
    style = StaticStampStyle(
        background=PngImage(seal_png), background_layout=FILL, background_opacity=1.0, border_width=0
    )
    meta = _meta(field_name, reason, location, certify)
    return await _sign(writer, signer, meta, style, rect, 0, bytes_reserved, ltv)


def seal_pdf(
    pdf: bytes,
    signer: Signer,
    *,
    field_name: str,
    seal_png: bytes,
    rect: Rect,
    certify: bool = True,
    reason: str,
    location: str | None = None,
    bytes_reserved: int | None = 16384,
    reserve_fields: Sequence[tuple[str, Rect, str]] = (),
) -> bytes:
    """Blocking :func:`seal_pdf_async`."""
    return run_sync(
        seal_pdf_async(
            pdf,
            signer,
            field_name=field_name,
            seal_png=seal_png,
            rect=rect,
            certify=certify,
            reason=reason,
            location=location,
            bytes_reserved=bytes_reserved,
            reserve_fields=reserve_fields,
        )
    )


async def prepare_signature_async(
    pdf: bytes,
    signer: Signer,
    *,
    field_name: str,
    rect: Rect | None = None,
    reason: str,
    text_lines: Sequence[str] = (),
    appearance_png: bytes | None = None,
    page: int = 0,
    location: str | None = None,
    font_size: float = 10.0,
    colour: tuple[float, float, float] = MARK_RED,
    border_width: float = 1.0,
    image_opacity: float | None = None,
    bytes_reserved: int | None = 16384,
    ltv: LtvData | None = None,
    layer: Callable[[Rect], bytes | None] | None = None,
    caption_below: bool = False,
) -> PreparedSignature:
    """:func:`add_signature_async` up to the digest to sign: ``signer`` only needs its certificates
    (an :class:`~pyhanko.sign.signers.ExternalSigner`), as this half parses ``pdf`` and may run in
    a worker process that never sees the key; :func:`finish_signature` completes it. With
    ``caption_below`` the image is a square at the top and ``text_lines`` a caption under it
    (:func:`signing.appearance.mark_style`)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    existing = empty_field_rect(writer, field_name)
    if existing is None and rect is None:
        raise NoSuchField(f"no empty signature field {field_name!r}; pass rect to create one")
    box = existing or rect
    assert box is not None
    page_layer = layer(box) if layer is not None else None
    if page_layer is not None and existing is not None:
        make_read_only(writer, field_name)  # a widget over the whole page must not catch every click
    style = mark_style(
        box,
        text_lines,
        appearance_png,
        font_size=font_size,
        colour=colour,
        border_width=border_width,
        image_opacity=image_opacity,
        page_layer=page_layer,
        caption_below=caption_below,
    )
    return await _prepare(
        writer,
        signer,
        _meta(field_name, reason, location, False),
        style,
        None if existing else rect,
        page,
        bytes_reserved,
        ltv,
    )


async def add_signature_async(
    pdf: bytes,
    signer: Signer,
    *,
    field_name: str,
    rect: Rect | None = None,
    reason: str,
    text_lines: Sequence[str] = (),
    appearance_png: bytes | None = None,
    page: int = 0,
    location: str | None = None,
    font_size: float = 10.0,
    colour: tuple[float, float, float] = MARK_RED,
    border_width: float = 1.0,
    image_opacity: float | None = None,
    bytes_reserved: int | None = 16384,
    ltv: LtvData | None = None,
    layer: Callable[[Rect], bytes | None] | None = None,
) -> bytes:
    """Add an approval (non-certifying) signature in a new incremental update (B-LT with ``ltv``).

    If ``field_name`` is an empty signature field (see ``reserve_fields`` of :func:`seal_pdf_async`)
    it is filled and keeps its own rect; otherwise a new field is created at ``rect`` on ``page``
    (which validators flag as a modification when the document is certified).

    The appearance shows ``text_lines`` (centred, shrunk to fit, in the licence font embedded as a
    subset) in ``colour`` framed by a ``border_width`` line (0: none), over an optional
    ``appearance_png`` (e.g. an enterprise seal; opacity ``image_opacity``, default 0.6 under text,
    1.0 alone, always ink-like multiply). The text layer is drawn by reportlab and imported:
    pyHanko's own OpenType text path takes 0.3-0.6 s per call to subset a CJK font.

    ``layer`` may replace all that: given the field's rect, it returns a one-page PDF drawn over
    the whole rect (the marked copy's page-wide watermark), or None to keep the lines and image.
    """
    prepared = await prepare_signature_async(
        pdf,
        signer,
        field_name=field_name,
        rect=rect,
        reason=reason,
        text_lines=text_lines,
        appearance_png=appearance_png,
        page=page,
        location=location,
        font_size=font_size,
        colour=colour,
        border_width=border_width,
        image_opacity=image_opacity,
        bytes_reserved=bytes_reserved,
        ltv=ltv,
        layer=layer,
    )
    return await finish_signature(prepared, signer, check=False, tsa=ltv.tsa if ltv is not None else None)


def add_signature(
    pdf: bytes,
    signer: Signer,
    *,
    field_name: str,
    rect: Rect | None = None,
    reason: str,
    text_lines: Sequence[str] = (),
    appearance_png: bytes | None = None,
    page: int = 0,
    location: str | None = None,
    font_size: float = 10.0,
    colour: tuple[float, float, float] = MARK_RED,
    border_width: float = 1.0,
    image_opacity: float | None = None,
    bytes_reserved: int | None = 16384,
) -> bytes:
    """Blocking :func:`add_signature_async`."""
    return run_sync(
        add_signature_async(
            pdf,
            signer,
            field_name=field_name,
            rect=rect,
            reason=reason,
            text_lines=text_lines,
            appearance_png=appearance_png,
            page=page,
            location=location,
            font_size=font_size,
            colour=colour,
            border_width=border_width,
            image_opacity=image_opacity,
            bytes_reserved=bytes_reserved,
        )
    )
