"""Licence and receipt pages: text, QR, fonts, metadata, geometry."""

import io
from dataclasses import replace

import pypdf
import pypdfium2 as pdfium
import pytest
import zxingcpp

from signing.layout import (
    MARK_RECT,
    PAGE_SIZE,
    QR_RECT,
    SEAL_RECT,
    render_licence_pdf,
    render_receipt_pdf,
    wrap_text,
)
from tests.support.signing import RARE_NAME, qr_url


def _text(pdf: bytes) -> str:
    page = pdfium.PdfDocument(pdf)[0]
    return page.get_textpage().get_text_range()


def _compact(text: str) -> str:
    return "".join(text.split())


def test_licence_text_has_holder_number_and_rare_name(licence) -> None:
    text = _compact(_text(render_licence_pdf(licence)))
    assert RARE_NAME in text
    assert licence.number in text
    assert licence.holder_uscc in text
    assert "食品经营许可证" in text.replace(" ", "") or "食品经营许可证" in _compact(text)


def test_long_values_wrap_and_stay_complete(licence) -> None:
    text = _compact(_text(render_licence_pdf(licence)))
    value = dict(licence.fields)["经营项目"]
    assert _compact(value) in text


def test_wrap_text_breaks_long_chinese_without_leading_punctuation() -> None:
    lines = wrap_text("热食类食品制售；冷食类食品制售（不含生食）；生食类食品制售。" * 3, 11, 120)
    assert len(lines) > 3
    assert all(not line.startswith(("；", "。", "）")) for line in lines)
    assert all(not line.endswith("（") for line in lines)


def test_wrap_text_keeps_latin_runs_whole() -> None:
    lines = wrap_text("地址 Room 1801-1805 Fuli Yingxin Building", 11, 90)
    assert "1801-1805" in lines[0] + lines[1] or any("1801-1805" in line for line in lines)


def test_permanent_validity_prints_long_term(licence) -> None:
    text = _compact(_text(render_licence_pdf(replace(licence, valid_until=None))))
    assert "长期有效" in text


def test_qr_on_page_decodes_at_150_dpi(licence) -> None:
    assert len(licence.qr_text) == 330
    image = pdfium.PdfDocument(render_licence_pdf(licence))[0].render(scale=150 / 72).to_pil()
    results = zxingcpp.read_barcodes(image)
    assert [r.text for r in results] == [licence.qr_text]


def test_fonts_are_embedded_and_no_standard_font_is_referenced(licence) -> None:
    reader = pypdf.PdfReader(io.BytesIO(render_licence_pdf(licence)))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert fonts
    for ref in fonts.values():
        font = ref.get_object()
        assert "/FontFile2" in font["/FontDescriptor"]
        assert "+" in font["/BaseFont"]  # subset prefix


def test_metadata_title_and_producer(licence) -> None:
    meta = pypdf.PdfReader(io.BytesIO(render_licence_pdf(licence))).metadata
    assert meta.title == f"{licence.title} {licence.number}"
    assert meta.producer.startswith("certsvc")
    assert meta.creator == "certsvc"


def test_page_is_a4_and_rects_are_disjoint_and_on_the_page() -> None:
    w, h = PAGE_SIZE
    for x1, y1, x2, y2 in (SEAL_RECT, QR_RECT, MARK_RECT):
        assert 0 < x1 < x2 < w and 0 < y1 < y2 < h
    assert QR_RECT[2] < SEAL_RECT[0]
    assert abs((SEAL_RECT[2] - SEAL_RECT[0]) - 40 * 72 / 25.4) < 1


def test_too_much_content_raises(licence) -> None:
    huge = replace(licence, fields=[(f"项目{i}", "很长的经营范围说明文字" * 30) for i in range(12)])
    with pytest.raises(ValueError, match="does not fit"):
        render_licence_pdf(huge)


def test_receipt_lists_materials_and_due_dates(receipt) -> None:
    text = _compact(_text(render_receipt_pdf(receipt)))
    assert "受理回执" in text
    assert receipt.application_number in text
    assert "营业执照复印件" in text
    assert "从业人员健康证明（请于2025年3月20日前补交）" in text


def test_receipt_qr_decodes(receipt) -> None:
    image = pdfium.PdfDocument(render_receipt_pdf(receipt))[0].render(scale=150 / 72).to_pil()
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [receipt.qr_text]


def test_qr_url_helper_length() -> None:
    assert len(qr_url(340)) == 340


def test_concurrent_renders_keep_their_own_text(licence) -> None:
    from concurrent.futures import ThreadPoolExecutor

    docs = [replace(licence, number=f"JY{i:014d}", holder_name=f"{RARE_NAME}{i}") for i in range(24)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        pdfs = list(pool.map(render_licence_pdf, docs))
    for doc, pdf in zip(docs, pdfs, strict=True):
        text = _compact(_text(pdf))
        assert doc.number in text and doc.holder_name in text


def test_title_is_drawn_in_black_ink(licence) -> None:
    """The title is drawn as outlines (over an invisible text run): the ink must be there."""
    page = pdfium.PdfDocument(render_licence_pdf(licence))[0].render(scale=1).to_pil().convert("L")
    top = page.height - round(PAGE_SIZE[1] - 46 * 72 / 25.4) - 30  # 30 pt type on its baseline
    band = page.crop((0, top, page.width, top + 30))
    dark = sum(n for n, v in band.getcolors(band.width * band.height) or [] if v < 80)
    assert dark > 300


def test_title_extracts_as_one_word(licence) -> None:
    assert licence.title in _text(render_licence_pdf(licence))  # not 食 品 经 营 …
