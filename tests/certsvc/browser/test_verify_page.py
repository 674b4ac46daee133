"""Issue 16, in a real browser: a bank clerk with a PDF on ``/verify`` (phone 390 px and desktop
1280 px), the verification report downloaded and verified, a tampered file, pasted QR text; the
print stylesheet and dates that never break on ``/v/``, ``/e/`` and the result page."""

from __future__ import annotations

import pytest

from tests.support import tampering
from tests.support.browser import PHONE, SHOTS, no_horizontal_scroll
from tests.support.data import food_licence_body
from tests.support.service import make_enterprise

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
SIZES = {"phone": PHONE, "desktop": DESKTOP}


@pytest.fixture(scope="module")
def licence(live) -> tuple[dict, bytes]:
    r = live.client.post("/api/v1/licences", headers=live.health.auth, json=food_licence_body())
    assert r.status_code == 201, r.text
    lic = r.json()
    pdf = live.client.get(f"/api/v1/licences/{lic['id']}/pdf", headers=live.health.auth).content
    return lic, pdf


@pytest.fixture(scope="module")
def share_url(live) -> str:
    """A share link of an activated enterprise's food licence (the /s/ page shows dates too)."""
    ent = make_enterprise(live)
    body = {"licence_ids": [ent.food_licence["id"]], "grantee_name": "中国银行深圳分行", "purpose": "开立对公账户"}
    r = live.client.post("/api/v1/enterprise/grants", headers=ent.auth, json=body)
    assert r.status_code == 201, r.text
    return r.json()["share_url"]


@pytest.fixture
def page_of(browser):
    """A fresh page at a size (``phone`` or ``desktop``), its context closed after the test."""
    contexts = []

    def make(size: str):
        c = browser.new_context(**SIZES[size], accept_downloads=True)
        c.set_default_timeout(20_000)
        contexts.append(c)
        return c.new_page()

    yield make
    for c in contexts:
        c.close()


def _upload(page, base_url: str, name: str, data: bytes) -> None:
    page.goto(f"{base_url}/verify")
    page.set_input_files("#file", files=[{"name": name, "mimeType": "application/pdf", "buffer": data}])
    page.get_by_role("button", name="核验文件 Verify the file").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_genuine_licence_shows_genuine_and_valid_without_overflow(page_of, base_url, licence, size) -> None:
    page = page_of(size)
    _upload(page, base_url, "licence.pdf", licence[1])
    banner = page.locator(".status[data-verdict]")
    assert banner.get_attribute("data-verdict") == "genuine"
    assert banner.locator(".big").inner_text().strip() == "真实有效"
    assert page.get_by_text(licence[0]["number"]).first.is_visible()
    assert "签章完好 Seal intact" in page.locator('[data-check="signature_intact"]').inner_text()
    assert no_horizontal_scroll(page), "the result page scrolls sideways"
    page.screenshot(path=str(SHOTS / f"verify-result-{size}.png"), full_page=True)
    if size == "desktop":  # printed: the verdict and the checks, not the buttons
        page.emulate_media(media="print")
        assert not page.get_by_text("下载验证报告").is_visible()
        assert banner.is_visible() and page.locator('[data-check="issued_here"]').is_visible()
        page.screenshot(path=str(SHOTS / "verify-result-print.png"), full_page=True)


def test_report_downloads_and_verifies_genuine_as_a_report(page_of, base_url, live, licence) -> None:
    page = page_of("phone")
    _upload(page, base_url, "licence.pdf", licence[1])
    with page.expect_download() as dl:
        page.get_by_text("下载验证报告").click()
    download = dl.value
    assert download.suggested_filename.startswith("验证报告-") and download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as f:
        report = f.read()
    r = live.client.post("/api/v1/verify", files={"file": ("report.pdf", report, "application/pdf")})
    body = r.json()
    assert body["verdict"] == "genuine", body["checks"]
    assert body["report"]["kind"] == "report" and "licence" not in body


def test_tampered_licence_says_why(page_of, base_url, licence) -> None:
    page = page_of("phone")
    _upload(page, base_url, "tampered.pdf", tampering.add_page(licence[1]))
    assert page.locator(".status[data-verdict]").get_attribute("data-verdict") == "modified_after_sealing"
    assert page.locator(".status .big").inner_text().strip() == "已被篡改"
    failed = page.locator('[data-ok="false"]')
    assert failed.count() >= 1 and "签章之后文件内容被改动过" in failed.first.inner_text()
    assert no_horizontal_scroll(page)
    page.screenshot(path=str(SHOTS / "verify-tampered-phone.png"), full_page=True)


def test_pasted_qr_text_shows_the_licence(page_of, base_url, licence) -> None:
    page = page_of("phone")
    page.goto(f"{base_url}/verify")
    page.screenshot(path=str(SHOTS / "verify-form-phone.png"), full_page=True)
    page.fill("#text", licence[0]["verify_url"])
    page.get_by_role("button", name="核验二维码 Verify the QR text").click()
    page.wait_for_load_state()
    assert page.locator(".status .big").inner_text().strip() == "真实有效"
    assert page.get_by_text(licence[0]["number"]).first.is_visible()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_public_pages_fit_the_screen_and_dates_never_break(page_of, base_url, live, licence, share_url, size) -> None:
    lic = licence[0]
    holder = live.client.get(lic["verify_url"], headers={"Accept": "application/json"}).json()["holder_uscc"]
    page = page_of(size)
    pages = {"home": f"{base_url}/", "verify": f"{base_url}/verify", "licence": lic["verify_url"]}
    pages["enterprise"] = f"{base_url}/e/{holder}"
    pages["share"] = share_url
    for name, url in pages.items():
        resp = page.goto(url)
        assert resp is not None and resp.status == 200, url
        assert no_horizontal_scroll(page), f"{url} scrolls sideways at {size}"
        page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)
        if name in ("licence", "enterprise", "share"):
            dates = page.locator(".date")
            assert dates.count() >= 1, url
            assert all(d.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap" for d in dates.all())
    if size == "desktop":  # /v/ and /e/ printed: no forms, the status still there
        for url in (pages["licence"], pages["enterprise"]):
            page.goto(url)
            page.emulate_media(media="print")
            assert page.locator("form").count() == 0 or not page.locator("form").first.is_visible()
            assert page.locator(".card").first.is_visible()
            page.emulate_media(media="screen")
