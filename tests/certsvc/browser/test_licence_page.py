"""Issue 3: what a person sees when a phone camera opens a licence's QR (/v/{token})."""

from __future__ import annotations

import pytest

from tests.support.browser import PHONE, SHOTS, no_horizontal_scroll
from tests.support.data import food_licence_body

pytestmark = pytest.mark.browser

FOLD = PHONE["viewport"]["height"]


def _issue(live, **over) -> dict:
    r = live.client.post("/api/v1/licences", headers=live.health.auth, json=food_licence_body(**over))
    assert r.status_code == 201, r.text
    return r.json()


def _in_first_screen(locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= FOLD and box["width"] > 0


def _check_licence_page(page, lic: dict, holder: str, word: str, status: str, shot: str) -> None:
    resp = page.goto(lic["verify_url"])
    assert resp is not None and resp.status == 200
    page.screenshot(path=str(SHOTS / shot), full_page=True)
    banner = page.locator(".status[data-status]")
    assert banner.get_attribute("data-status") == status
    big = banner.locator(".big")
    assert big.inner_text().strip() == word
    assert big.is_visible() and _in_first_screen(big)
    assert float(big.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 24
    holder_el = page.locator("dd", has_text=holder).first
    number_el = page.locator("dd", has_text=lic["number"]).first
    for el in (holder_el, number_el):
        assert el.is_visible() and _in_first_screen(el), el
    assert no_horizontal_scroll(page), "the page scrolls sideways on a phone"


def test_valid_licence_on_a_phone(live, phone) -> None:
    holder = "深圳市鹏城餐饮管理有限公司"
    lic = _issue(live, name=holder)
    page = phone().new_page()
    _check_licence_page(page, lic, holder, "有效", "valid", "licence-valid.png")
    assert page.get_by_text("Valid", exact=True).is_visible()


def test_suspended_licence_says_suspended(live, phone) -> None:
    holder = "深圳市南山区某某食品商行有限公司（一个很长的企业名称用来检查换行）"
    lic = _issue(live, name=holder)
    r = live.client.post(f"/api/v1/licences/{lic['id']}/suspend", headers=live.health.auth, json={"reason": "停业整改"})
    assert r.status_code == 200, r.text
    page = phone().new_page()
    _check_licence_page(page, lic, holder, "已暂停", "suspended", "licence-suspended.png")
    assert page.get_by_text("停业整改").is_visible()


def test_forged_code_says_not_a_licence_of_this_service(live, base_url, phone) -> None:
    page = phone().new_page()
    resp = page.goto(f"{base_url}/v/Zm9yZ2VkLWxpY2VuY2UtdG9rZW4tdGhhdC1sb29rcy1yZWFs")
    assert resp is not None and resp.status == 404
    page.screenshot(path=str(SHOTS / "licence-forged.png"), full_page=True)
    big = page.locator(".status[data-status=not_found] .big")
    assert big.is_visible() and _in_first_screen(big)
    text = page.locator("main").inner_text()
    assert "不是本服务签发的电子证照" in text and "not a licence issued by this service" in text
    assert no_horizontal_scroll(page)


def test_enterprise_page_on_a_phone(live, phone) -> None:
    from tests.support.data import random_uscc

    uscc = random_uscc()
    lic = _issue(live, uscc=uscc, name="深圳市一码展示测试有限公司")
    page = phone().new_page()
    resp = page.goto(lic["verify_url"])
    assert resp is not None and resp.status == 200
    page.get_by_text("查看该主体全部证照").click()
    page.wait_for_url(f"**/e/{uscc}")
    page.screenshot(path=str(SHOTS / "enterprise.png"), full_page=True)
    assert page.locator(f"tr[data-status=valid] >> text={lic['number']}").is_visible()
    assert no_horizontal_scroll(page)
