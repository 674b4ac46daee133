"""A first look at an uploaded PDF before signing it: readable, not encrypted, where to sign.

Meant to run in a worker process that can be killed, since hostile files can make parsers loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields


@dataclass(frozen=True)
class PdfProbe:
    """What a first look at an upload found: whether it can be signed and where the last page is."""

    ok: bool
    problem: str | None = None
    pages: int = 0
    last_page_box: tuple[float, float, float, float] = (0.0, 0.0, 595.0, 842.0)
    signature_fields: tuple[str, ...] = ()


def probe_pdf(data: bytes) -> PdfProbe:
    """Never raises for anything in ``data``."""
    if not data.lstrip()[:5].startswith(b"%PDF-"):
        return PdfProbe(False, "not a PDF (no %PDF- header)")
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        if reader.encrypted:
            return PdfProbe(False, "the PDF is encrypted; upload an unencrypted file")
        pages = int(reader.root["/Pages"]["/Count"])
        if pages < 1:
            return PdfProbe(False, "the PDF has no pages")
        last = reader.find_page_for_modification(pages - 1)[0].get_object()
        box = tuple(float(x) for x in last.get("/CropBox", last["/MediaBox"]))
        names = tuple(name for name, _v, _r in fields.enumerate_sig_fields(reader))
    except Exception as e:  # any parser failure is the file's problem
        return PdfProbe(False, f"the PDF cannot be read: {type(e).__name__}: {str(e)[:200]}")
    x1, y1, x2, y2 = box
    return PdfProbe(True, None, pages, (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)), names)
