"""The document pipeline: every PDF the service makes comes from one of these three calls.

- :func:`seal`: render a licence or an acceptance receipt with its signed QR code and certify it
  with the department's *seal* (PAdES, DocMDP level 2), reserving the mark field on licences;
- :func:`mark`: fill the reserved field of a sealed licence with the service's *mark* (加注), the
  visible "仅供 … 用于 …" of a shared copy: a box, and a light watermark repeated across the page;
- :func:`sign`: add an enterprise's business-licence-based *signature* to a PDF it uploaded, where
  a :class:`~signing.placement.Placement` says (page and position, or a named empty field); the
  service splits it in two, :func:`prepare_sign` (reads the untrusted file, in a killable worker,
  without the key) and :func:`finish_signature` (the key signs the digest, in the service).

Callers (the sealing workers, the in-process path, the tests) pass a :class:`SealKey`; key material
stays with the key backend, which may be an HSM.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial

from asn1crypto import x509 as asn1_x509
from pyhanko.sign.signers import ExternalSigner, Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing import layout
from signing.cms import cms_size_bound
from signing.ltv import LtvData
from signing.marks import render_marked_page_pdf
from signing.models import LicenceDocument, QrSpec, ReceiptDocument, SealJob
from signing.payload import STATUS_LIST_PATH, sign_claims
from signing.placement import Placement, PlacementError, place
from signing.probe import PdfProbe, probe_pdf
from signing.seal import seal_png
from signing.seal_pdf import (
    NoSuchField,
    PreparedSignature,
    Rect,
    add_signature_async,
    finish_signature,
    prepare_signature_async,
    run_sync,
    seal_pdf_async,
)

__all__ = [
    "LEGACY_MARK_FIELD",
    "MARK_FIELD",
    "MARK_FIELDS",
    "MARK_PAGE_RECT",
    "MARK_TOOLTIP",
    "MARK_RECT",
    "SEAL_FIELD",
    "Placement",
    "PlacementError",
    "PreparedSignature",
    "QrToken",
    "SealKey",
    "Sealed",
    "SignRefused",
    "SignRequest",
    "finish_signature",
    "mark",
    "prepare_sign",
    "seal",
    "sign",
    "sign_request",
]

SEAL_FIELD = "DeptSeal"
"""The department's certification signature field."""

MARK_FIELD = "共享副本加注栏（预留）"
"""The empty signature field reserved over the whole page (:data:`MARK_PAGE_RECT`) when a licence
is sealed ("mark of a shared copy (reserved)": a reader listing signature fields shows what it is
for). Filling an existing field after a certification signature is plain signing, while a new
visible field counts as a modification for pyHanko and other validators; and an appearance cannot
reach outside its field, so the field spans the page for the watermark to. It stays hidden until
a marked copy fills it. Licences sealed before the watermark reserved it at :data:`MARK_RECT`;
their marked copies carry the box only."""

LEGACY_MARK_FIELD = "Mark"
"""The reserved field's name in licences sealed before it was renamed (visible, empty)."""

MARK_FIELDS = (MARK_FIELD, LEGACY_MARK_FIELD)
"""Names of the service's mark signature, current first."""

MARK_TOOLTIP = "共享副本加注栏：仅在经授权共享的副本上由系统加注；原件此处空白属正常，并非签名缺失"
"""The reserved field's readable name (/TU), shown by readers as its tooltip."""

MARK_RECT = layout.MARK_RECT
"""Where the mark's box is drawn: free space top left, beside the licence number."""

MARK_PAGE_RECT: tuple[float, float, float, float] = (0.0, 0.0, *layout.PAGE_SIZE)
"""The reserved mark field's rectangle: the whole A4 page, for the watermark."""

_QR_QUIET = 4 * layout.MM
"""Kept free of the watermark around the QR code, so that it scans as well as the original."""


