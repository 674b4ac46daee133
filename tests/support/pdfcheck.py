"""Helpers that look at PDFs the way an outside verifier would: pyHanko, pypdfium2, zxing-cpp."""

from __future__ import annotations

from io import BytesIO

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from certsvc.context import Context
from keys.ca import to_asn1


def validation_context(ctx: Context) -> ValidationContext:
    return ValidationContext(trust_roots=[to_asn1(ctx.keyring.root().cert)], allow_fetching=False)


def signature_status(ctx: Context, pdf: bytes, index: int = 0):
    reader = PdfFileReader(BytesIO(pdf))
    sig = reader.embedded_signatures[index]
    return sig, validate_pdf_signature(sig, validation_context(ctx))


def page_text(pdf: bytes, page: int = 0) -> str:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        tp = doc[page].get_textpage()
        return tp.get_text_range()
    finally:
        doc.close()


def visible_text(pdf: bytes, page: int = 0) -> str:
    """Text as a reader shows it, annotation appearances (signature marks) included."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    doc.init_forms()
    try:
        flat = doc[page]
        flat.flatten(flag=pdfium.raw.FLAT_PRINT)
        flat.close()  # pdfium wants the page reloaded after flattening
        return doc[page].get_textpage().get_text_range()
    finally:
        doc.close()


def qr_texts(pdf: bytes, page: int = 0, dpi: int = 150) -> list[str]:
    import pypdfium2 as pdfium
    import zxingcpp

    doc = pdfium.PdfDocument(pdf)
    try:
        image = doc[page].render(scale=dpi / 72).to_pil()
    finally:
        doc.close()
    return [b.text for b in zxingcpp.read_barcodes(image) if b.format == zxingcpp.BarcodeFormat.QRCode]
