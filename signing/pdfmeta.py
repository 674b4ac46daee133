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
from datetime import datetime

from lxml import etree
from pyhanko.pdf_utils.metadata import model, xmp_xml

__all__ = [
    "GBT36903_NS",
    "GBT36903_PREFIX",
    "PRODUCER",
    "pdf_date",
    "xmp_packet",
]

PRODUCER = "certsvc (pyHanko, ReportLab)"
"""The Info and XMP Producer of every PDF the service writes (no versions: an upgrade must not make
a later revision's Producer differ from the first's)."""

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
