"""Hostile uploads that cost a parser time: huge /Annots arrays, raw bytes, no library needed."""

from __future__ import annotations

from io import BytesIO

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader


def annots_pdf(n: int) -> bytes:
    """A one-page PDF whose page /Annots is an ``n``-entry array (all the same annotation):
    cheap to open and probe, slow to add a signature field to (the array is read and rewritten)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots 4 0 R >>",
        b"[" + b"5 0 R " * n + b"]",
        b"<< /Type /Annot /Subtype /Text /Rect [0 0 10 10] >>",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def with_huge_annots(pdf: bytes, n: int) -> bytes:
    """``pdf`` (signed) plus an incremental update giving its first page an ``n``-entry /Annots
    array: the difference analysis of a verification then runs into its time limit."""
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    size = int(reader.trailer["/Size"])
    page_ref = reader.root["/Pages"]["/Kids"].raw_get(0)
    annot, array = size, size + 1
    page = generic.DictionaryObject(dict(page_ref.get_object()))
    page[generic.NameObject("/Annots")] = generic.IndirectObject(array, 0, reader)
    page_bytes = BytesIO()
    page.write_to_stream(page_bytes, None)
    out = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    offsets = {}
    offsets[annot] = len(out)
    out += b"%d 0 obj\n<< /Type /Annot /Subtype /Text /Rect [0 0 10 10] >>\nendobj\n" % annot
    offsets[array] = len(out)
    out += b"%d 0 obj\n[%s]\nendobj\n" % (array, b"%d 0 R " % annot * n)
    offsets[page_ref.idnum] = len(out)
    out += b"%d 0 obj\n%s\nendobj\n" % (page_ref.idnum, page_bytes.getvalue())
    xref = len(out)
    out += b"xref\n"
    for number in sorted(offsets):
        out += b"%d 1\n%010d 00000 n \n" % (number, offsets[number])
    root = reader.root_ref.idnum
    out += b"trailer\n<< /Size %d /Root %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        array + 1,
        root,
        reader.last_startxref,
        xref,
    )
    return bytes(out)
