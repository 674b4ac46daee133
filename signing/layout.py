"""A4 page layout of licences (电子证照) and acceptance receipts (受理回执), drawn with reportlab.

The seal is not drawn here: :data:`SEAL_RECT` is where the signature widget (whose appearance is the
seal image) goes, over the department name and date printed in the page content.
"""

import io
import math
import re
from collections.abc import Sequence
from datetime import date
from functools import cache, lru_cache

from isal import isal_zlib
from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from signing.fonts import outline_ops, pdf_font
from signing.models import LicenceDocument, ReceiptDocument
from signing.payload import QR_KEYWORD_PREFIX
from signing.pdfmeta import licence_metadata, set_metadata
from signing.qr import qr_rows

__all__ = [
    "MARK_RECT",
    "PAGE_SIZE",
    "QR_RECT",
    "SEAL_RECT",
    "LayoutError",
    "cn_date",
    "render_licence_pdf",
    "render_receipt_pdf",
    "wrap_text",
]

# reportlab is used only by this package; two process-wide settings make a page ≈19 ms cheaper:
# binary (Flate only) streams, since the pure-Python ASCII85 encoder costs ≈15 ms per page, and
# deflate by ISA-L at level 1 (0.2 ms per page) instead of zlib at its default level (≈4 ms), for
# streams the same size as zlib level 1 makes.
rl_config.useA85 = 0


def _deflate_fast(data: str | bytes) -> bytes:
    return isal_zlib.compress(data.encode("utf-8") if isinstance(data, str) else data, 1)


pdfdoc.PDFZCompress.encode = _deflate_fast


class LayoutError(ValueError):
    """The document's content cannot be laid out on its page (too much text for one A4 page)."""

    def diagnostics(self) -> str:
        return f"cannot lay out the document: {self}"


MM = 72 / 25.4
PAGE_SIZE: tuple[float, float] = A4
PAGE_W, PAGE_H = A4

SEAL_RECT: tuple[int, int, int, int] = (383, 68, 496, 181)
"""Signature widget (seal) rectangle on page 1, PDF points (x1, y1, x2, y2): 40 mm square, centred on
the department name and date printed bottom right."""

MARK_RECT: tuple[int, int, int, int] = (58, 744, 352, 786)
"""Free band top left of page 1 (beside the licence number, above the title) for a later visible mark
such as "仅供 X 用于 Y" on a shared copy, PDF points."""

_SEAL_CX = (SEAL_RECT[0] + SEAL_RECT[2]) / 2
_SEAL_CY = (SEAL_RECT[1] + SEAL_RECT[3]) / 2

_QR_SIZE = 44 * MM
_QR_X = 24 * MM
_QR_Y = 25 * MM  # the quiet zone (4 modules) clear of the footer line below and the table above
QR_RECT: tuple[float, float, float, float] = (_QR_X, _QR_Y, _QR_X + _QR_SIZE, _QR_Y + _QR_SIZE)
"""Where the QR symbol (without quiet zone) is drawn, PDF points."""

_TABLE_X0 = 25 * MM
_TABLE_X1 = PAGE_W - 25 * MM
_TABLE_BOTTOM = 72 * MM  # clear of the QR code and the seal
_TITLE_Y = PAGE_H - 46 * MM
_TABLE_TOP = PAGE_H - 62 * MM
_PAD_X = 2.4 * MM
_PAD_Y = 2.1 * MM
_SIZES = (11.0, 10.5, 10.0, 9.5, 9.0, 8.5, 8.0, 7.5, 7.0)

_BORDER_RGB = (0.62, 0.11, 0.11)
_LINE_RGB = (0.48, 0.36, 0.31)
_LABEL_BG_RGB = (0.98, 0.95, 0.91)

_NO_LINE_START = set("，。、；：！？）》」』”’〕】…,.;:!?)]}%·—")
_NO_LINE_END = set("（《「『“‘〔【([{")
_DARK_RUN = re.compile("1+")
_LATIN_RUN = re.compile(r"[A-Za-z0-9_.\-/@:%&+=#~]+")


def cn_date(d: date) -> str:
    """Chinese date as printed on licences: 2025年1月5日."""
    return f"{d.year}年{d.month}月{d.day}日"


