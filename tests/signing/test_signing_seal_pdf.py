"""PAdES sealing and later approval signatures, validated with pyHanko."""

import asyncio
import io

import pypdfium2 as pdfium
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel

from signing.layout import MARK_RECT, SEAL_RECT, render_licence_pdf
from signing.seal import seal_png
from signing.seal_pdf import add_signature, add_signature_async, seal_pdf, seal_pdf_async


@pytest.fixture
def sealed(pki, licence) -> bytes:
    return seal_pdf(render_licence_pdf(licence), pki.signer, field_name="Seal",
                    seal_png=seal_png(licence.seal_name, licence.seal_purpose, licence.seal_code),
                    rect=SEAL_RECT, reason="电子证照签发", location="广州")


def _signatures(pdf: bytes):
    return PdfFileReader(io.BytesIO(pdf)).embedded_signatures


def test_sealed_pdf_validates_intact_over_entire_file(pki, sealed) -> None:
    [sig] = _signatures(sealed)
    status = validate_pdf_signature(sig, pki.validation_context())
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE


def test_seal_is_a_certification_signature_allowing_form_filling(pki, sealed) -> None:
    [sig] = _signatures(sealed)
    assert sig.docmdp_level == MDPPerm.FILL_FORMS
    status = validate_pdf_signature(sig, pki.validation_context())
    assert status.docmdp_level == MDPPerm.FILL_FORMS
    assert "/DocMDP" in PdfFileReader(io.BytesIO(sealed)).root["/Perms"]


def test_seal_is_pades_sha256(sealed) -> None:
    [sig] = _signatures(sealed)
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert sig.md_algorithm == "sha256"


def test_seal_widget_covers_seal_rect_with_image_appearance(sealed) -> None:
    reader = PdfFileReader(io.BytesIO(sealed))
    [widget] = [a.get_object() for a in reader.root["/Pages"]["/Kids"][0].get_object()["/Annots"]]
    assert [float(v) for v in widget["/Rect"]] == [float(v) for v in SEAL_RECT]
    appearance = widget["/AP"]["/N"]
    assert b"Do" in appearance.data
    assert widget["/F"] & 4  # printed


def test_seal_is_visible_red_in_the_seal_rect(sealed) -> None:
    doc = pdfium.PdfDocument(sealed)
    doc.init_forms()
    scale = 100 / 72
    img = doc[0].render(scale=scale, may_draw_forms=True).to_pil().convert("RGB")
    x1, y1, x2, y2 = SEAL_RECT
    height = img.height
    crop = img.crop((int(x1 * scale), int(height - y2 * scale), int(x2 * scale), int(height - y1 * scale)))
    data = crop.tobytes()
    red = sum(1 for r, g, b in zip(data[0::3], data[1::3], data[2::3], strict=True)
              if r > 170 and g < 110 and b < 110)
    assert red > crop.width * crop.height // 20


def test_later_signature_keeps_the_seal_intact(pki, sealed) -> None:
    marked = add_signature(sealed, pki.signer, field_name="Mark", rect=MARK_RECT, reason="授权使用",
                           text_lines=["仅供 深圳市䶮堃贸易有限公司 用于 招投标资格审查", "有效期至2025年6月30日"])
    first, second = _signatures(marked)
    status = validate_pdf_signature(first, pki.validation_context())
    assert status.intact and status.valid
    assert status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
    assert status.modification_level <= ModificationLevel.FORM_FILLING
    assert status.docmdp_ok
    later = validate_pdf_signature(second, pki.validation_context())
    assert later.intact and later.valid
    assert later.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert second.docmdp_level is None


def test_later_signature_text_is_embedded_with_unicode_map(pki, sealed) -> None:
    marked = add_signature(sealed, pki.signer, field_name="Mark", rect=MARK_RECT, reason="授权使用",
                           text_lines=["仅供 深圳市䶮堃贸易有限公司 用于 招投标资格审查"])
    reader = PdfFileReader(io.BytesIO(marked))
    widget = reader.root["/Pages"]["/Kids"][0].get_object()["/Annots"][-1].get_object()
    assert widget["/T"] == "Mark"
    [text_layer] = widget["/AP"]["/N"]["/Resources"]["/XObject"].values()
    fonts = text_layer.get_object()["/Resources"]["/Font"]
    embedded = [f.get_object() for f in fonts.values() if "+" in str(f.get_object()["/BaseFont"])]
    assert embedded and all("/ToUnicode" in f and "/FontFile2" in f["/FontDescriptor"] for f in embedded)


def test_later_signature_with_image_only(pki, sealed) -> None:
    stamp = seal_png("深圳市䶮堃贸易有限公司", "电子营业执照签章", "9144030012345")
    signed = add_signature(sealed, pki.signer, field_name="Ent", rect=(70, 400, 183, 513), reason="企业签章",
                           appearance_png=stamp)
    status = validate_pdf_signature(_signatures(signed)[1], pki.validation_context())
    assert status.intact and status.valid


def test_add_signature_needs_some_appearance(pki, sealed) -> None:
    with pytest.raises(ValueError):
        add_signature(sealed, pki.signer, field_name="X", rect=MARK_RECT, reason="r", border_width=0)


def test_async_api_runs_inside_an_event_loop(pki, licence) -> None:
    async def go() -> bytes:
        pdf = await seal_pdf_async(render_licence_pdf(licence), pki.signer, field_name="Seal",
                                   seal_png=seal_png(licence.seal_name), rect=SEAL_RECT, reason="签发")
        return await add_signature_async(pdf, pki.signer, field_name="Mark", rect=MARK_RECT,
                                         reason="加注", text_lines=["仅供测试"])

    assert len(_signatures(asyncio.run(go()))) == 2


def test_without_bytes_reserved_pyhanko_estimates(pki, licence) -> None:
    pdf = seal_pdf(render_licence_pdf(licence), pki.signer, field_name="Seal",
                   seal_png=seal_png(licence.seal_name), rect=SEAL_RECT, reason="签发", bytes_reserved=None)
    assert validate_pdf_signature(_signatures(pdf)[0], pki.validation_context()).intact
