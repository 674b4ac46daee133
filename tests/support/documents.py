"""PDFs an enterprise might upload to be signed: a letter, and a page drawn to look like a licence."""

from __future__ import annotations

from io import BytesIO

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

CJK_FONT = "STSong-Light"  # one of the CID fonts every PDF reader knows; nothing is embedded


def _canvas() -> tuple[BytesIO, canvas.Canvas]:
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    buf = BytesIO()
    return buf, canvas.Canvas(buf, pagesize=A4)


def plain_pdf(text: str = "合同 / Contract") -> bytes:
    """A one-page document with a line of text."""
    buf, c = _canvas()
    c.setFont(CJK_FONT, 14)
    c.drawString(72, 720, text)
    c.save()
    return buf.getvalue()


def forged_licence_pdf(holder: str) -> bytes:
    """A page titled 食品经营许可证 with a holder name and a drawn red "seal": what a forger would make."""
    buf, c = _canvas()
    c.setFont(CJK_FONT, 28)
    c.drawCentredString(297, 760, "食品经营许可证")
    c.setFont(CJK_FONT, 14)
    c.drawString(90, 680, f"经营者名称：{holder}")
    c.drawString(90, 650, "许可证编号：JY14403000000001")
    c.drawString(90, 620, "有效期至：2031年12月31日")
    c.setStrokeColorRGB(0.8, 0, 0)
    c.setFillColorRGB(0.8, 0, 0)
    c.setLineWidth(3)
    c.circle(420, 200, 60)
    c.drawCentredString(420, 195, "深圳市卫生健康委员会")
    c.save()
    return buf.getvalue()