@lru_cache(maxsize=8192)
def _em(ch: str) -> float:
    """Advance width of ``ch`` in ems."""
    return pdfmetrics.stringWidth(ch, pdf_font(), 1000) / 1000


def _width(text: str, size: float) -> float:
    return sum(_em(ch) for ch in text) * size


def _tokens(text: str) -> list[str]:
    """Break opportunities: CJK characters, Latin runs, spaces; opening brackets glued forward."""
    out: list[str] = []
    i = 0
    pending = ""
    while i < len(text):
        m = _LATIN_RUN.match(text, i)
        tok = m.group() if m else text[i]
        i += len(tok)
        if tok in _NO_LINE_END:
            pending += tok
            continue
        out.append(pending + tok)
        pending = ""
    if pending:
        out.append(pending)
    return out


def wrap_text(text: str, size: float, width: float) -> list[str]:
    """Greedy line breaking for Chinese with simple 禁则 (no closing punctuation at a line start,
    which may hang into the margin; no opening bracket at a line end). ``\\n`` forces a break."""
    lines: list[str] = []
    for para in text.split("\n"):
        line, line_w = "", 0.0
        for tok in _tokens(para):
            tok_w = _width(tok, size)
            if line_w + tok_w <= width or not line or tok[0] in _NO_LINE_START and len(tok) == 1:
                line, line_w = line + tok, line_w + tok_w
                continue
            if tok.isspace():
                continue
            lines.append(line.rstrip())
            while tok_w > width:  # a Latin run longer than the line: cut it
                cut = len(tok)
                while cut > 1 and _width(tok[:cut], size) > width:
                    cut -= 1
                lines.append(tok[:cut])
                tok = tok[cut:]
                tok_w = _width(tok, size)
            line, line_w = tok, tok_w
        lines.append(line.rstrip())
    return lines


@cache
def _border_ops() -> str:
    """PDF operators of the decorative border (computed once)."""
    r, g, b = _BORDER_RGB
    ops = ["q", f"{r:.3f} {g:.3f} {b:.3f} RG", f"{r:.3f} {g:.3f} {b:.3f} rg"]

    def rect(inset: float, lw: float) -> None:
        w, h = PAGE_W - 2 * inset, PAGE_H - 2 * inset
        ops.append(f"{lw:.2f} w {inset:.2f} {inset:.2f} {w:.2f} {h:.2f} re S")

    rect(10.5 * MM, 1.6)
    rect(11.9 * MM, 0.5)
    rect(17.1 * MM, 0.5)
    rect(17.7 * MM, 0.25)
    # guilloche band: two interlaced waves running round the page between 11.9 and 17.1 mm, each
    # half period one Bézier arch (control points at 4/3 of the amplitude)
    mid, amp = 14.5 * MM, 2.0 * MM
    corners = [(mid, mid), (PAGE_W - mid, mid), (PAGE_W - mid, PAGE_H - mid), (mid, PAGE_H - mid)]
    ops.append("0.35 w")
    for sign in (1.0, -1.0):
        for k in range(4):
            (x0, y0), (x1, y1) = corners[k], corners[(k + 1) % 4]
            length = math.hypot(x1 - x0, y1 - y0)
            halves = 2 * max(1, round(length / (7 * MM)))
            ux, uy = (x1 - x0) / length, (y1 - y0) / length
            step = length / halves
            seg = [f"{x0:.2f} {y0:.2f} m"]
            for i in range(halves):
                a = sign * amp * (4 / 3) * (1 if i % 2 == 0 else -1)
                s0 = i * step
                pts = [(s0 + step / 3, a), (s0 + 2 * step / 3, a), (s0 + step, 0.0)]
                seg.append(" ".join(f"{x0 + ux * t - uy * n:.2f} {y0 + uy * t + ux * n:.2f}" for t, n in pts) + " c")
            ops.append(" ".join(seg) + " S")
    # corner ornaments: small diamonds
    for cx, cy in corners:
        d = 2.2 * MM
        ops.append(
            f"{cx:.2f} {cy + d:.2f} m {cx + d:.2f} {cy:.2f} l {cx:.2f} {cy - d:.2f} l {cx - d:.2f} {cy:.2f} l h f"
        )
    ops.append("Q")
    return "\n".join(ops)


