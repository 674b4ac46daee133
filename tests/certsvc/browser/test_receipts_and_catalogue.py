"""容缺 receipts in the enterprise portal and the public catalogue of matters, on a phone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from certsvc.core.clock import today
from tests.support.browser import SHOTS, no_horizontal_scroll
from tests.support.data import FOOD_LICENCE_TYPE
from tests.support.service import make_enterprise

pytestmark = pytest.mark.browser


def test_portal_receipts_page_shows_what_is_outstanding(live, base_url, phone) -> None:
    ent = make_enterprise(live, "深圳市鹏城回执餐饮有限公司")
    due = (today() + timedelta(days=9)).isoformat()
    body = {
        "applicant_name": ent.name,
        "applicant_uscc": ent.uscc,
        "matter": "公共场所卫生许可证核发",
        "application_number": "SQ-PORTAL-1",
        "materials_received": ["申请表"],
        "materials_missing": [{"name": "卫生检测报告", "due": due}, {"name": "平面布局图", "due": due}],
    }
    rec = live.client.post("/api/v1/receipts", headers=live.health.auth, json=body).json()
    r = live.client.post(
        f"/api/v1/receipts/{rec['id']}/materials", headers=live.health.auth, json={"name": "平面布局图"}
    )
    assert r.status_code == 200, r.text
    page = phone().new_page()
    page.goto(f"{base_url}/portal")
    page.fill("#token", ent.token)
    page.click("#signin")
    page.wait_for_url(f"{base_url}/portal/licences")
    page.click("nav.tabs >> text=回执")
    page.wait_for_url(f"{base_url}/portal/receipts")
    page.screenshot(path=str(SHOTS / "portal-receipts.png"), full_page=True)
    assert no_horizontal_scroll(page)
    row = page.locator(f"li[data-receipt='{rec['id']}']")
    assert row.get_attribute("data-state") == "pending" and "公共场所卫生许可证核发" in row.inner_text()
    outstanding = row.locator("li[data-material='卫生检测报告']")
    assert outstanding.get_attribute("data-state") == "outstanding" and due in outstanding.inner_text()
    assert row.locator("li[data-material='平面布局图']").get_attribute("data-state") == "received"
    assert page.locator("#waiting").is_visible()


def test_catalogue_page_searches_on_a_phone(live, base_url, phone) -> None:
    matter = {
        "code": "SZWJ-SPJY-WEB",
        "name": "食品经营许可证核发",
        "legal_basis": "《中华人民共和国食品安全法》第三十五条",
        "reform_mode": FOOD_LICENCE_TYPE["reform_mode"],
        "licence_type": "SPJY",
        "materials": [{"name": "营业执照", "licence_type": "SZSJ:YYZZ"}, {"name": "食品安全管理制度"}],
        "supervision": "“双随机、一公开”监管",
    }
    assert live.client.post("/api/v1/matters", headers=live.health.auth, json=matter).status_code == 201
    page = phone().new_page()
    resp = page.goto(f"{base_url}/catalogue")
    assert resp is not None and resp.status == 200
    page.fill("#q", "食品经营")
    page.click("#search")
    page.wait_for_url(f"{base_url}/catalogue?q=*")
    page.screenshot(path=str(SHOTS / "catalogue.png"), full_page=True)
    assert no_horizontal_scroll(page)
    card = page.locator("[data-matter='SZWJ-SPJY-WEB']")
    assert card.is_visible() and live.health.name in card.inner_text() and "免提交" in card.inner_text()
    page.fill("#q", "不存在的事项")
    with page.expect_navigation():
        page.click("#search")
    assert page.locator("[data-matter]").count() == 0
