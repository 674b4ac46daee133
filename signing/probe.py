"""A first look at an uploaded PDF before signing it: readable, not encrypted, where to sign, and
whether a certification signature (DocMDP) forbids adding a signature field.

Meant to run in a worker process that can be killed, since hostile files can make parsers loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields
from pyhanko.sign.validation.pdf_embedded import read_certification_data

NEW_FIELD_FORBIDDEN = frozenset({1, 2})
"""DocMDP levels under which a new signature field breaks the certification: 1 (no changes at all)
and 2 (only filling existing fields, signing included); level 3 also allows annotations."""


@dataclass(frozen=True)
class PdfProbe:
    """What a first look at an upload found: whether it can be signed, its pages, and the chosen
    page's box (``None`` when there is no such page) with the signature widgets already on it."""

    ok: bool
    problem: str | None = None
    pages: int = 0
    page_box: tuple[float, float, float, float] | None = None
    signature_fields: tuple[str, ...] = ()
    docmdp_level: int | None = None  # the /Perms /DocMDP certification's P, if the file is certified
    empty_signature_fields: tuple[str, ...] = ()  # unsigned fields someone could still sign
    page_widgets: tuple[tuple[float, float, float, float], ...] = ()  # signature widgets on the page

    @property
    def new_field_forbidden(self) -> bool:
        """Whether the file's certification forbids adding a new signature field."""
        return self.docmdp_level in NEW_FIELD_FORBIDDEN


MAX_ANNOTS = 500


def _normal(box: object) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in box)  # type: ignore[attr-defined]
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def _signature_widgets(page: generic.DictionaryObject) -> tuple[tuple[float, float, float, float], ...]:
    """Rectangles of the signature widgets on ``page`` (the first :data:`MAX_ANNOTS` annotations)."""
    out = []
    annots = page.get("/Annots")
    for ref in list(annots or ())[:MAX_ANNOTS]:
        annot = ref.get_object()
        if not isinstance(annot, generic.DictionaryObject) or annot.get("/Subtype") != "/Widget":
            continue
        field = annot if "/FT" in annot else annot.get("/Parent")
        field = field.get_object() if field is not None else None
        if isinstance(field, generic.DictionaryObject) and field.get("/FT") == "/Sig" and "/Rect" in annot:
            out.append(_normal(annot["/Rect"]))
    return tuple(out)


def probe_pdf(data: bytes, page: int = -1) -> PdfProbe:
    """A first look at ``data`` and at its ``page`` (1-based; -1 the last). Never raises for
    anything in ``data``."""
    if not data.lstrip()[:5].startswith(b"%PDF-"):
        return PdfProbe(False, "not a PDF (no %PDF- header)")
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        if reader.encrypted:
            return PdfProbe(False, "the PDF is encrypted; upload an unencrypted file")
        pages = int(reader.root["/Pages"]["/Count"])
        if pages < 1:
            return PdfProbe(False, "the PDF has no pages")
        index = pages - 1 if page == -1 else page - 1
        box: tuple[float, float, float, float] | None = None
        widgets: tuple[tuple[float, float, float, float], ...] = ()
        if 0 <= index < pages:
            chosen = reader.find_page_for_modification(index)[0].get_object()
            box = _normal(chosen.get("/CropBox", chosen["/MediaBox"]))
            widgets = _signature_widgets(chosen)
        sig_fields = [(str(name), value is None) for name, value, _r in fields.enumerate_sig_fields(reader)]
        certified = read_certification_data(reader)
        docmdp = None if certified is None else int(certified.permission.value)
    except Exception as e:  # any parser failure is the file's problem
        return PdfProbe(False, f"the PDF cannot be read: {type(e).__name__}: {str(e)[:200]}")
    return PdfProbe(
        True,
        None,
        pages,
        box,
        tuple(name for name, _empty in sig_fields),
        docmdp,
        tuple(name for name, empty in sig_fields if empty),
        widgets,
    )