def _canvas(
    buf: io.BytesIO,
    title: str,
    subject: str,
    author: str,
    keywords: str,
    items: Sequence[tuple[str, str]] = (),
) -> Canvas:
    """A PDF 2.0 page (header and catalog agree: pyHanko then adds no /Version) whose Info
    dictionary and XMP packet carry the same title, subject, author, keywords, producer, creator and
    dates, and the GB/T 36903 ``items`` in XMP."""
    c = Canvas(buf, pagesize=A4, initialFontName=pdf_font(), initialFontSize=11, lang="zh-CN", pdfVersion=(2, 0))
    set_metadata(c, title=title, subject=subject, author=author, keywords=keywords, items=items)
    c.addLiteral(_border_ops())
    return c


def _draw_title(c: Canvas, text: str, y: float, size: float = 30) -> None:
    """The letter-spaced title, drawn as glyph outlines (faux bold: filled and stroked) under an
    invisible text run of the same width without gaps, so that text extraction and search find the
    title as one word (营业执照) where spaced glyphs extract as 营|业|执|照."""
    n = len(text)
    natural = _width(text, size)
    target = min(130 * MM, n * size * 1.85, PAGE_W - 60 * MM)
    spacing = max(0.0, min(size, (target - natural) / (n - 1))) if n > 1 else 0.0
    if natural > target:  # very long title: smaller
        size = size * target / natural
        natural, spacing = target, 0.0
    width = natural + spacing * (n - 1)
    x0 = PAGE_W / 2 - width / 2
    c.addLiteral(outline_ops(text, size, spacing, x0, y))
    t = c.beginText(x0, y)
    t.setFont(pdf_font(), size)
    t.setTextRenderMode(3)  # invisible
    t.setHorizScale(100 * width / natural if natural else 100)
    t.textOut(text)
    t.setTextRenderMode(0)
    t.setHorizScale(100)
    c.drawText(t)
    # ornament under the title
    c.setStrokeColorRGB(*_BORDER_RGB)
    half = max(width / 2 + 8 * MM, 40 * MM)
    for dy, lw in ((-5.5 * MM, 1.2), (-6.6 * MM, 0.4)):
        c.setLineWidth(lw)
        c.line(PAGE_W / 2 - half, y + dy, PAGE_W / 2 + half, y + dy)


def _draw_top_right(c: Canvas, lines: Sequence[str], size: float = 10) -> None:
    c.setFont(pdf_font(), size)
    c.setFillColorRGB(0, 0, 0)
    y = PAGE_H - 27 * MM
    for line in lines:
        c.drawRightString(PAGE_W - 24 * MM, y, line)
        y -= size * 1.5


_Row = tuple[list[str], list[str], float]


def _layout_rows(rows: Sequence[tuple[str, str]], size: float, label_w: float) -> list[_Row]:
    value_w = _TABLE_X1 - _TABLE_X0 - label_w - 2 * _PAD_X
    out = []
    for label, value in rows:
        lab = wrap_text(label, size, label_w - 2 * _PAD_X)
        val = wrap_text(value, size, value_w)
        height = max(len(lab), len(val)) * size * 1.5 + 2 * _PAD_Y
        out.append((lab, val, max(height, size * 1.5 + 2 * _PAD_Y + 1.6 * MM)))
    return out


def _baselines(top: float, height: float, n: int, size: float) -> list[float]:
    """Baselines of ``n`` lines centred vertically in a cell."""
    leading = size * 1.5
    first = top - (height - n * leading) / 2 - (leading - size) / 2 - size * 0.86
    return [first - i * leading for i in range(n)]


def _draw_table(c: Canvas, rows: Sequence[tuple[str, str]], top: float, bottom: float) -> float:
    """Draw label/value rows between ``top`` and ``bottom``, shrinking the type until it fits;
    returns the table's lower edge."""
    for size in _SIZES:
        label_w = max(_width(label, size) for label, _ in rows) + 2 * _PAD_X + 1
        label_w = min(max(label_w, 30 * MM), 50 * MM)
        laid = _layout_rows(rows, size, label_w)
        if top - sum(h for *_, h in laid) >= bottom:
            break
    else:
        raise LayoutError(
            "the licence content does not fit on one A4 page even at the smallest type size; shorten the longest fields"
        )
    return draw_rows(c, laid, top, label_w, size)


