"""A4 forms an enterprise signs with its business-licence signature: a notification-commitment
(告知承诺书) or a filing form (备案表). The page leaves its lower right corner free for the
signature, which :func:`signing.pipeline.prepare_sign` places there."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from signing.fonts import pdf_font
from signing.layout import (
    _TABLE_BOTTOM,
    _TABLE_TOP,
    _TABLE_X0,
    _TABLE_X1,
    _TITLE_Y,
    MM,
    _canvas,
    _draw_footer,
    _draw_table,
    _draw_title,
    _draw_top_right,
    cn_date,
    wrap_text,
)

__all__ = ["FormDocument", "render_form_pdf"]

_TEXT_SIZE = 10.5


@dataclass(frozen=True)
class FormDocument:
    """What a signed form says: its title and reference, who signs it, the rows, and its text."""

    title: str
    reference: str
    signer_name: str
    signer_uscc: str
    rows: Sequence[tuple[str, str]]
    text: str
    signed_on: date
    footer: str
    signer_label: str = "承诺人"


def render_form_pdf(doc: FormDocument) -> bytes:
    """One A4 page: the title, a table of ``rows``, the text in paragraphs, and the signer's line."""
    buf = io.BytesIO()
    c = _canvas(buf, f"{doc.title} {doc.reference}", doc.title, doc.signer_name, doc.reference)
    _draw_top_right(c, [f"编号：{doc.reference}"])
    _draw_title(c, doc.title, _TITLE_Y)
    lines: list[str] = []
    for paragraph in doc.text.splitlines() or [""]:
        lines += wrap_text("\u3000\u3000" + paragraph.strip(), _TEXT_SIZE, _TABLE_X1 - _TABLE_X0 - 8 * MM)
    rows = [("企业名称", doc.signer_name), ("统一社会信用代码", doc.signer_uscc), *doc.rows]
    bottom = _draw_table(c, rows, _TABLE_TOP, _TABLE_BOTTOM + 7 * MM + len(lines) * _TEXT_SIZE * 1.6)
    c.setFont(pdf_font(), _TEXT_SIZE)
    c.setFillColorRGB(0, 0, 0)
    y = bottom - 7 * MM
    for line in lines:
        c.drawString(_TABLE_X0 + 4 * MM, y, line)
        y -= _TEXT_SIZE * 1.6
    c.setFont(pdf_font(), 11)
    c.drawString(_TABLE_X0 + 4 * MM, 52 * MM, f"{doc.signer_label}（电子营业执照签章）：{doc.signer_name}")
    c.drawString(_TABLE_X0 + 4 * MM, 44 * MM, f"日期：{cn_date(doc.signed_on)}")
    _draw_footer(c, doc.footer)
    c.showPage()
    c.save()
    return buf.getvalue()
