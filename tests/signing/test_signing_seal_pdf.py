"""PAdES sealing and later approval signatures, validated with pyHanko."""

import io

import pypdfium2 as pdfium
import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel

from signing.layout import MARK_RECT, SEAL_RECT, render_licence_pdf
from signing.pipeline import LEGACY_MARK_FIELD, MARK_FIELD, MARK_PAGE_RECT, MARK_TOOLTIP, SEAL_FIELD, mark, seal
from signing.seal import seal_png
from signing.seal_pdf import add_signature, add_signature_async, run_sync, seal_pdf, seal_pdf_async
from tests.support.pdfcheck import visible_text
from tests.support.signing import seal_job

MARK_LINES = ["仅供 深圳市䶮堃贸易有限公司 用于 招投标资格审查", "有效期至2025年6月30日"]


def _validate(sig, vc):
    """pyHanko's validation via run_sync: its sync wrapper fails when a loop already runs."""
    return run_sync(async_validate_pdf_signature(sig, vc))


@pytest.fixture
def sealed(pki, licence) -> bytes:
    key = pki.seal_key()
    return run_sync(seal(seal_job(licence, key), key)).pdf


def _signatures(pdf: bytes):
    return PdfFileReader(io.BytesIO(pdf)).embedded_signatures


def _widgets(pdf: bytes) -> list:
    page = PdfFileReader(io.BytesIO(pdf)).root["/Pages"]["/Kids"][0].get_object()
    return [a.get_object() for a in page["/Annots"]]


def test_sealed_pdf_validates_intact_over_entire_file(pki, sealed) -> None:
    [sig] = _signatures(sealed)
    status = _validate(sig, pki.validation_context())
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE


def test_seal_is_a_certification_signature_allowing_form_filling(sealed) -> None:
    [sig] = _signatures(sealed)
    assert sig.docmdp_level == MDPPerm.FILL_FORMS
    assert "/DocMDP" in PdfFileReader(io.BytesIO(sealed)).root["/Perms"]


def test_seal_is_pades_sha256(sealed) -> None:
    [sig] = _signatures(sealed)
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert sig.md_algorithm == "sha256"


def test_seal_widget_covers_seal_rect(sealed) -> None:
    [widget] = [w for w in _widgets(sealed) if w["/T"] == SEAL_FIELD]
    assert [float(v) for v in widget["/Rect"]] == [float(v) for v in SEAL_RECT]
    assert b"Do" in widget["/AP"]["/N"].data
    assert widget["/F"] & 4  # printed


def test_seal_is_visible_red_in_the_seal_rect(sealed) -> None:
    doc = pdfium.PdfDocument(sealed)
    doc.init_forms()
    scale = 100 / 72
    img = doc[0].render(scale=scale, may_draw_forms=True).to_pil().convert("RGB")
    x1, y1, x2, y2 = SEAL_RECT
    crop = img.crop((int(x1 * scale), int(img.height - y2 * scale), int(x2 * scale), int(img.height - y1 * scale)))
    data = crop.tobytes()
    red = sum(1 for r, g, b in zip(data[0::3], data[1::3], data[2::3], strict=True) if r > 170 and g < 110 and b < 110)
    assert red > crop.width * crop.height // 20


def test_mark_field_is_reserved_empty_over_the_whole_page(sealed) -> None:
    """An appearance cannot reach outside its field: the watermark needs the field to span the page."""
    [widget] = [w for w in _widgets(sealed) if w["/T"] == MARK_FIELD]
    assert "/V" not in widget
    assert [float(v) for v in widget["/Rect"]] == [round(v) for v in MARK_PAGE_RECT]


def test_reserved_mark_field_is_hidden_with_a_readable_name_until_marked(pki, sealed) -> None:
    [empty] = [w for w in _widgets(sealed) if w["/T"] == MARK_FIELD]
    assert int(empty["/F"]) & 2  # hidden: readers draw no "click to sign" placeholder
    assert empty["/TU"] == MARK_TOOLTIP
    marked = run_sync(mark(sealed, pki.signer, lines=MARK_LINES, reason="授权使用加注"))
    [filled] = [w for w in _widgets(marked) if w["/T"] == MARK_FIELD]
    assert int(filled["/F"]) & 2 == 0 and int(filled["/F"]) & 4  # shown and printed


