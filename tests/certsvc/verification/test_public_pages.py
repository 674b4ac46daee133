"""/v/{token} and /e/{uscc}: what a person scanning a QR code sees, in HTML and JSON."""

from __future__ import annotations

import re

import pytest

from tests.support.data import business_licence_body, food_licence_body, random_uscc

JSON = {"Accept": "application/json"}


def _act(service, lic, action, body):
    r = service.client.post(f"/api/v1/licences/{lic['id']}/{action}", headers=service.health.auth, json=body)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def in_status(service, issue_food):
    def make(status: str) -> dict:
        if status == "expired":
            return issue_food(valid_from="2019-01-01", valid_until="2020-01-01")
        lic = issue_food()
        if status == "suspended":
            _act(service, lic, "suspend", {"reason": "整改"})
        elif status == "revoked":
            _act(service, lic, "revoke", {"reason": "吊销"})
        elif status == "superseded":
            _act(service, lic, "amend", {"fields": {"经营项目": "糕点"}})
        return lic

    return make


LABELS = {
    "valid": "有效",
    "expired": "已过期",
    "suspended": "已暂停",
    "revoked": "已撤销",
    "superseded": "已被新版本取代",
}


@pytest.mark.parametrize("status", list(LABELS))
def test_every_status_renders_in_json(service, in_status, status) -> None:
    lic = in_status(status)
    r = service.client.get(lic["verify_url"], headers=JSON)
    assert r.status_code == 200
    assert r.json()["status"] == status
    assert r.json()["status_label"] == LABELS[status]


@pytest.mark.parametrize("status", list(LABELS))
def test_every_status_renders_in_html(service, in_status, status) -> None:
    lic = in_status(status)
    r = service.client.get(lic["verify_url"], headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert LABELS[status] in r.text
    assert lic["number"] in r.text
    assert f'data-status="{status}"' in r.text


def test_page_shows_what_the_spec_lists(service, issue_food) -> None:
    lic = issue_food()
    view = service.client.get(lic["verify_url"], headers=JSON).json()
    for key in (
        "licence_type_name",
        "number",
        "identifier",
        "holder_name",
        "holder_uscc",
        "issuer",
        "valid_from",
        "valid_until",
        "issued_at",
        "version",
        "pdf_sha256",
    ):
        assert view[key] not in (None, ""), key
    assert view["pdf_sha256"] == lic["sha256"]


def test_unknown_token_is_a_404_page_saying_not_ours(service) -> None:
    r = service.client.get("/v/forged-token-abc")
    assert r.status_code == 404
    assert "Not a licence of this service" in r.text
    r = service.client.get("/v/forged-token-abc", headers=JSON)
    assert r.status_code == 404 and r.json()["genuine"] is False


def test_no_personal_data_on_public_pages(service) -> None:
    """An individual business's home address and the operator's ID number stay off public pages."""
    uscc = random_uscc("92440300")
    body = business_licence_body(uscc, "深圳市南山区李记粉面店", holder_kind="individual")
    body["fields"] = {
        "类型": "个体工商户",
        "法定代表人": "李四 440301199001011234",
        "经营范围": "粉面",
        "住所": "深圳市南山区某小区3栋1201",
    }
    r = service.client.post("/api/v1/licences", headers=service.market.auth, json=body)
    assert r.status_code == 201, r.text
    pages = [
        service.client.get(r.json()["verify_url"]).text,
        service.client.get(r.json()["verify_url"], headers=JSON).text,
        service.client.get(f"/e/{uscc}").text,
        service.client.get(f"/e/{uscc}", headers=JSON).text,
    ]
    for page in pages:
        assert "440301199001011234" not in page
        assert "3栋1201" not in page
        assert not re.search(r"\d{17}[\dX]", page.replace(uscc, ""))


def test_enterprise_page_lists_licences_from_every_department(service) -> None:
    uscc = random_uscc()
    client = service.client
    assert (
        client.post("/api/v1/licences", headers=service.market.auth, json=business_licence_body(uscc)).status_code
        == 201
    )
    assert client.post("/api/v1/licences", headers=service.health.auth, json=food_licence_body(uscc)).status_code == 201
    revoked = client.post("/api/v1/licences", headers=service.health.auth, json=food_licence_body(uscc)).json()
    _act(service, revoked, "revoke", {"reason": "注销"})
    view = client.get(f"/e/{uscc}", headers=JSON).json()
    assert view["uscc"] == uscc
    current = [v for v in view["items"] if v["current"]]
    assert {v["issuer"] for v in current} == {service.market.name, service.health.name}
    assert view["items"][0]["licence_type"] == "YYZZ"  # the business licence first, then other current ones
    assert [v["status"] for v in view["items"][len(current) :]] == ["revoked"]
    html = client.get(f"/e/{uscc}").text
    assert "营业执照" in html and "食品经营许可证" in html and "<details" in html


def test_enterprise_page_for_unknown_code_is_404(service) -> None:
    page = service.client.get(f"/e/{random_uscc()}")
    assert page.status_code == 404 and "本服务没有统一社会信用代码" in page.text
    assert "不是本服务签发的电子证照" not in page.text


def test_enterprise_page_for_an_invalid_uscc_is_422_naming_the_field(service) -> None:
    r = service.client.get("/e/not-a-code", headers={"Accept": "application/json"})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["field"] == "uscc" and err["message"] == "uscc: must be 18 characters, got 10"
    page = service.client.get("/e/not-a-code")
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    assert "统一社会信用代码有误" in page.text and "应为 18 位，实为 10 位" in page.text
    assert "不是本服务签发的电子证照" not in page.text


def test_unknown_receipt_code_calls_it_a_receipt(service) -> None:
    page = service.client.get("/r/garbage")
    assert page.status_code == 404 and "未查询到该回执" in page.text and "Not a receipt of this service" in page.text
    assert "证照" not in page.text.split("<main>")[1].split("</main>")[0]


def test_each_scan_counts_without_keeping_who_scanned(service, issue_food) -> None:
    from sqlmodel import Session, select

    from certsvc.db.models import VerificationCount

    lic = issue_food()
    for _ in range(3):
        service.client.get(lic["verify_url"], headers={"User-Agent": "phone", "X-Forwarded-For": "1.2.3.4"})
    service.ctx.scans.flush(service.ctx.engine)
    with Session(service.ctx.engine) as s:
        rows = s.exec(select(VerificationCount).where(VerificationCount.licence_id == lic["id"])).all()
    assert sum(r.count for r in rows) == 3
