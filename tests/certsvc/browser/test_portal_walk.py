"""Issue 4: the enterprise portal walked in a browser, and the grantee's side of a share link."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.support.browser import SHOTS, no_horizontal_scroll
from tests.support.service import make_enterprise

pytestmark = pytest.mark.browser


def _qr_text(png: bytes) -> str | None:
    try:
        import zxingcpp
        from PIL import Image
    except ImportError:
        return None
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))
    return found[0].text if found else ""


def test_portal_sign_in_share_download_revoke(live, base_url, phone) -> None:
    ent = make_enterprise(live, "深圳市鹏城门户贸易有限公司")
    food_id, bl_id = ent.food_licence["id"], ent.business_licence["id"]

    # --- the enterprise signs in with its token -------------------------------------------------
    owner = phone()
    page = owner.new_page()
    resp = page.goto(f"{base_url}/portal")
    assert resp is not None and resp.status == 200
    page.screenshot(path=str(SHOTS / "portal-signin.png"), full_page=True)
    assert no_horizontal_scroll(page)
    page.fill("#token", ent.token)
    page.click("#signin")
    page.wait_for_url(f"{base_url}/portal/licences")
    cookie = next(c for c in owner.cookies() if c["name"] == "certsvc_portal")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/portal"
    assert ent.token not in cookie["value"]

    # --- all its licences, every department ------------------------------------------------------
    page.screenshot(path=str(SHOTS / "portal-licences.png"), full_page=True)
    assert no_horizontal_scroll(page)
    for lid, number in ((food_id, ent.food_licence["number"]), (bl_id, ent.business_licence["number"])):
        row = page.locator(f"li[data-licence='{lid}']")
        assert row.is_visible() and number in row.inner_text()
        assert row.get_attribute("data-status") == "valid" and row.locator(".pill").inner_text() == "有效"
    assert page.get_by_text(live.health.name).first.is_visible()
    assert page.get_by_text(live.market.name).first.is_visible()

    # --- create a grant through the form -----------------------------------------------------------
    page.click("nav.tabs >> text=授权")
    page.wait_for_url(f"{base_url}/portal/grants")
    page.check(f"input[name=licence_ids][value='{food_id}']")
    page.fill("#grantee_name", "中国银行深圳分行")
    page.fill("#purpose", "开立对公账户")
    page.fill("#expires_in_days", "7")
    page.fill("#max_downloads", "3")
    page.screenshot(path=str(SHOTS / "portal-grant-form.png"), full_page=True)
    assert no_horizontal_scroll(page)
    page.click("#create-grant")
    page.wait_for_load_state()
    assert page.locator(".status .big").inner_text() == "授权已创建"
    share_url = page.input_value("#share-url").strip()
    grant_id = page.inner_text("#grant-id").strip()
    assert share_url.startswith(f"{base_url}/s/") and len(share_url.rsplit("/", 1)[1]) >= 32
    qr = page.locator("#share-qr")
    assert qr.is_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0"), "the QR image did not load"
    page.screenshot(path=str(SHOTS / "portal-grant-created.png"), full_page=True)
    assert no_horizontal_scroll(page)
    decoded = _qr_text(qr.screenshot())
    if decoded is not None:
        assert decoded == share_url, "the QR on screen does not open the share link"

    # --- the grantee opens the share link on its own phone and downloads -----------------------
    grantee = phone(accept_downloads=True)
    gpage = grantee.new_page()
    resp = gpage.goto(share_url)
    assert resp is not None and resp.status == 200
    gpage.screenshot(path=str(SHOTS / "share.png"), full_page=True)
    assert no_horizontal_scroll(gpage)
    text = gpage.locator("main").inner_text()
    assert ent.name in text and "中国银行深圳分行" in text and "开立对公账户" in text
    row = gpage.locator(".lic[data-status=valid]", has_text=ent.food_licence["number"])
    with gpage.expect_download() as dl:
        row.get_by_text("下载加注件").click()
    pdf = Path(dl.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")

    verdict = live.client.post("/api/v1/verify", files={"file": ("copy.pdf", pdf, "application/pdf")}).json()
    assert verdict["verdict"] == "genuine", verdict
    assert verdict["grant"]["id"] == grant_id and verdict["grant"]["active"] is True
    assert verdict["grant"]["purpose"] == "开立对公账户"

    # --- the enterprise sees the download, then revokes the grant ---------------------------------
    page.goto(f"{base_url}/portal/grants")
    item = page.locator(f"li[data-grant='{grant_id}']")
    assert item.get_attribute("data-state") == "active" and "1 / 3" in item.inner_text()
    page.screenshot(path=str(SHOTS / "portal-grants-active.png"), full_page=True)
    item.get_by_role("button", name="撤销 Revoke").click()
    page.wait_for_url(f"{base_url}/portal/grants?revoked={grant_id}")
    assert page.locator(".alert.ok").is_visible()
    assert page.locator(f"li[data-grant='{grant_id}']").get_attribute("data-state") == "revoked"
    page.screenshot(path=str(SHOTS / "portal-grant-revoked.png"), full_page=True)

    page.click("nav.tabs >> text=访问记录")
    page.wait_for_url(f"{base_url}/portal/access-log")
    entry = page.locator("li[data-kind=grant_download]").first
    assert entry.is_visible() and grant_id in entry.inner_text() and "中国银行深圳分行" in entry.inner_text()
    page.screenshot(path=str(SHOTS / "portal-access-log.png"), full_page=True)
    assert no_horizontal_scroll(page)

    # --- the grantee's link now refuses ---------------------------------------------------------
    resp = gpage.reload()
    assert resp is not None and resp.status == 410
    gone = gpage.locator(".status[data-state=revoked]")
    assert gone.is_visible() and "撤销" in gone.inner_text() and "revoked" in gone.inner_text()
    gpage.screenshot(path=str(SHOTS / "share-revoked.png"), full_page=True)
    assert no_horizontal_scroll(gpage)

    # --- sign out ---------------------------------------------------------------------------
    page.click("#signout")
    page.wait_for_url(f"{base_url}/portal?signed_out=1")
    assert page.locator("#token").is_visible()
    page.goto(f"{base_url}/portal/licences")
    assert page.url == f"{base_url}/portal"