@dataclass(frozen=True)
class SealKey:
    """A signing key as the pipeline uses it: a pyHanko signer for the PDF, a raw ECDSA signer for
    the QR payload, and the key id printed in the QR's COSE header."""

    kid: str
    """Hex key id: the first 8 bytes of SHA-256 of the certificate."""
    signer: Signer
    sign_raw: Callable[[bytes], bytes]
    """ECDSA-SHA256 over the data, DER-encoded."""
    ltv: Callable[[], LtvData | None] = lambda: None
    """The time-stamping authority and the DSS content for the next signature (PAdES B-LT); it
    changes when a CRL is re-issued, so it is asked for each document."""


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
    """The CWT signed with ``key`` and the URL it is printed as. Claims the caller left unset are
    filled in: issued now, its status list below the public base URL."""
    c = spec.claims
    claims = replace(
        c,
        issued_at=c.issued_at if c.issued_at is not None else int(time.time()),
        status_uri=c.status_uri or (spec.base_url + STATUS_LIST_PATH if c.status_index is not None else None),
    )
    token = sign_claims(claims, bytes.fromhex(key.kid), key.sign_raw)
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
    reserve: list[tuple[str, Rect, str]] = [(MARK_FIELD, MARK_PAGE_RECT, MARK_TOOLTIP)] if job.reserve_mark else []
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
        ltv=key.ltv(),
    )
    return Sealed(pdf, qr)


def _covers(outer: Rect, inner: Sequence[float]) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and outer[2] >= inner[2] and outer[3] >= inner[3]


def _marked_page(lines: Sequence[str], watermark: str | None) -> Callable[[Rect], bytes | None]:
    """The appearance of a mark field spanning the page: the box at :data:`MARK_RECT` and the
    watermark around it; None (the box alone) for a field reserved at the box only."""

    def layer(field: Rect) -> bytes | None:
        if watermark is None or not (_covers(field, MARK_RECT) and _covers(field, layout.QR_RECT)):
            return None  # a field reserved at the box only, before the watermark
        x1, y1, x2, y2 = layout.QR_RECT
        qr = (x1 - _QR_QUIET, y1 - _QR_QUIET, x2 + _QR_QUIET, y2 + _QR_QUIET)
        return render_marked_page_pdf(field, MARK_RECT, lines, watermark, keep_clear=(qr,))

    return layer


async def mark(
    pdf: bytes,
    signer: Signer,
    *,
    lines: Sequence[str],
    reason: str,
    ltv: LtvData | None = None,
    watermark: str | None = None,
) -> bytes:
    """Fill :data:`MARK_FIELD` (or :data:`LEGACY_MARK_FIELD` in a licence sealed before it was
    renamed) of a sealed licence with the service's visible mark, such as
    ``["仅供 X 用于 Y", "有效期至 … 授权编号 …"]`` in a box, and ``watermark`` (such as
    "仅供 X 用于 Y 2026-12-02", see :func:`signing.marks.watermark_text`) repeated diagonally
    across the page where the field spans it; the department's seal stays valid. With ``ltv``:
    time-stamped, and the DSS updated (B-LT)."""
    fill = partial(
        add_signature_async,
        pdf,
        signer,
        rect=None,
        reason=reason,
        text_lines=lines,
        bytes_reserved=None,
        ltv=ltv,
        layer=_marked_page(lines, watermark),
    )
    for name in MARK_FIELDS[:-1]:
        try:
            return await fill(field_name=name)
        except NoSuchField:
            continue
    return await fill(field_name=MARK_FIELDS[-1])


ENTERPRISE_FIELD = "EnterpriseSignature"
"""Enterprise signatures go into new fields ``EnterpriseSignature1``, ``2``, … (or a named empty field)."""


@dataclass(frozen=True)
class SignRequest:
    """An enterprise signature to prepare, without the key: the signer's certificates (DER, signer
    first), what the seal shows, and the room to reserve for the CMS container."""

    cert_der: bytes
    chain_der: tuple[bytes, ...]
    reason: str
    lines: tuple[str, ...]
    seal_image: bytes
    bytes_reserved: int
    dss_certs: tuple[bytes, ...] = ()
    dss_crls: tuple[bytes, ...] = ()
    """Certificates and CRLs (DER) for the document security store (B-LT)."""
    placement: Placement = Placement()
    location: str | None = None


@dataclass(frozen=True)
class SignRefused:
    """Why an uploaded PDF cannot be signed: something about the file. ``probe`` is set when the
    file was read but its certification (DocMDP level 1 or 2) forbids a new signature field."""

    problem: str
    probe: PdfProbe | None = None
    field: str = "file"
    """The request's parameter at fault: ``file``, or ``page``, ``x``, ``y``, ``field`` for a placement."""


