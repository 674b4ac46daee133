"""Issue 16: an enterprise signs a PDF in the portal, in a browser, choosing the page and the position,
and gets the signed file; the form works on a phone and on a desktop."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.placement import MARGIN
from tests.support.browser import SHOTS, no_horizontal_scroll
from tests.support.documents import CJK_FONT, _canvas
from tests.support.service import make_enterprise

pytestmark = pytest.mark.browser


def _two_pages(path: Path) -> Path:
    buf, c = _canvas()
    for n in (1, 2):
        c.setFont(CJK_FONT, 14)
        c.drawString(72, 720, f"采购合同 第{n}页 / Purchase contract, page {n}")
        c.showPage()
    c.save()
    path.write_bytes(buf.getvalue())
    return path


def test_sign_a_pdf_on_a_chosen_page_and_position_and_download_it(live, base_url, browser, tmp_path) -> None:
    ent = make_enterprise(live, "深圳市浏览器签章有限公司")
    upload = _two_pages(tmp_path / "采购合同.pdf")
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", accept_downloads=True)
    context.set_default_timeout(30_000)
    try:
        page = context.new_page()
        page.goto(f"{base_url}/portal")
        page.fill("#token", ent.token)
        page.click("#signin")
        page.wait_for_url(f"{base_url}/portal/licences")
        page.click("nav.tabs >> text=签章")
        page.wait_for_url(f"{base_url}/portal/sign")
        assert no_horizontal_scroll(page)

        # a mistake first: page 3 of a two-page PDF is shown on the form, in both languages
        page.set_input_files("#file", str(upload))
        page.fill("#page", "3")
        page.click("#sign")
        page.wait_for_selector("#error")
        assert "页码有误 · page: the PDF has 2 pages; there is no page 3" in page.inner_text("#error")
        assert page.input_value("#page") == "3"
        page.screenshot(path=str(SHOTS / "portal-sign-error.png"), full_page=True)

        # then page 1, bottom left, with a reason: the signed PDF downloads
        page.set_input_files("#file", str(upload))
        page.fill("#page", "1")
        page.select_option("#position", "bottom-left")
        page.fill("#reason", "同意采购条款")
        page.fill("#location", "深圳市")
        page.screenshot(path=str(SHOTS / "portal-sign-phone.png"), full_page=True)
        with page.expect_download() as info:
            page.click("#sign")
        download = info.value
        assert download.suggested_filename == "采购合同-signed.pdf"
        signed = Path(download.path()).read_bytes()

        page.set_viewport_size({"width": 1280, "height": 900})
        assert no_horizontal_scroll(page)
        page.screenshot(path=str(SHOTS / "portal-sign-desktop.png"), full_page=True)
    finally:
        context.close()

    reader = PdfFileReader(BytesIO(signed))
    [sig] = reader.embedded_signatures
    assert sig.sig_object["/Reason"] == "同意采购条款" and sig.sig_object["/Location"] == "深圳市"
    widget = sig.sig_field
    first_page = reader.find_page_for_modification(0)[0].get_object()
    assert any(a.get_object() is widget for a in first_page["/Annots"])  # on page 1, as chosen
    assert [float(v) for v in widget["/Rect"]][:2] == pytest.approx([MARGIN, MARGIN], abs=1)  # bottom left
    v = live.client.post("/api/v1/verify", files={"file": ("s.pdf", signed, "application/pdf")}).json()
    assert v["verdict"] == "signed_by_enterprise" and v["signer"]["uscc"] == ent.uscc
