"""The CJK font: converted once, cached, registered once, covering rare name characters."""

import re

from reportlab.pdfbase import pdfmetrics

from signing import fonts

RARE = "䶮堃喆犇淼燊昇"


def test_rare_name_characters_are_covered() -> None:
    assert fonts.missing_chars(RARE) == ""


def test_missing_chars_reports_uncovered_characters_once() -> None:
    assert fonts.missing_chars("\U000f0000王\U000f0000 喆") == "\U000f0000"


def test_converted_font_is_truetype_in_the_cache_dir() -> None:
    path = fonts.ensure_ttf()
    assert path.parent == fonts.cache_dir()
    assert path.read_bytes()[:4] == b"\x00\x01\x00\x00"


def test_pdf_font_is_registered_once() -> None:
    assert fonts.pdf_font() == fonts.pdf_font() == fonts.PDF_FONT
    assert pdmetrics_face_file() == str(fonts.ensure_ttf())


def pdmetrics_face_file() -> str:
    return pdfmetrics.getFont(fonts.PDF_FONT).face.filename


def test_subset_tags_come_from_the_subset_characters() -> None:
    a = fonts.subset_tag("NotoSerifSC-Regular", [0, 32, 0x8425, 0x4E1A])
    assert re.fullmatch("[A-Z]{6}", a)
    assert fonts.subset_tag("NotoSerifSC-Regular", [0, 32, 0x8425, 0x4E1A]) == a
    assert fonts.subset_tag("NotoSerifSC-Regular", [0, 32, 0x4E1A, 0x8425]) != a
    assert fonts.subset_tag("NotoSansSC-Regular", [0, 32, 0x8425, 0x4E1A]) != a
