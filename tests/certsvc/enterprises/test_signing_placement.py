"""`POST /api/v1/enterprise/sign` with a page, a position (mm from the top-left corner) or a named
empty field, a reason and a location; a download named after the upload; a seal with nothing
printed across it; and counter-signing by a second enterprise."""

from __future__ import annotations

import re
import shutil
import subprocess
from io import BytesIO
from pathlib import Path
from urllib.parse import unquote

import pytest
from PIL import Image
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation.status import SignatureCoverageLevel
from reportlab.lib.pagesizes import A4

from certsvc.enterprises.signature import signed_filename
from signing.placement import MARGIN, MM, SEAL_SIZE
from tests.support.documents import CJK_FONT, _canvas, plain_pdf
from tests.support.pdfcheck import signature_status
from tests.support.service import Ent, Service, make_enterprise

W, H = A4
CAPTION = SEAL_SIZE * 0.2


@pytest.fixture(scope="module")
def signer(service: Service) -> Ent:
    return make_enterprise(service, "深圳市鹏城贸易有限公司")


@pytest.fixture(scope="module")
def partner(service: Service) -> Ent:
    return make_enterprise(service, "广州市羊城商贸有限公司")


def three_pages() -> bytes:
    buf, c = _canvas()
    for n in (1, 2, 3):
        c.setFont(CJK_FONT, 14)
        c.drawString(72, 720, f"购销合同 第{n}页 / Sales contract, page {n}")
        c.showPage()
    c.save()
    return buf.getvalue()


def with_empty_field(pdf: bytes, name: str, box: tuple[int, int, int, int], page: int = 0) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    fields.append_signature_field(writer, fields.SigFieldSpec(sig_field_name=name, on_page=page, box=box))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def sign(service: Service, who: Ent, pdf: bytes, name: str = "合同.pdf", **form: object):
    data = {k: str(v) for k, v in form.items()}
    return service.client.post(
        "/api/v1/enterprise/sign", headers=who.auth, files={"file": (name, pdf, "application/pdf")}, data=data
    )


def signed_ok(service: Service, who: Ent, pdf: bytes, **form: object) -> bytes:
    r = sign(service, who, pdf, **form)
    assert r.status_code == 200, r.text
    return r.content


def widget(pdf: bytes, index: int = -1) -> tuple[int, tuple[float, ...], object]:
    """(page index, rect, signature object) of the ``index``-th embedded signature's widget."""
    reader = PdfFileReader(BytesIO(pdf))
    sig = reader.embedded_signatures[index]
    field = sig.sig_field
    annot = field if "/Rect" in field else field["/Kids"][0].get_object()
    pages = [reader.find_page_for_modification(i)[0] for i in range(int(reader.root["/Pages"]["/Count"]))]
    [page] = [
        i for i, ref in enumerate(pages) if any(a.get_object() is annot for a in ref.get_object().get("/Annots", []))
    ]
    return page, tuple(float(v) for v in annot["/Rect"]), sig


def refused(r, field: str, words: str) -> None:
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["field"] == field, error
    assert words in error["message"], error["message"]


# --- where ------------------------------------------------------------------------------------------


def test_by_default_the_seal_goes_to_the_lower_right_of_the_last_page(service, signer) -> None:
    page, rect, _sig = widget(signed_ok(service, signer, three_pages()))
    assert page == 2
    assert rect == pytest.approx((W - MARGIN - SEAL_SIZE, MARGIN, W - MARGIN, MARGIN + SEAL_SIZE + CAPTION), abs=1)


def test_a_chosen_page(service, signer) -> None:
    page, _rect, _sig = widget(signed_ok(service, signer, three_pages(), page=1))
    assert page == 0