def draw_rows(c: Canvas, laid: Sequence[_Row], top: float, label_w: float, size: float) -> float:
    """Draw rows already laid out (:func:`_layout_rows`) as the bordered label/value table from ``top``,
    labels shaded; returns the table's lower edge."""
    total = sum(h for *_, h in laid)
    x0, x1, xm = _TABLE_X0, _TABLE_X1, _TABLE_X0 + label_w
    c.setFillColorRGB(*_LABEL_BG_RGB)
    c.rect(x0, top - total, label_w, total, stroke=0, fill=1)
    c.setFont(pdf_font(), size)
    y = top
    c.setStrokeColorRGB(*_LINE_RGB)
    c.setLineWidth(0.5)
    for lab, val, h in laid:
        # both columns vertically centred; labels in faux bold
        c.setFillColorRGB(0.1, 0.1, 0.1)
        for line, ly in zip(lab, _baselines(y, h, len(lab), size), strict=True):
            c.drawString(x0 + _PAD_X, ly, line, mode=2)
        c.setFillColorRGB(0, 0, 0)
        for line, vy in zip(val, _baselines(y, h, len(val), size), strict=True):
            c.drawString(xm + _PAD_X, vy, line)
        y -= h
        c.line(x0, y, x1, y)
    c.setLineWidth(1.0)
    c.rect(x0, y, x1 - x0, top - y, stroke=1, fill=0)
    c.setLineWidth(0.5)
    c.line(xm, y, xm, top)
    return y


@cache
def _run_parts(n: int) -> dict[tuple[int, int], tuple[str, str]]:
    """The ``re`` operator of every run of dark modules [start, end) in a row of ``n`` modules, in
    two parts around the row number: ``("start ", " width 1 re")``."""
    return {(a, b): (f"{a} ", f" {b - a} 1 re") for a in range(n) for b in range(a + 1, n + 1)}


def _draw_qr(c: Canvas, text: str) -> None:
    """The QR symbol as one filled path (every run of dark modules a rectangle of it, in module
    units), so a renderer's anti-aliasing leaves no seams between rows, on its white quiet zone."""
    rows = qr_rows(text)
    n = len(rows)
    m = _QR_SIZE / n
    quiet = 4 * m
    top = _QR_Y + _QR_SIZE
    ops = [
        f"q 1 g {_QR_X - quiet:.3f} {_QR_Y - quiet:.3f} {_QR_SIZE + 2 * quiet:.3f} "
        f"{_QR_SIZE + 2 * quiet:.3f} re f 0 g {m:.5f} 0 0 {-m:.5f} {_QR_X:.3f} {top:.3f} cm"
    ]
    runs = _run_parts(n)
    for r, row in enumerate(rows):
        y = str(r)
        ops.extend([a + y + w for a, w in map(runs.__getitem__, map(re.Match.span, _DARK_RUN.finditer(row)))])
    ops.append("f Q")
    c.addLiteral("\n".join(ops))
    c.setFont(pdf_font(), 8)
    c.setFillColorRGB(0.15, 0.15, 0.15)
    c.drawString(_QR_X + _QR_SIZE + quiet, _QR_Y + 4.5 * MM, "扫码核验")
    c.drawString(_QR_X + _QR_SIZE + quiet, _QR_Y + 1 * MM, "Scan to verify")


def _draw_issuer(c: Canvas, department: str, when: date) -> None:
    """Department name and date centred under the seal (骑年盖月)."""
    size = 12.0
    max_w = 75 * MM
    if _width(department, size) > max_w:
        size = max(8.0, size * max_w / _width(department, size))
    c.setFillColorRGB(0, 0, 0)
    c.setFont(pdf_font(), size)
    c.drawCentredString(_SEAL_CX, _SEAL_CY + 2 * MM, department)
    c.setFont(pdf_font(), 11)
    c.drawCentredString(_SEAL_CX, _SEAL_CY - 5 * MM, cn_date(when))


def _draw_footer(c: Canvas, text: str) -> None:
    size = 7.0
    if _width(text, size) > PAGE_W - 40 * MM:
        size = size * (PAGE_W - 40 * MM) / _width(text, size)
    c.setFont(pdf_font(), size)
    c.setFillColorRGB(0.3, 0.3, 0.3)
    c.drawCentredString(PAGE_W / 2, 19.6 * MM, text)


