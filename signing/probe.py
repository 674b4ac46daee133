"""A first look at an uploaded PDF before signing it: readable, not encrypted, where to sign, and
whether a certification signature (DocMDP) forbids adding a signature field.

Meant to run in a worker process that can be killed, since hostile files can make parsers loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields
from pyhanko.sign.validation.pdf_embedded import read_certification_data

NEW_FIELD_FORBIDDEN = frozenset({1, 2})
"""DocMDP levels under which a new signature field breaks the certification: 1 (no changes at all)
and 2 (only filling existing fields, signing included); level 3 also allows annotations."""


@dataclass(frozen=True)
class PdfProbe:
    """What a first look at an upload found: whether it can be signed and where the last page is."""

    ok: bool
    problem: str | None = None
    pages: int = 0
    last_page_box: tuple[float, float, float, float] = (0.0, 0.0, 595.0, 842.0)
    signature_fields: tuple[str, ...] = ()
    docmdp_level: int | None = None  # the /Perms /DocMDP certification's P, if the file is certified
    empty_signature_fields: tuple[str, ...] = ()  # unsigned fields someone could still sign

    @property
    def new_field_forbidden(self) -> bool:
        """Whether the file's certification forbids adding a new signature field."""
        return self.docmdp_level in NEW_FIELD_FORBIDDEN


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
        sig_fields = [(str(name), value is None) for name, value, _r in fields.enumerate_sig_fields(reader)]
        certified = read_certification_data(reader)
        docmdp = None if certified is None else int(certified.permission.value)
    except Exception as e:  # any parser failure is the file's problem
        return PdfProbe(False, f"the PDF cannot be read: {type(e).__name__}: {str(e)[:200]}")
    x1, y1, x2, y2 = box
    return PdfProbe(
        True,
        None,
        pages,
        (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)),
        tuple(name for name, _empty in sig_fields),
        docmdp,
        tuple(name for name, empty in sig_fields if empty),
    )
