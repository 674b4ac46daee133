"""The verification report (验证报告): one A4 page of what was checked and what was found, sealed
with the service's own seal (not a department's: the service, not an issuer, makes the statement)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from pyhanko.sign.signers import Signer

from signing.fonts import pdf_font
from signing.layout import (
    _TABLE_BOTTOM,
    _TABLE_TOP,
    _TITLE_Y,
    MM,
    PAGE_W,
    SEAL_RECT,
    LayoutError,
    _canvas,
    _draw_footer,
    _draw_issuer,
    _draw_table,
    _draw_title,
    _draw_top_right,
)
from signing.ltv import LtvData
from signing.seal import seal_png
from signing.seal_pdf import seal_pdf_async

__all__ = ["REPORT_FIELD", "ReportDocument", "render_report_pdf", "seal_report"]

REPORT_FIELD = "ServiceSeal"
"""The signature field of the service's seal on a report."""


@dataclass(frozen=True)
class ReportDocument:
    """Everything printed on a verification report: label/value rows, and a shorter set of rows
    for when the full one does not fit the page (long status histories, many checks)."""

    number: str
    rows: Sequence[tuple[str, str]]
    compact_rows: Sequence[tuple[str, str]]
    issuer_name: str
    issue_date: date
    seal_code: str
    footer: str
    seal_purpose: str = "验证报告专用章"


def render_report_pdf(doc: ReportDocument) -> bytes:
    """The unsealed report: the title, the rows (type shrunk to fit; the compact rows if they
    still do not), the issuer and date under the seal's place, the footer."""
    for rows in (doc.rows, doc.compact_rows):
        buf = io.BytesIO()
        c = _canvas(buf, f"验证报告 {doc.number}", "电子证照验证报告 Verification report", doc.issuer_name, doc.number)
        _draw_top_right(c, [f"报告编号：{doc.number}"], size=9)
        _draw_title(c, "验证报告", _TITLE_Y)
        c.setFont(pdf_font(), 10)
        c.setFillColorRGB(0.3, 0.3, 0.3)
        c.drawCentredString(PAGE_W / 2, _TITLE_Y - 11 * MM, "Verification report")
        try:
            _draw_table(c, rows, _TABLE_TOP, _TABLE_BOTTOM)
        except LayoutError:
            continue
        _draw_issuer(c, doc.issuer_name, doc.issue_date)
        _draw_footer(c, doc.footer)
        c.showPage()
        c.save()
        return buf.getvalue()
    raise LayoutError("the verification report does not fit on one A4 page")


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
