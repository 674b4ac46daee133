"""Text layers of signature appearances, drawn with reportlab: a framed box of lines (the mark
"仅供 X 用于 Y" of a shared copy, an enterprise signature's caption) and the marked copy's
page-wide layer, which adds a light diagonal watermark repeated across the whole page so that
cropping the box away does not clean the copy.

Each function returns a one-page PDF that :class:`signing.seal_pdf.PdfPage` imports as a form
XObject (the font comes along as an embedded subset, so the text extracts as words).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import FILL_EVEN_ODD, Canvas

from signing.fonts import pdf_font

__all__ = [
    "WATERMARK_ANGLE",
    "WATERMARK_GREY",
    "WATERMARK_OPACITY",
    "draw_box",
    "render_mark_pdf",
    "render_marked_page_pdf",
    "watermark_text",
]

Rect = tuple[float, float, float, float]
"""(x1, y1, x2, y2) in PDF points."""

MARK_RED = (0.78, 0.08, 0.10)
WATERMARK_ANGLE = 30.0
"""Degrees, counter-clockwise: rows rise from bottom left to top right."""
WATERMARK_GREY = (0.45, 0.45, 0.45)
WATERMARK_OPACITY = 0.22
"""Light enough that the licence text under it reads as before, dark enough to show on print."""
WATERMARK_SIZE = 15.0
_ROW_GAP = 3.4  # baseline to baseline, in multiples of the type size
_GAP = "\u3000" * 3  # between repeats on a row: three ideographic spaces
_PART_MAX = 40  # characters of a grantee or purpose shown in the watermark


def _width(text: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, pdf_font(), size)


def _canvas(buf: io.BytesIO, width: float, height: float, font_size: float) -> Canvas:
    c = Canvas(buf, pagesize=(width, height), initialFontName=pdf_font(), initialFontSize=font_size)
    c.setProducer("certsvc")
    c.setCreator("certsvc")
    return c


def draw_box(
    c: Canvas,
    lines: Sequence[str],
    rect: Rect,
    *,
    font_size: float = 10.0,
    colour: tuple[float, float, float] = MARK_RED,
    border_width: float = 1.0,
) -> None:
    """``lines`` centred in ``rect``, type shrunk to fit, inside an optional ``border_width`` frame."""
    x0, y0 = rect[0], rect[1]
    width, height = rect[2] - rect[0], rect[3] - rect[1]
    pad = 3.0 + border_width
    if border_width:
        c.setStrokeColorRGB(*colour)
        c.setLineWidth(border_width)
        c.rect(x0 + border_width / 2, y0 + border_width / 2, width - border_width, height - border_width)
    if lines:
        widest = max(_width(line, 1.0) for line in lines) or 1.0
        size = min(font_size, (width - 2 * pad) / widest, (height - 2 * pad) / (len(lines) * 1.3))
        leading = size * 1.3
        c.setFont(pdf_font(), size)
        c.setFillColorRGB(*colour)
        y = y0 + height / 2 + len(lines) * leading / 2 - leading + (leading - size) / 2 + size * 0.14
        for line in lines:
            c.drawCentredString(x0 + width / 2, y, line)
            y -= leading


def render_mark_pdf(
    lines: Sequence[str],
    width: float,
    height: float,
    *,
    font_size: float = 10.0,
    colour: tuple[float, float, float] = MARK_RED,
    border_width: float = 1.0,
) -> bytes:
    """A ``width`` × ``height`` pt page with ``lines`` centred (type shrunk to fit) inside an optional
    border: the text layer of a signature appearance (font embedded as a subset)."""
    buf = io.BytesIO()
    c = _canvas(buf, width, height, font_size)
    draw_box(c, lines, (0, 0, width, height), font_size=font_size, colour=colour, border_width=border_width)
    c.showPage()
    c.save()
    return buf.getvalue()


def watermark_text(grantee: str, purpose: str, day: str) -> str:
    """ "仅供 <grantee> 用于 <purpose> <day>", each part cut to a length a watermark row can carry."""

    def cut(s: str) -> str:
        s = " ".join(s.split())
        return s if len(s) <= _PART_MAX else s[: _PART_MAX - 1] + "…"

    return f"仅供 {cut(grantee)} 用于 {cut(purpose)} {day}"


def render_marked_page_pdf(
    page: Rect,
    box: Rect,
    box_lines: Sequence[str],
    watermark: str,
    *,
    keep_clear: Sequence[Rect] = (),
) -> bytes:
    """The marked copy's appearance over the whole ``page``: ``box_lines`` framed in red at ``box``,
    and ``watermark`` in light grey, rotated :data:`WATERMARK_ANGLE`, repeated in rows across the
    page except over ``box`` and the areas in ``keep_clear`` (such as the QR code, which must
    still scan). All rectangles are in page coordinates."""
    x1, y1, x2, y2 = page
    width, height = x2 - x1, y2 - y1
    buf = io.BytesIO()
    c = _canvas(buf, width, height, WATERMARK_SIZE)
    c.saveState()
    clip = c.beginPath()
    clip.rect(0, 0, width, height)
    for r in (box, *keep_clear):
        clip.rect(r[0] - x1, r[1] - y1, r[2] - r[0], r[3] - r[1])
    c.clipPath(clip, stroke=0, fill=0, fillMode=FILL_EVEN_ODD)  # the page minus the holes
    c.setFillColorRGB(*WATERMARK_GREY)
    c.setFillAlpha(WATERMARK_OPACITY)
    c.setFont(pdf_font(), WATERMARK_SIZE)
    c.translate(width / 2, height / 2)
    c.rotate(WATERMARK_ANGLE)
    unit = watermark + _GAP
    run = _width(unit, WATERMARK_SIZE)
    half = math.hypot(width, height) / 2  # every row and every row's length that can cross the page
    repeats = int(2 * half // run) + 2
    row = unit * repeats
    step = _ROW_GAP * WATERMARK_SIZE
    rows = int(half // step) + 1
    for i in range(-rows, rows + 1):
        offset = (i % 2) * run / 2  # alternate rows shifted by half a repeat
        c.drawString(-half - offset, i * step, row)  # one string per row: its text reads in order
    c.restoreState()
    draw_box(c, box_lines, (box[0] - x1, box[1] - y1, box[2] - x1, box[3] - y1))
    c.showPage()
    c.save()
    return buf.getvalue()