def test_a_chosen_position_in_mm_from_the_top_left_corner_is_the_seals_centre(service, signer) -> None:
    page, (x1, y1, x2, y2), _sig = widget(signed_ok(service, signer, three_pages(), page=2, x=150, y=100))
    assert page == 1
    assert (x1 + x2) / 2 == pytest.approx(150 * MM, abs=1)
    assert y2 - SEAL_SIZE / 2 == pytest.approx(H - 100 * MM, abs=1)  # the seal's centre; the caption hangs below
    assert (x2 - x1, y2 - y1) == pytest.approx((SEAL_SIZE, SEAL_SIZE + CAPTION), abs=1)


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        ("bottom-left", (MARGIN, MARGIN)),
        ("top-right", (W - MARGIN - SEAL_SIZE, H - MARGIN - SEAL_SIZE - CAPTION)),
        ("bottom-centre", ((W - SEAL_SIZE) / 2, MARGIN)),
    ],
)
def test_a_named_position(service, signer, position, expected) -> None:
    _page, rect, _sig = widget(signed_ok(service, signer, plain_pdf(), position=position))
    assert rect[:2] == pytest.approx(expected, abs=1)


def test_a_named_empty_field_is_signed_where_it_is(service, signer) -> None:
    pdf = with_empty_field(three_pages(), "乙方签章", (300, 200, 450, 330), page=1)
    page, rect, sig = widget(signed_ok(service, signer, pdf, field="乙方签章"))
    assert sig.field_name == "乙方签章" and page == 1
    assert rect == pytest.approx((300, 200, 450, 330), abs=1)


def test_reason_and_location_are_in_the_signature(service, signer) -> None:
    _page, _rect, sig = widget(signed_ok(service, signer, plain_pdf(), reason="同意合同条款", location="深圳市南山区"))
    assert sig.sig_object["/Reason"] == "同意合同条款" and sig.sig_object["/Location"] == "深圳市南山区"


def test_without_a_reason_the_signature_says_whose_it_is(service, signer) -> None:
    _page, _rect, sig = widget(signed_ok(service, signer, plain_pdf()))
    assert sig.sig_object["/Reason"] == f"{signer.name} 电子营业执照签章" and "/Location" not in sig.sig_object


# --- what is refused, naming the parameter ------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "field", "words"),
    [
        ({"page": 5}, "page", "the PDF has 3 pages; there is no page 5"),
        ({"page": 0}, "page", "numbered from 1"),
        ({"page": -2}, "page", "-1"),
        ({"page": "last"}, "page", "integer"),
        ({"x": 100}, "y", "give both x and y"),
        ({"y": 100}, "x", "give both x and y"),
        ({"x": 205, "y": 100}, "x", "lies off the page, which is 210 mm wide"),
        ({"x": 100, "y": 290}, "y", "lies off the page, which is 297 mm high"),
        ({"x": "nan", "y": 100}, "x", ""),
        ({"field": "甲方签章"}, "field", "no signature field named '甲方签章'"),
        ({"position": "middle"}, "position", "'middle' is not one of bottom-right"),
        ({"position": "top-left", "x": 50, "y": 50}, "position", "not both"),
        ({"field": "甲方签章", "x": 100, "y": 100}, "field", "not both"),
        ({"reason": "理" * 201}, "reason", "200"),
        ({"location": "深圳\x07"}, "location", "control character"),
    ],
)
def test_a_placement_the_document_cannot_take_is_422_naming_the_parameter(service, signer, form, field, words) -> None:
    refused(sign(service, signer, three_pages(), **form), field, words)


def test_a_field_already_signed_is_422(service, signer) -> None:
    pdf = signed_ok(service, signer, with_empty_field(plain_pdf(), "甲方签章", (72, 300, 200, 430)), field="甲方签章")
    refused(sign(service, signer, pdf, field="甲方签章"), "field", "'甲方签章' is already signed")


def test_a_missing_field_lists_the_empty_ones(service, signer) -> None:
    pdf = with_empty_field(plain_pdf(), "甲方签章", (72, 300, 200, 430))
    refused(sign(service, signer, pdf, field="乙方"), "field", "its empty signature fields are '甲方签章'")


# --- the download ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uploaded", "expected"),
    [("购销合同（2026）.pdf", "购销合同（2026）-signed.pdf"), ("C:\\fakepath\\Offer 1.PDF", "Offer 1-signed.pdf")],
)
def test_the_download_is_named_after_the_upload(service, signer, uploaded, expected) -> None:
    r = sign(service, signer, plain_pdf(), name=uploaded)
    assert r.status_code == 200, r.text
    header = r.headers["content-disposition"]
    assert header.startswith("attachment;") and header.isascii()
    star = re.search(r"filename\*=UTF-8''(\S+)", header)
    name = unquote(star.group(1)) if star else re.search(r'filename="([^"]+)"', header).group(1)
    assert name == expected


