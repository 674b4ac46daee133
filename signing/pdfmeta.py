"""Document metadata of the PDFs the service makes: the Info dictionary and the XMP packet agree.

The XMP packet is built and serialised by pyHanko's XMP model (:mod:`pyhanko.pdf_utils.metadata`):
``dc:title``, ``dc:creator``, ``dc:description``, ``pdf:Keywords``, ``pdf:Producer``,
``xmp:CreatorTool``, ``xmp:CreateDate`` and ``xmp:ModifyDate`` carry the same values as the Info
dictionary's Title, Author, Subject, Keywords, Producer, Creator, CreationDate and ModDate, and a
licence's GB/T 36903 items (证照名称, 证照类型代码, …) sit in their own namespace,
:data:`GBT36903_NS`.

pyHanko rewrites the XMP ``pdf:Producer`` with its own name in every incremental update it writes
(seal, mark, signature, DSS, document timestamp) while keeping an Info Producer that already names
it. Its name is therefore set, on import, to :data:`PRODUCER` — the Producer this service writes —
so that the two keep agreeing through every later revision, whichever code writes it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime

from lxml import etree
from pyhanko.pdf_utils.metadata import model, xmp_xml
from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen.canvas import Canvas

from signing.models import LicenceDocument

__all__ = [
    "CREATOR",
    "GBT36903_NS",
    "GBT36903_PREFIX",
    "PRODUCER",
    "licence_metadata",
    "pdf_date",
    "set_metadata",
    "xmp_packet",
]

PRODUCER = "certsvc (pyHanko, ReportLab)"
"""The Info and XMP Producer of every PDF the service writes (no versions: an upgrade must not make
a later revision's Producer differ from the first's)."""

CREATOR = "certsvc"
"""The Info Creator and XMP CreatorTool: the software that made the document's content."""

GBT36903_NS = "urn:certsvc:xmp:gbt36903:1.0#"
"""XMP namespace of the GB/T 36903 licence metadata items; property names are the items' Chinese
names (证照名称, 证照类型代码, 证照编号, 证照标识, 颁发机构, 颁发机构代码, 颁发日期, 有效期, 持证主体,
持证主体代码, 持证主体代码类型)."""

GBT36903_PREFIX = "gbt36903"

_PDF_KEYWORDS = model.ExpandedName(model.NS["pdf"], "Keywords")

model.VENDOR = PRODUCER  # read by pyHanko at every metadata update (Info and XMP Producer, x:xmptk)
etree.register_namespace(GBT36903_PREFIX, GBT36903_NS)


def pdf_date(when: datetime) -> str:
    """``when`` as a PDF date string (``D:YYYYMMDDHHmmSS+HH'mm'``), for the Info dictionary."""
    offset = when.utcoffset()
    minutes = int(offset.total_seconds()) // 60 if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"D:{when:%Y%m%d%H%M%S}{sign}{hours:02d}'{mins:02d}'"


def xmp_packet(
    *,
    title: str,
    subject: str,
    author: str,
    keywords: str,
    creator: str,
    when: datetime,
    items: Sequence[tuple[str, str]] = (),
) -> bytes:
    """The XMP packet of a new document: the same values as its Info dictionary (``when`` is both
    its creation and modification time) and ``items`` as properties of :data:`GBT36903_NS`."""
    # pdf:Keywords by hand: pyHanko's DocumentMetadata writes it as "pdf:keywords", which XMP
    # readers do not know
    extra = [(_PDF_KEYWORDS, model.XmpValue(keywords))]
    extra += [(model.ExpandedName(GBT36903_NS, name), model.XmpValue(value)) for name, value in items]
    meta = model.DocumentMetadata(
        title=title,
        author=author,
        subject=subject,
        creator=creator,
        created=when,
        last_modified=when,
        xmp_extra=[model.XmpStructure.of(*extra)],
    )
    out = io.BytesIO()
    xmp_xml.serialise_xmp(xmp_xml.update_xmp_with_meta(meta), out)
    return out.getvalue()


class _UnfilteredStream(pdfdoc.PDFStream):
    """A reportlab stream written as it is, without /Filter (reportlab would write /Filter [])."""

    def format(self, document: pdfdoc.PDFDocument) -> bytes:
        dictionary = pdfdoc.PDFDictionary(self.dictionary.dict.copy())
        content = document.encrypt.encode(self.content)
        dictionary["Length"] = len(content)
        return bytes(pdfdoc.format(dictionary, document) + b"\nstream\n" + content + b"\nendstream\n")


def set_metadata(
    c: Canvas, *, title: str, subject: str, author: str, keywords: str, items: Sequence[tuple[str, str]] = ()
) -> None:
    """Give the document being drawn on ``c`` an Info dictionary and an XMP packet with the same
    title, subject, author, keywords, producer, creator and dates (now), and ``items`` in XMP.
    The packet is not compressed, as ISO 32000 recommends, so that tools that do not parse PDF
    find it."""
    when = datetime.now(UTC).replace(microsecond=0)
    stamp = pdf_date(when)
    c.setDateFormatter(lambda *_: stamp)  # Info CreationDate and ModDate
    c.setTitle(title)
    c.setSubject(subject)
    c.setAuthor(author)
    c.setKeywords(keywords)
    c.setCreator(CREATOR)
    c.setProducer(PRODUCER)
    xmp = xmp_packet(
        title=title, subject=subject, author=author, keywords=keywords, creator=CREATOR, when=when, items=items
    )
    kind = {"Type": pdfdoc.PDFName("Metadata"), "Subtype": pdfdoc.PDFName("XML")}
    c.setCatalogEntry("Metadata", _UnfilteredStream(pdfdoc.PDFDictionary(kind), xmp))


def licence_metadata(doc: LicenceDocument) -> list[tuple[str, str]]:
    """The GB/T 36903 metadata items of a licence (name, value), as its XMP packet carries them."""
    parts = doc.identifier.split(".")
    from_identifier = len(parts) == 10 and ".".join(parts[:5]) == "1.2.156.3005.2"
    validity = f"{doc.valid_from.isoformat()}/{doc.valid_until.isoformat() if doc.valid_until else '长期'}"
    return [
        ("证照名称", doc.title),
        ("证照类型代码", doc.type_code or (parts[5] if from_identifier else "")),
        ("证照编号", doc.number),
        ("证照标识", doc.identifier),
        ("颁发机构", doc.issuer_name),
        ("颁发机构代码", doc.issuer_code or (parts[6] if from_identifier else "")),
        ("颁发日期", doc.issue_date.isoformat()),
        ("有效期", validity),
        ("持证主体", doc.holder_name),
        ("持证主体代码", doc.holder_uscc),
        ("持证主体代码类型", doc.holder_code_type),
    ]