async def sign_request(
    signer: Signer,
    *,
    reason: str,
    lines: Sequence[str],
    seal_image: bytes,
    ltv: LtvData | None = None,
    placement: Placement = Placement(),
    location: str | None = None,
) -> SignRequest:
    """The request for :func:`prepare_sign` from ``signer``'s certificates (and room for the
    time-stamp and the DSS content of ``ltv``); no key operation."""
    cert = signer.signing_cert
    if cert is None:
        raise ValueError("the signer has no certificate")
    others = tuple(c.dump() for c in (signer.cert_registry or ()) if c.dump() != cert.dump())
    bound = await cms_size_bound(signer, "sha256", ltv.tsa if ltv is not None else None)
    return SignRequest(
        cert.dump(),
        others,
        reason,
        tuple(lines),
        seal_image,
        2 * bound if bound else 16384 + (8192 if ltv is not None else 0),
        ltv.certs if ltv is not None else (),
        ltv.crls if ltv is not None else (),
        placement,
        location or None,
    )


async def _prepare_sign(pdf: bytes, request: SignRequest) -> PreparedSignature | SignRefused:
    probe = probe_pdf(pdf, request.placement.page)
    if not probe.ok:
        return SignRefused(probe.problem or "the PDF cannot be read")
    try:
        spot = place(probe, request.placement)
    except PlacementError as e:
        return SignRefused(e.message, field=e.field)
    if probe.new_field_forbidden and spot.field is None:
        return SignRefused(f"the document is certified (DocMDP level {probe.docmdp_level})", probe=probe)
    name = spot.field
    if name is None:
        n = 1
        while f"{ENTERPRISE_FIELD}{n}" in probe.signature_fields:
            n += 1
        name = f"{ENTERPRISE_FIELD}{n}"
    cert = asn1_x509.Certificate.load(request.cert_der)
    chain = [asn1_x509.Certificate.load(der) for der in request.chain_der]
    certificates_only = ExternalSigner(cert, SimpleCertificateStore.from_certs([cert, *chain]))
    try:
        return await prepare_signature_async(
            pdf,
            certificates_only,
            field_name=name,
            rect=spot.rect,
            page=max(spot.page_index, 0),
            reason=request.reason,
            location=request.location,
            text_lines=request.lines,
            appearance_png=request.seal_image,
            caption_below=True,
            bytes_reserved=request.bytes_reserved,
            ltv=LtvData(None, request.dss_certs, request.dss_crls),
        )
    except Exception as e:  # a file pyHanko cannot write into is a bad upload
        return SignRefused(f"the PDF cannot be signed: {type(e).__name__}: {str(e)[:200]}")


def prepare_sign(pdf: bytes, request: SignRequest) -> PreparedSignature | SignRefused:
    """The half of :func:`sign` that reads the untrusted upload, for a worker process that can be
    killed: place the signature where ``request.placement`` says and digest the document. Never raises for
    anything in ``pdf``; the key is not needed (nor available) here."""
    return run_sync(_prepare_sign(pdf, request))


async def sign(
    pdf: bytes,
    signer: Signer,
    *,
    reason: str,
    lines: Sequence[str],
    seal_image: bytes,
    ltv: LtvData | None = None,
    placement: Placement = Placement(),
    location: str | None = None,
) -> bytes:
    """Add an enterprise's signature to ``pdf`` where ``placement`` says (by default a new field at
    the lower right of the last page), its seal image above ``lines`` (name and signing time),
    nothing printed across the seal, all in this process (the service runs
    :func:`prepare_sign` in a worker and :func:`finish_signature` itself). ``ValueError`` for a
    file that cannot be signed (:class:`~signing.placement.PlacementError` for a placement it cannot take)."""
    request = await sign_request(
        signer, reason=reason, lines=lines, seal_image=seal_image, ltv=ltv, placement=placement, location=location
    )
    prepared = await _prepare_sign(pdf, request)
    if isinstance(prepared, SignRefused):
        if prepared.field != "file":
            raise PlacementError(prepared.field, prepared.problem)
        raise ValueError(prepared.problem)
    return await finish_signature(prepared, signer, tsa=ltv.tsa if ltv is not None else None)
