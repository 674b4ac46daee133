"""证照分离 in the enterprise portal, on a phone: sign a commitment (告知承诺) and file (备案)."""

from __future__ import annotations

import pytest

from tests.support.browser import SHOTS, no_horizontal_scroll
from tests.support.reform import FILING_TYPE, add_type, commitment_type, issue_with_commitment
from tests.support.service import make_enterprise

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def types(live) -> None:
    add_type(live, live.health, commitment_type("GGWSB", "suspend"))
    add_type(live, live.housing, FILING_TYPE)


def _sign_in(page, base_url: str, token: str) -> None:
    page.goto(f"{base_url}/portal")
    page.fill("#token", token)
    page.click("#signin")
    page.wait_for_url(f"{base_url}/portal/licences")


def test_sign_a_commitment_and_see_it_public_on_v(live, base_url, phone, types) -> None:
    ent = make_enterprise(live, "深圳市门户承诺酒店有限公司")
    page = phone().new_page()
    _sign_in(page, base_url, ent.token)
    page.click("nav.tabs >> text=承诺")
    page.wait_for_url(f"{base_url}/portal/commitments")
    page.click("a[data-type=GGWSB]")
    text = commitment_type("GGWSB")["commitment"]["text"]
    assert page.inner_text("#commitment-text").strip() == text
    page.screenshot(path=str(SHOTS / "portal-commitment-text.png"), full_page=True)
    assert no_horizontal_scroll(page)
    page.click("#sign-commitment")
    page.wait_for_url(f"{base_url}/portal/commitments?signed=*")
    row = page.locator("li[data-commitment]").first
    commitment_id = row.get_attribute("data-commitment")
    assert row.get_attribute("data-status") == "signed" and commitment_id in page.inner_text("[role=status]")
    page.screenshot(path=str(SHOTS / "portal-commitment-signed.png"), full_page=True)
    assert no_horizontal_scroll(page)

    lic = issue_with_commitment(live, ent, live.health, "GGWSB", commitment_id)
    v = phone().new_page()
    v.goto(lic["verify_url"])
    section = v.locator("#commitment")
    assert section.get_attribute("data-commitment-status") == "pending"
    assert text in section.inner_text() and lic["commitment"]["due"] in section.inner_text()
    v.screenshot(path=str(SHOTS / "v-commitment.png"), full_page=True)
    assert no_horizontal_scroll(v)
    pdf = live.client.get(section.locator("a").get_attribute("href"))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"


def test_file_and_see_the_proof_of_filing(live, base_url, phone, types) -> None:
    ent = make_enterprise(live, "深圳市门户备案物流有限公司")
    page = phone().new_page()
    _sign_in(page, base_url, ent.token)
    page.click("nav.tabs >> text=备案")
    page.wait_for_url(f"{base_url}/portal/filings")
    page.click("a[data-type=DLYSBA]")
    page.fill("input[name='f.经营地址']", "深圳市宝安区航城街道1号")
    page.fill("input[name='f.车辆数']", "12")
    page.screenshot(path=str(SHOTS / "portal-filing-form.png"), full_page=True)
    assert no_horizontal_scroll(page)
    page.click("#file")
    page.wait_for_url(f"{base_url}/portal/filings?filed=*")
    proof = page.locator("li[data-filing]").first
    assert "道路普通货物运输备案" in proof.inner_text() and proof.locator(".pill").inner_text() == "有效"
    page.screenshot(path=str(SHOTS / "portal-filing-done.png"), full_page=True)
    assert no_horizontal_scroll(page)
    with page.expect_navigation():
        proof.locator("a").click()
    assert page.locator(".status").get_attribute("data-status") == "valid"
    assert page.locator("[data-kind=filing]").is_visible()
