"""The verification report (验证报告): one A4 page of what was checked and what was found, sealed
with the service's own seal (not a department's: the service, not an issuer, makes the statement)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from pyhanko.sign.signers import Signer
from reportlab.pdfgen.canvas import Canvas

from signing.fonts import pdf_font
from signing.layout import (
    _TABLE_BOTTOM,
    _TABLE_TOP,
    _TITLE_Y,
    MM,
    PAGE_H,
    PAGE_W,
    SEAL_RECT,
    LayoutError,
    _border_ops,
    _canvas,
    _draw_footer,
    _draw_issuer,
    _draw_title,
    _draw_top_right,
    _layout_rows,
    _Row,
    draw_rows,
)
from signing.ltv import LtvData
from signing.seal import seal_png
from signing.seal_pdf import seal_pdf_async

__all__ = ["REPORT_FIELD", "ReportDocument", "render_report_pdf", "seal_report"]

REPORT_FIELD = "ServiceSeal"
"""The signature field of the service's seal on a report."""


@dataclass(frozen=True)
class ReportDocument:
    """Everything printed on a verification report: label/value rows, continued on further pages
    when they do not fit the first (long status histories, many checks)."""

    number: str
    rows: Sequence[tuple[str, str]]
    issuer_name: str
    issue_date: date
    seal_code: str
    footer: str
    seal_purpose: str = "验证报告专用章"


_SIZE = 9.0
_LABEL_W = 46 * MM
_NEXT_TOP = PAGE_H - 30 * MM
_NEXT_BOTTOM = 27 * MM


def _pages(rows: Sequence[tuple[str, str]]) -> list[list[_Row]]:
    """The rows laid out at one type size and split into pages (the first ends above the seal)."""
    laid = _layout_rows(rows, _SIZE, _LABEL_W)
    pages: list[list[_Row]] = [[]]
    room = _TABLE_TOP - _TABLE_BOTTOM
    for row in laid:
        if row[2] > _NEXT_TOP - _NEXT_BOTTOM:
            raise LayoutError("a row of the verification report is longer than a page")
        if row[2] > room and pages[-1]:
            pages.append([])
            room = _NEXT_TOP - _NEXT_BOTTOM
        pages[-1].append(row)
        room -= row[2]
    return pages


def _draw_rows(c: Canvas, laid: Sequence[_Row], top: float) -> None:
    draw_rows(c, laid, top, _LABEL_W, _SIZE)


def render_report_pdf(doc: ReportDocument) -> bytes:
    """The unsealed report: the title, the rows (continued on further pages if need be), the
    issuer and date under the seal's place on the first page, the footer and page numbers."""
    pages = _pages(doc.rows)
    buf = io.BytesIO()
    c = _canvas(buf, f"验证报告 {doc.number}", "电子证照验证报告 Verification report", doc.issuer_name, doc.number)
    for n, laid in enumerate(pages, 1):
        if n == 1:
            _draw_top_right(c, [f"报告编号：{doc.number}"], size=9)
            _draw_title(c, "验证报告", _TITLE_Y)
            c.setFont(pdf_font(), 10)
            c.setFillColorRGB(0.3, 0.3, 0.3)
            c.drawCentredString(PAGE_W / 2, _TITLE_Y - 11 * MM, "Verification report")
            _draw_rows(c, laid, _TABLE_TOP)
            _draw_issuer(c, doc.issuer_name, doc.issue_date)
        else:
            c.addLiteral(_border_ops())
            _draw_top_right(c, [f"报告编号：{doc.number}"], size=9)
            _draw_rows(c, laid, _NEXT_TOP)
        _draw_footer(c, f"{doc.footer}  第 {n} 页 共 {len(pages)} 页 · page {n} of {len(pages)}")
        c.showPage()
    c.save()
    return buf.getvalue()


async def seal_report(doc: ReportDocument, signer: Signer, *, reason: str, ltv: LtvData | None = None) -> bytes:
    """Render the report and certify it with the service's seal (PAdES, B-LT with ``ltv``)."""
    return await seal_pdf_async(
        render_report_pdf(doc),
        signer,
        field_name=REPORT_FIELD,
        seal_png=seal_png(doc.issuer_name, doc.seal_purpose, doc.seal_code),
        rect=SEAL_RECT,
        certify=True,
        reason=reason,
        bytes_reserved=None,
        ltv=ltv,
    )