def test_licence_sealed_with_the_old_visible_mark_field_is_still_marked(pki, licence) -> None:
    """Licences sealed before the field was renamed and hidden carry a visible empty "Mark"."""
    writer = IncrementalPdfFileWriter(io.BytesIO(render_licence_pdf(licence)))
    box = tuple(round(v) for v in MARK_RECT)
    fields.append_signature_field(writer, fields.SigFieldSpec(sig_field_name=LEGACY_MARK_FIELD, on_page=0, box=box))
    out = io.BytesIO()
    writer.write(out)
    stamp = seal_png(licence.seal_name)
    old = seal_pdf(out.getvalue(), pki.signer, field_name=SEAL_FIELD, seal_png=stamp, rect=SEAL_RECT, reason="签发")
    marked = run_sync(mark(old, pki.signer, lines=MARK_LINES, reason="授权使用加注"))
    first, second = _signatures(marked)
    assert second.field_name == LEGACY_MARK_FIELD
    status = _validate(first, pki.validation_context())
    assert status.intact and status.modification_level == ModificationLevel.FORM_FILLING


def test_a_licence_sealed_with_the_mark_field_at_the_box_only_gets_the_box(pki, licence) -> None:
    """Before the watermark the field was reserved at MARK_RECT: its appearance cannot reach the page,
    so such a licence's marked copy carries the box alone, and its seal stays plain form filling."""
    stamp = seal_png(licence.seal_name)
    old = seal_pdf(
        render_licence_pdf(licence),
        pki.signer,
        field_name=SEAL_FIELD,
        seal_png=stamp,
        rect=SEAL_RECT,
        reason="签发",
        reserve_fields=[(MARK_FIELD, MARK_RECT, MARK_TOOLTIP)],
    )
    marked = run_sync(
        mark(old, pki.signer, lines=MARK_LINES, reason="授权使用加注", watermark="仅供 X 用于 Y 2026-12-02")
    )
    [widget] = [w for w in _widgets(marked) if w["/T"] == MARK_FIELD]
    assert [float(v) for v in widget["/Rect"]] == [float(v) for v in MARK_RECT]
    assert "2026-12-02" not in visible_text(marked)
    status = _validate(_signatures(marked)[0], pki.validation_context())
    assert status.intact and status.modification_level == ModificationLevel.FORM_FILLING


def test_the_watermark_is_drawn_across_the_page_in_the_mark_field(pki, sealed) -> None:
    marked = run_sync(
        mark(sealed, pki.signer, lines=MARK_LINES, reason="授权使用加注", watermark="仅供 X 用于 Y 2026-12-02")
    )
    text = visible_text(marked)
    assert text.count("2026-12-02") >= 6 and "有效期至2025年6月30日" in text.replace("\r\n", "")
    status = _validate(_signatures(marked)[0], pki.validation_context())
    assert status.intact and status.modification_level == ModificationLevel.FORM_FILLING


def test_marking_keeps_the_seal_intact_as_form_filling(pki, sealed) -> None:
    marked = run_sync(mark(sealed, pki.signer, lines=MARK_LINES, reason="授权使用加注"))
    first, second = _signatures(marked)
    status = _validate(first, pki.validation_context())
    assert status.intact and status.valid
    assert status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
    assert status.modification_level == ModificationLevel.FORM_FILLING
    assert status.docmdp_ok
    later = _validate(second, pki.validation_context())
    assert later.intact and later.valid
    assert later.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert second.docmdp_level is None


def test_mark_text_is_embedded_with_unicode_map(pki, sealed) -> None:
    marked = run_sync(mark(sealed, pki.signer, lines=MARK_LINES, reason="授权使用加注"))
    [widget] = [w for w in _widgets(marked) if w["/T"] == MARK_FIELD]
    layers = [x.get_object() for x in widget["/AP"]["/N"]["/Resources"]["/XObject"].values()]
    fonts = [f.get_object() for layer in layers for f in layer["/Resources"]["/Font"].values()]
    assert fonts
    assert all("+" in str(f["/BaseFont"]) and "/ToUnicode" in f and "/FontFile2" in f["/FontDescriptor"] for f in fonts)