@pytest.mark.parametrize(("uploaded", "expected"), [("", "document"), ("../.pdf", "document"), ("a/b\\c.pdf", "c")])
def test_a_name_with_nothing_left_falls_back_to_document(uploaded, expected) -> None:
    assert signed_filename(uploaded) == f"{expected}-signed.pdf"


# --- how it looks ------------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("mutool") is None, reason="needs mupdf-tools")
def test_nothing_is_printed_across_the_seal_and_the_caption_is_below_it(service, signer, tmp_path: Path) -> None:
    """Rendered by MuPDF at 2 px per point: the seal's square has red and no dark ink; the caption band has text."""
    pdf = signed_ok(service, signer, plain_pdf(), x=100, y=150)
    _page, (x1, y1, x2, y2), _sig = widget(pdf)
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    png = tmp_path / "signed.png"
    subprocess.run(["mutool", "draw", "-q", "-r", "144", "-o", str(png), str(path), "1"], check=True, timeout=60)
    img = Image.open(png).convert("RGB")

    def area(left: float, top: float, right: float, bottom: float) -> list[tuple[int, int, int]]:
        data = img.crop((round(2 * left), round(2 * top), round(2 * right), round(2 * bottom))).tobytes()
        return list(zip(data[0::3], data[1::3], data[2::3], strict=True))

    seal = area(x1, H - y2, x2, H - y2 + SEAL_SIZE)
    caption = area(x1, H - y1 - CAPTION, x2, H - y1)
    red = sum(1 for r, g, b in seal if r > 150 and g < 110 and b < 110)
    assert red > len(seal) // 20
    assert not [p for p in seal if max(p) < 100]  # no black text across the seal
    assert sum(1 for p in caption if max(p) < 100) > 50  # dark caption text under it
    crop = ["-x", str(round(x1)), "-y", str(round(H - y1 - CAPTION)), "-W", str(round(x2 - x1))]
    crop += ["-H", str(round(CAPTION))]
    text = subprocess.run(["pdftotext", *crop, str(path), "-"], capture_output=True, text=True, timeout=60).stdout
    assert "签章时间" in text and signer.name in text


# --- counter-signing ---------------------------------------------------------------------------------


def test_a_second_enterprise_counter_signs_beside_the_first_and_both_verify(service, signer, partner) -> None:
    first = signed_ok(service, signer, plain_pdf("购销合同 / Sales contract"))
    both = signed_ok(service, partner, first)
    assert both.startswith(first)  # an incremental update: the first signature's bytes untouched
    (_p1, r1, _s1), (_p2, r2, _s2) = widget(both, 0), widget(both, 1)
    assert r2[2] <= r1[0]  # the counter-signature sits left of the first, not on it
    v = service.client.post("/api/v1/verify", files={"file": ("c.pdf", both, "application/pdf")}).json()
    assert v["verdict"] == "signed_by_enterprise", v["checks"]
    assert [s["uscc"] for s in v["signers"]] == [signer.uscc, partner.uscc]
    _sig, status = signature_status(service.ctx, both, 0)
    assert status.intact and status.valid and status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
    assert status.modification_level == ModificationLevel.FORM_FILLING


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="needs poppler-utils")
def test_pdfsig_reads_both_signatures_of_a_counter_signed_pdf_as_valid(service, signer, partner, tmp_path) -> None:
    path = tmp_path / "both.pdf"
    path.write_bytes(signed_ok(service, partner, signed_ok(service, signer, plain_pdf())))
    out = subprocess.run(["pdfsig", "-nocert", str(path)], capture_output=True, text=True, timeout=60).stdout
    assert out.count("Signature Validation: Signature is Valid.") == 2, out
    assert "EnterpriseSignature1" in out and "EnterpriseSignature2" in out
