"""Issue 16 in a browser (one Chromium, phone and desktop): the enterprise downloads its originals,
refreshes the grant-created page without a second grant, and shows a live QR code (亮照) that a
counter clerk opens; the code's expiry is seen through the service's clock (the server runs in
this process)."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from pathlib import Path

import pytest

from certsvc.core import clock
from tests.support.browser import SHOTS, no_horizontal_scroll
from tests.support.service import make_enterprise

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


def _qr_text(png: bytes) -> str:
    import zxingcpp
    from PIL import Image

    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))
    return found[0].text if found else ""


def _sign_in(page, base_url: str, token: str) -> None:
    page.goto(f"{base_url}/portal")
    page.fill("#token", token)
    page.click("#signin")
    page.wait_for_url(f"{base_url}/portal/licences")


@pytest.fixture(scope="module")
def ent(live):
    return make_enterprise(live, "深圳市亮照餐饮管理有限公司")


def test_download_originals_and_grant_without_duplicates(live, base_url, phone, ent) -> None:
    page = phone(accept_downloads=True).new_page()
    _sign_in(page, base_url, ent.token)
    page.screenshot(path=str(SHOTS / "b-portal-licences-phone.png"), full_page=True)
    assert no_horizontal_scroll(page)
    assert page.locator("#files a[href='/portal/receipts']").is_visible()

    # --- the original of each licence, from the licences page ------------------------------------
    for lic in (ent.food_licence, ent.business_licence):
        with page.expect_download() as dl:
            page.click(f"a[data-original='{lic['id']}']")
        assert dl.value.suggested_filename == f"{lic['number']}-v1.pdf"
        assert hashlib.sha256(Path(dl.value.path()).read_bytes()).hexdigest() == lic["sha256"]

    # --- a grant, then the page it lands on refreshed: still one grant ----------------------------
    page.goto(f"{base_url}/portal/grants")
    page.check(f"input[name=licence_ids][value='{ent.food_licence['id']}']")
    page.fill("#grantee_name", "中国工商银行深圳分行")
    page.fill("#purpose", "办理贷款")
    page.click("#create-grant")
    page.wait_for_url(f"{base_url}/portal/grants/*?created=1")
    assert page.locator(".status .big").inner_text() == "授权已创建"
    share_url = page.input_value("#share-url").strip()
    for _ in range(2):
        resp = page.reload()
        assert resp is not None and resp.status == 200 and resp.request.method == "GET"
    assert page.input_value("#share-url").strip() == share_url
    qr = page.locator("#share-qr")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0"), "the grant's QR image did not load"
    assert _qr_text(qr.screenshot()) == share_url
    page.screenshot(path=str(SHOTS / "b-portal-grant-page-phone.png"), full_page=True)
    assert no_horizontal_scroll(page)
    grants = live.client.get("/api/v1/enterprise/grants", headers=ent.auth).json()["items"]
    assert len(grants) == 1


def test_show_a_live_code_and_open_it(live, base_url, browser, phone, ent) -> None:
    page = phone().new_page()
    _sign_in(page, base_url, ent.token)
    page.click("nav.tabs >> text=亮照")
    page.wait_for_url(f"{base_url}/portal/show")
    page.screenshot(path=str(SHOTS / "b-portal-show-form-phone.png"), full_page=True)
    assert no_horizontal_scroll(page)
    page.select_option("#expires_in_seconds", "30")
    page.click("#create-show")
    page.wait_for_url(f"{base_url}/portal/show/*")
    refresh = page.locator("meta[http-equiv=refresh]").get_attribute("content")
    assert refresh is not None and 1 <= int(refresh) <= 15
    qr = page.locator("#show-qr")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0"), "the live QR image did not load"
    assert qr.bounding_box()["width"] >= 300  # large enough to scan across a counter
    url = _qr_text(qr.screenshot())
    assert url.startswith(f"{base_url}/l/")
    page.screenshot(path=str(SHOTS / "b-portal-show-code-phone.png"), full_page=True)
    assert no_horizontal_scroll(page)

    # --- the clerk scans it on a desk computer ---------------------------------------------------------
    desk = browser.new_context(**DESKTOP)
    try:
        clerk = desk.new_page()
        resp = clerk.goto(url)
        assert resp is not None and resp.status == 200
        text = clerk.locator("main").inner_text()
        assert ent.name in text and ent.food_licence["number"] in text and ent.business_licence["number"] in text
        assert "经营场所" not in text  # public views only
        clerk.screenshot(path=str(SHOTS / "b-show-open-desktop.png"), full_page=True)
        assert no_horizontal_scroll(clerk)
        owner = desk.new_page()
        _sign_in(owner, base_url, ent.token)
        owner.goto(page.url)
        owner.screenshot(path=str(SHOTS / "b-portal-show-code-desktop.png"), full_page=True)
        assert no_horizontal_scroll(owner)

        # --- later: the code has expired (the service's clock moved on) ---------------------------
        with clock.frozen(clock.now() + timedelta(seconds=31)):
            resp = clerk.reload()
            assert resp is not None and resp.status == 410
            assert clerk.locator(".status[data-state=expired]").is_visible()
            clerk.screenshot(path=str(SHOTS / "b-show-expired-desktop.png"), full_page=True)
            page.reload()
            assert page.locator("#show-expired").is_visible()
            assert page.locator("meta[http-equiv=refresh]").count() == 0
            page.screenshot(path=str(SHOTS / "b-portal-show-expired-phone.png"), full_page=True)
        page.click("#renew-show")
        page.wait_for_url(f"{base_url}/portal/show/*")
        assert page.locator("#show-qr").is_visible()
    finally:
        desk.close()