def test_mark_field_cannot_be_signed_twice(pki, sealed) -> None:
    marked = run_sync(mark(sealed, pki.signer, lines=MARK_LINES, reason="授权使用加注"))
    with pytest.raises(ValueError, match="already signed"):
        run_sync(mark(marked, pki.signer, lines=MARK_LINES, reason="授权使用加注"))


def test_new_visible_field_after_certification_is_flagged(pki, sealed) -> None:
    stamp = seal_png("深圳市䶮堃贸易有限公司", "电子营业执照签章", "9144030012345")
    signed = add_signature(
        sealed, pki.signer, field_name="Ent", rect=(70, 400, 183, 513), reason="企业签章", appearance_png=stamp
    )
    first, second = _signatures(signed)
    assert _validate(second, pki.validation_context()).valid
    status = _validate(first, pki.validation_context())
    assert status.modification_level == ModificationLevel.OTHER


def test_new_field_on_an_approval_sealed_pdf_is_form_filling(pki, licence) -> None:
    pdf = seal_pdf(
        render_licence_pdf(licence),
        pki.signer,
        field_name="Seal",
        seal_png=seal_png(licence.seal_name),
        rect=SEAL_RECT,
        reason="签发",
        certify=False,
    )
    signed = add_signature(
        pdf,
        pki.signer,
        field_name="Ent",
        rect=(70, 400, 183, 513),
        reason="企业签章",
        text_lines=["同意"],
        appearance_png=seal_png("深圳市䶮堃贸易有限公司"),
    )
    status = _validate(_signatures(signed)[0], pki.validation_context())
    assert status.intact and status.modification_level == ModificationLevel.FORM_FILLING


def test_add_signature_needs_some_appearance(pki, sealed) -> None:
    with pytest.raises(ValueError, match="appearance"):
        add_signature(sealed, pki.signer, field_name=MARK_FIELD, reason="r")


def test_add_signature_needs_rect_for_a_new_field(pki, sealed) -> None:
    with pytest.raises(ValueError, match="no empty signature field"):
        add_signature(sealed, pki.signer, field_name="Other", reason="r", text_lines=["x"])


def test_async_api_runs_inside_an_event_loop(pki, licence) -> None:
    async def go() -> bytes:
        pdf = await seal_pdf_async(
            render_licence_pdf(licence),
            pki.signer,
            field_name="Seal",
            seal_png=seal_png(licence.seal_name),
            rect=SEAL_RECT,
            reason="签发",
            reserve_fields=[("M", MARK_RECT, "")],
        )
        return await add_signature_async(pdf, pki.signer, field_name="M", reason="加注", text_lines=["仅供测试"])

    assert len(_signatures(run_sync(go()))) == 2


def test_without_bytes_reserved_pyhanko_estimates(pki, licence) -> None:
    pdf = seal_pdf(
        render_licence_pdf(licence),
        pki.signer,
        field_name="Seal",
        seal_png=seal_png(licence.seal_name),
        rect=SEAL_RECT,
        reason="签发",
        bytes_reserved=None,
    )
    assert _validate(_signatures(pdf)[0], pki.validation_context()).intact


def test_receipt_is_sealed_and_valid(pki, receipt) -> None:
    key = pki.seal_key()
    pdf = run_sync(seal(seal_job(receipt, key), key)).pdf
    [sig] = _signatures(pdf)
    status = _validate(sig, pki.validation_context())
    assert status.intact and status.valid and status.coverage == SignatureCoverageLevel.ENTIRE_FILE


def test_sync_wrapper_works_inside_a_running_event_loop(pki, licence) -> None:
    async def inside() -> bytes:
        return seal_pdf(
            render_licence_pdf(licence),
            pki.signer,
            field_name="Seal",
            seal_png=seal_png(licence.seal_name),
            rect=SEAL_RECT,
            reason="签发",
        )

    assert len(_signatures(run_sync(inside()))) == 1
