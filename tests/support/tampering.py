"""Ways a sealed PDF gets tampered with after sealing, each as an incremental update."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter


def update(pdf: bytes, change: Callable[[IncrementalPdfFileWriter], None]) -> bytes:
    w = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    change(w)
    out = BytesIO()
    w.write(out)
    return out.getvalue()


def add_page(pdf: bytes) -> bytes:
    def change(w: IncrementalPdfFileWriter) -> None:
        content = w.add_object(generic.StreamObject(stream_data=b"BT /F1 12 Tf 72 700 Td (forged) Tj ET"))
        page = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Page"),
                pdf_name("/MediaBox"): generic.ArrayObject(map(generic.NumberObject, (0, 0, 595, 842))),
                pdf_name("/Contents"): content,
                pdf_name("/Resources"): generic.DictionaryObject(),
            }
        )
        w.insert_page(page)

    return update(pdf, change)


def add_annotation(pdf: bytes) -> bytes:
    def change(w: IncrementalPdfFileWriter) -> None:
        page_ref, _ = w.find_page_for_modification(0)
        annot = w.add_object(
            generic.DictionaryObject(
                {
                    pdf_name("/Type"): pdf_name("/Annot"),
                    pdf_name("/Subtype"): pdf_name("/FreeText"),
                    pdf_name("/Rect"): generic.ArrayObject(map(generic.NumberObject, (72, 650, 400, 680))),
                    pdf_name("/Contents"): generic.TextStringObject("valid until 2099"),
                    pdf_name("/DA"): generic.TextStringObject("/Helv 12 Tf 0 g"),
                }
            )
        )
        w.register_annotation(page_ref, annot)

    return update(pdf, change)


def add_text_field(pdf: bytes, value: str = "forged value") -> bytes:
    def change(w: IncrementalPdfFileWriter) -> None:
        page_ref, _ = w.find_page_for_modification(0)
        fld = w.add_object(
            generic.DictionaryObject(
                {
                    pdf_name("/Type"): pdf_name("/Annot"),
                    pdf_name("/Subtype"): pdf_name("/Widget"),
                    pdf_name("/FT"): pdf_name("/Tx"),
                    pdf_name("/T"): generic.TextStringObject("extra"),
                    pdf_name("/V"): generic.TextStringObject(value),
                    pdf_name("/Rect"): generic.ArrayObject(map(generic.NumberObject, (72, 500, 300, 520))),
                    pdf_name("/P"): page_ref,
                }
            )
        )
        acroform = w.root["/AcroForm"]
        fields = acroform.raw_get("/Fields")
        if isinstance(fields, generic.IndirectObject):
            w.mark_update(fields)
            fields.get_object().append(fld)
        else:
            fields.append(fld)
            w.update_container(acroform)
        w.register_annotation(page_ref, fld)

    return update(pdf, change)


def fill_field(pdf: bytes, name: str = "remark", value: str = "revoked? no, valid") -> bytes:
    def change(w: IncrementalPdfFileWriter) -> None:
        for ref in w.root["/AcroForm"]["/Fields"]:
            fld = ref.get_object()
            if fld.get("/T") == name:
                fld[pdf_name("/V")] = generic.TextStringObject(value)
                w.mark_update(ref)
                return
        raise AssertionError(f"no field {name}")

    return update(pdf, change)


def flip_byte(pdf: bytes, needle: bytes) -> bytes:
    """Change one byte inside the signed range: the first byte of ``needle`` in the file."""
    at = pdf.index(needle)
    return pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]