def _validity(doc: LicenceDocument) -> str:
    if doc.valid_until is None:
        return f"自{cn_date(doc.valid_from)}起长期有效"
    return f"自{cn_date(doc.valid_from)}至{cn_date(doc.valid_until)}"


def render_licence_pdf(doc: LicenceDocument) -> bytes:
    """One-page A4 licence PDF (fonts embedded and subset, no seal: see :data:`SEAL_RECT`)."""
    buf = io.BytesIO()
    # The QR token also goes into /Keywords, so an offline verifier finds it without decoding the image.
    c = _canvas(
        buf,
        f"{doc.title} {doc.number}",
        f"{doc.title}（电子证照）",
        doc.issuer_name,
        f"{doc.identifier} {QR_KEYWORD_PREFIX}{doc.qr_text.rsplit('/', 1)[-1]}",
        licence_metadata(doc),
    )
    _draw_top_right(c, [f"证照编号：{doc.number}", f"版本：第{doc.version}版"])
    _draw_title(c, doc.title, _TITLE_Y)
    rows = [
        (doc.holder_label, doc.holder_name),
        ("统一社会信用代码", doc.holder_uscc),
        *doc.fields,
        ("有效期限", _validity(doc)),
        ("发证机关", doc.issuer_name),
        ("发证日期", cn_date(doc.issue_date)),
    ]
    _draw_table(c, rows, _TABLE_TOP, _TABLE_BOTTOM)
    _draw_qr(c, doc.qr_text)
    _draw_issuer(c, doc.issuer_name, doc.issue_date)
    _draw_footer(c, f"电子证照标识：{doc.identifier}")
    c.showPage()
    c.save()
    return buf.getvalue()


def _numbered(items: Sequence[str]) -> str:
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, 1)) if items else "无"


def render_receipt_pdf(doc: ReceiptDocument) -> bytes:
    """One-page A4 acceptance receipt (受理回执); same seal position as licences."""
    buf = io.BytesIO()
    c = _canvas(
        buf,
        f"受理回执 {doc.application_number}",
        f"受理回执：{doc.matter}",
        doc.department,
        f"{doc.application_number} {QR_KEYWORD_PREFIX}{doc.qr_text.rsplit('/', 1)[-1]}",  # as on licences
    )
    _draw_top_right(c, [f"编号：{doc.application_number}"])
    _draw_title(c, "受理回执", _TITLE_Y)
    missing = [f"{name}（请于{cn_date(due)}前补交）" for name, due in doc.materials_missing]
    rows = [("申请人", doc.applicant_name)]
    if doc.applicant_uscc:
        rows.append(("统一社会信用代码", doc.applicant_uscc))
    rows += [
        ("申请事项", doc.matter),
        ("申请编号", doc.application_number),
        ("受理日期", cn_date(doc.received_date)),
        ("已收材料", _numbered(doc.materials_received)),
        ("待补正材料", _numbered(missing)),
    ]
    note = doc.note or (
        f"{doc.applicant_name}：你（单位）提交的“{doc.matter}”申请，本机关已于{cn_date(doc.received_date)}受理。"
        + ("请在上述期限前补交待补正材料（容缺受理），逾期未补交的，本机关将依法作出处理。" if missing else "")
        + "可扫描左下方二维码核验本回执。"
    )
    note_lines = wrap_text(note, 10.5, _TABLE_X1 - _TABLE_X0 - 8 * MM)
    bottom = _draw_table(c, rows, _TABLE_TOP, _TABLE_BOTTOM + 7 * MM + len(note_lines) * 10.5 * 1.6)
    c.setFont(pdf_font(), 10.5)
    c.setFillColorRGB(0, 0, 0)
    y = bottom - 7 * MM
    for line in note_lines:
        c.drawString(_TABLE_X0 + 4 * MM, y, line)
        y -= 10.5 * 1.6
    _draw_qr(c, doc.qr_text)
    _draw_issuer(c, doc.department, doc.issue_date)
    _draw_footer(c, f"本回执由{doc.department}电子印章签章，经篡改无效")
    c.showPage()
    c.save()
    return buf.getvalue()
