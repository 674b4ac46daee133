"""Empty signature fields: reserved hidden for a later signature, found and opened when it comes."""

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields

__all__ = ["NoSuchField", "empty_field_rect", "make_read_only", "reserve_hidden_field"]

Rect = tuple[float, float, float, float]
"""(x1, y1, x2, y2) in PDF points on the page."""

_HIDDEN, _PRINT, _READ_ONLY, _LOCKED = 2, 4, 64, 128  # annotation flags (ISO 32000-2, 12.5.3)


class NoSuchField(ValueError):
    """The document has no signature field of that name (and no rect was given to create one)."""


def empty_field_rect(writer: IncrementalPdfFileWriter, name: str) -> Rect | None:
    """Rect of an existing empty signature field called ``name`` (``ValueError`` if already signed).
    A field hidden until now (:func:`reserve_hidden_field`) is made visible and printable in
    the revision being written; validators count that as part of filling the field."""
    for _, value, ref in fields.enumerate_sig_fields(writer, with_name=name):
        if value is not None:
            raise ValueError(f"signature field {name!r} is already signed")
        field = ref.get_object()
        widget_ref = ref if "/Rect" in field else field.raw_get("/Kids")[0]
        widget = widget_ref.get_object()
        flags = int(widget.get("/F", 0))
        if flags & _HIDDEN:
            widget["/F"] = generic.NumberObject((flags & ~_HIDDEN) | _PRINT)
            writer.mark_update(widget_ref)
        x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
        return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)
    return None


def reserve_hidden_field(writer: IncrementalPdfFileWriter, name: str, rect: Rect, tooltip: str) -> None:
    """An empty signature field on page 1, hidden until it is signed (so that readers draw no
    "click to sign" placeholder on the page), with ``tooltip`` as its readable name (/TU)."""
    box = (round(rect[0]), round(rect[1]), round(rect[2]), round(rect[3]))
    spec = fields.SigFieldSpec(sig_field_name=name, on_page=0, box=box, readable_field_name=tooltip or None)
    fields.append_signature_field(writer, spec)
    for *_, ref in fields.enumerate_sig_fields(writer, with_name=name):
        field = ref.get_object()
        widget = field if "/Rect" in field else field["/Kids"][0].get_object()
        widget["/F"] = generic.NumberObject(_HIDDEN | _LOCKED)


def make_read_only(writer: IncrementalPdfFileWriter, name: str) -> None:
    """Set the ReadOnly annotation flag of signature field ``name``'s widget in the revision being
    written: readers then pass clicks through it (a widget spanning the page would catch them all)."""
    for *_, ref in fields.enumerate_sig_fields(writer, with_name=name):
        field = ref.get_object()
        widget_ref = ref if "/Rect" in field else field.raw_get("/Kids")[0]
        widget = widget_ref.get_object()
        widget["/F"] = generic.NumberObject(int(widget.get("/F", 0)) | _READ_ONLY)
        writer.mark_update(widget_ref)
