"""The portal without a browser: CSRF, session cookies, friendly errors (TestClient)."""

from __future__ import annotations

import re

import pytest

from certsvc.api.portal.session import PRE_COOKIE, SESSION_COOKIE
from tests.support.service import make_enterprise

CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


def _csrf(html: str) -> str:
    m = CSRF.search(html)
    assert m, "no CSRF token in the form"
    return m.group(1)


@pytest.fixture
def portal(service):
    """A fresh client signed in to the portal as a new enterprise; yields (client, ent, csrf)."""
    from fastapi.testclient import TestClient

    ent = make_enterprise(service, "深圳市门户测试有限公司")
    with TestClient(service.client.app, follow_redirects=False) as c:
        home = c.get("/portal")
        assert home.status_code == 200
        r = c.post("/portal/signin", data={"token": ent.token, "csrf": _csrf(home.text)})
        assert r.status_code == 303 and r.headers["location"] == "/portal/licences"
        page = c.get("/portal/grants")
        assert page.status_code == 200
        yield c, ent, _csrf(page.text)


def _grant_form(ent, csrf: str | None, **over: str) -> dict:
    body = {
        "licence_ids": ent.food_licence["id"],
        "grantee_name": "中国银行深圳分行",
        "purpose": "开立对公账户",
        "expires_in_days": "30",
    }
    if csrf is not None:
        body["csrf"] = csrf
    body.update(over)
    return body


def test_session_cookie_is_httponly_strict_and_not_the_token(service) -> None:
    from fastapi.testclient import TestClient

    ent = make_enterprise(service)
    with TestClient(service.client.app, follow_redirects=False) as c:
        home = c.get("/portal")
        r = c.post("/portal/signin", data={"token": ent.token, "csrf": _csrf(home.text)})
        assert r.status_code == 303
        cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE + "="))
        attrs = {a.strip().split("=")[0].lower(): a for a in cookie.split(";")[1:]}
        assert "httponly" in attrs and attrs["samesite"].strip().lower() == "samesite=strict"
        assert attrs["path"].strip() == "Path=/portal"
        assert "secure" not in attrs  # the test service's public URL is http
        value = cookie.split(";")[0].split("=", 1)[1]
        assert ent.token not in value and ent.token.split("_", 2)[2] not in value
        assert c.get("/portal/licences").status_code == 200


def test_post_without_csrf_token_is_403(portal) -> None:
    c, ent, _csrf_token = portal
    r = c.post("/portal/grants", data=_grant_form(ent, None))
    assert r.status_code == 403
    assert "text/html" in r.headers["content-type"] and "表单已失效" in r.text


def test_post_that_is_not_a_form_is_403(portal) -> None:
    c, ent, _csrf_token = portal
    assert c.post("/portal/grants").status_code == 403
    assert c.post("/portal/grants", json={"grantee_name": "x", "purpose": "y", "all_current": True}).status_code == 403
    assert c.post("/portal/signout").status_code == 403
    assert c.get("/portal/licences").status_code == 200  # still signed in


def test_post_with_wrong_csrf_token_is_403(portal) -> None:
    c, ent, csrf = portal
    assert c.post("/portal/grants", data=_grant_form(ent, "0" * 64)).status_code == 403
    assert c.post("/portal/signout", data={"csrf": "0" * 64}).status_code == 403


def test_post_from_another_origin_is_403_even_with_the_token(portal) -> None:
    c, ent, csrf = portal
    r = c.post("/portal/grants", data=_grant_form(ent, csrf), headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    r = c.post("/portal/grants", data=_grant_form(ent, csrf), headers={"Referer": "https://evil.example/x"})
    assert r.status_code == 403


def test_post_with_token_and_same_origin_creates_the_grant(portal) -> None:
    c, ent, csrf = portal
    r = c.post("/portal/grants", data=_grant_form(ent, csrf), headers={"Origin": "http://testserver"})
    assert r.status_code == 303, r.text
    page = c.get(r.headers["location"])
    assert page.status_code == 200 and "授权已创建" in page.text
    assert re.search(r"http://testserver/s/[\w-]{32}", page.text)
    assert 'id="share-qr"' in page.text


def test_grant_created_page_refreshed_makes_no_second_grant(portal) -> None:
    """Post/redirect/get: the POST answers 303 to the grant's own page; reloading that page is a GET."""
    c, ent, csrf = portal
    r = c.post("/portal/grants", data=_grant_form(ent, csrf), headers={"Origin": "http://testserver"})
    grant_id = r.headers["location"].split("/portal/grants/")[1].split("?")[0]
    first = c.get(r.headers["location"])
    for _ in range(3):
        again = c.get(r.headers["location"])
        assert again.status_code == 200 and grant_id in again.text
    share = re.search(r"http://testserver/s/[\w-]{32}", first.text)
    assert share and share.group(0) in again.text  # the same link every time
    listed = c.get("/api/v1/enterprise/grants", headers=ent.auth).json()["items"]
    assert [g["id"] for g in listed] == [grant_id]


def test_grant_page_and_qr_only_for_its_own_enterprise(service, portal) -> None:
    from fastapi.testclient import TestClient

    c, ent, csrf = portal
    r = c.post("/portal/grants", data=_grant_form(ent, csrf), headers={"Origin": "http://testserver"})
    page_url = r.headers["location"].split("?")[0]
    qr = c.get(f"{page_url}/qr.png")
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/png"
    other = make_enterprise(service, "深圳市旁观者有限公司")
    with TestClient(service.client.app, follow_redirects=False) as o:
        home = o.get("/portal")
        o.post("/portal/signin", data={"token": other.token, "csrf": _csrf(home.text)})
        assert o.get(page_url).status_code == 404
        assert o.get(f"{page_url}/qr.png").status_code == 404
    assert TestClient(service.client.app, follow_redirects=False).get(f"{page_url}/qr.png").status_code == 303


def test_signin_form_needs_its_pre_session_token(service) -> None:
    """Against login CSRF: a sign-in POST without the pre-session cookie's token is refused."""
    from fastapi.testclient import TestClient

    ent = make_enterprise(service)
    with TestClient(service.client.app, follow_redirects=False) as c:
        assert c.post("/portal/signin", data={"token": ent.token}).status_code == 403
        c.get("/portal")
        assert c.cookies.get(PRE_COOKIE)
        assert c.post("/portal/signin", data={"token": ent.token, "csrf": "f" * 64}).status_code == 403


def test_forged_or_missing_session_redirects_to_sign_in(service) -> None:
    from fastapi.testclient import TestClient

    with TestClient(service.client.app, follow_redirects=False) as c:
        assert c.get("/portal/licences").headers["location"] == "/portal"
        c.cookies.set(SESSION_COOKIE, "1.abc.99999999999.deadbeef", path="/portal")
        assert c.get("/portal/grants").status_code == 303
        r = c.post("/portal/grants", data={"csrf": "x"})
        assert r.status_code == 401 and "text/html" in r.headers["content-type"]
        for junk in (".", "1.2.3", "-1.a.1.b", "9" * 20 + ".a.1.b", "1.a." + "9" * 14 + ".x", "a" * 400):
            c.cookies.set(SESSION_COOKIE, junk, path="/portal")
            assert c.get("/portal/access-log").status_code == 303, junk


def test_wrong_token_and_wrong_activation_code_are_friendly(service) -> None:
    from fastapi.testclient import TestClient

    ent = make_enterprise(service)
    with TestClient(service.client.app, follow_redirects=False) as c:
        csrf = _csrf(c.get("/portal").text)
        r = c.post("/portal/signin", data={"token": ent.token + "x", "csrf": csrf})
        assert r.status_code == 401 and "令牌无效" in r.text
        r = c.post("/portal/activate", data={"uscc": ent.uscc, "activation_code": "AAAA-BBBB-CCCC-DDDD", "csrf": csrf})
        assert r.status_code == 401 and "激活码错误" in r.text
        r = c.post("/portal/activate", data={"uscc": "123", "activation_code": "x", "csrf": csrf})
        assert r.status_code == 422 and "text/html" in r.headers["content-type"]


def test_activation_shows_the_token_once_and_signs_in(service) -> None:
    from fastapi.testclient import TestClient

    from tests.support.data import business_licence_body, random_uscc

    uscc = random_uscc()
    bl = service.client.post("/api/v1/licences", headers=service.market.auth, json=business_licence_body(uscc))
    code = bl.json()["activation_code"]
    with TestClient(service.client.app, follow_redirects=False) as c:
        csrf = _csrf(c.get("/portal").text)
        r = c.post("/portal/activate", data={"uscc": uscc, "activation_code": code, "csrf": csrf})
        assert r.status_code == 200 and "只显示这一次" in r.text
        token = re.search(r"(cse_[\w-]+)", r.text).group(1)
        assert r.headers["cache-control"] == "no-store"
        assert c.get("/portal/licences").status_code == 200
        api = service.client.get("/api/v1/enterprise/licences", headers={"Authorization": f"Bearer {token}"})
        assert api.status_code == 200 and api.json()["uscc"] == uscc


def test_bad_grant_input_is_a_friendly_page(portal) -> None:
    c, ent, csrf = portal
    r = c.post("/portal/grants", data=_grant_form(ent, csrf, expires_in_days="91"))
    assert r.status_code == 422 and "1 到 90" in r.text and 'value="中国银行深圳分行"' in r.text
    r = c.post("/portal/grants", data=_grant_form(ent, csrf, expires_in_days="abc"))
    assert r.status_code == 422 and "整数" in r.text
    r = c.post("/portal/grants", data=_grant_form(ent, csrf, licence_ids=""))
    assert r.status_code == 422 and "至少选择一本证照" in r.text
    r = c.post("/portal/grants", data=_grant_form(ent, csrf, grantee_id="123456789012345678"))
    assert r.status_code == 422 and "证件号" in r.text
    r = c.post(
        "/portal/grants",
        content=b"csrf=" + csrf.encode() + b"&purpose=\xff",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 400 and "text/html" in r.headers["content-type"]
    r = c.post(
        "/portal/grants",
        content=b"csrf=" + csrf.encode() + b"&x=" + b"a" * 70_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 400


def test_an_enterprise_cannot_revoke_another_ones_grant(service, portal) -> None:
    c, _ent, csrf = portal
    other = make_enterprise(service, "深圳市另一家门户有限公司")
    g = service.client.post(
        "/api/v1/enterprise/grants",
        headers=other.auth,
        json={"all_current": True, "grantee_name": "某银行", "purpose": "开户"},
    ).json()
    r = c.post(f"/portal/grants/{g['id']}/revoke", data={"csrf": csrf})
    assert r.status_code == 404 and "没有这个授权" in r.text
    listed = service.client.get(f"/api/v1/enterprise/grants/{g['id']}", headers=other.auth).json()
    assert listed["state"] == "active"


def test_access_log_pages(service, portal) -> None:
    c, ent, _csrf_token = portal
    for _ in range(3):
        r = service.client.get(
            f"/api/v1/enterprises/{ent.uscc}/licences", params={"purpose": "资质核查"}, headers=service.housing.auth
        )
        assert r.status_code == 200
    page = c.get("/portal/access-log")
    assert page.status_code == 200 and page.text.count('data-kind="lookup"') == 3 and "资质核查" in page.text
    assert c.get("/portal/access-log?page=abc").status_code == 200
    assert c.get("/portal/access-log?page=999").status_code == 200


def test_sign_out_ends_the_session(portal) -> None:
    c, _ent, csrf = portal
    r = c.post("/portal/signout", data={"csrf": csrf})
    assert r.status_code == 303 and r.headers["location"].startswith("/portal")
    assert c.get("/portal/licences").status_code == 303


def test_a_copy_of_the_session_cookie_is_refused_after_sign_out(portal) -> None:
    c, _ent, csrf = portal
    copied = c.cookies.get(SESSION_COOKIE)
    assert c.get("/portal/licences").status_code == 200
    assert c.post("/portal/signout", data={"csrf": csrf}).status_code == 303
    c.cookies.set(SESSION_COOKIE, copied, path="/portal")
    assert c.get("/portal/licences").status_code == 303  # back to sign-in


def test_signing_in_and_out_are_in_the_audit_log(service, portal) -> None:
    from sqlmodel import Session, select

    from certsvc.db.models import AuditEvent, Enterprise

    c, ent, csrf = portal
    c.post("/portal/signout", data={"csrf": csrf})
    with Session(service.ctx.engine) as s:
        ent_id = s.exec(select(Enterprise.id).where(Enterprise.uscc == ent.uscc)).one()
        mine = (AuditEvent.actor_kind == "enterprise") & (AuditEvent.actor_id == str(ent_id))
        actions = [e.action for e in s.exec(select(AuditEvent).where(mine).order_by(AuditEvent.id))]
    assert actions[-2:] == ["portal.signin", "portal.signout"]


def test_portal_downloads_originals_and_receipts_of_its_own(service, portal) -> None:
    c, ent, _csrf_token = portal
    body = {
        "applicant_name": ent.name,
        "applicant_uscc": ent.uscc,
        "matter": "公共场所卫生许可",
        "application_number": "P-1",
    }
    rec = service.client.post("/api/v1/receipts", headers=service.health.auth, json=body).json()
    listed = c.get("/portal/receipts").text
    assert f'href="/portal/receipts/{rec["id"]}.pdf"' in listed
    pdf = c.get(f"/portal/receipts/{rec['id']}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    lid = ent.food_licence["id"]
    assert f'href="/portal/licences/{lid}/pdf"' in c.get("/portal/licences").text
    original = c.get(f"/portal/licences/{lid}/pdf")
    assert original.status_code == 200 and original.headers["content-type"] == "application/pdf"
    other = make_enterprise(service, "深圳市别家有限公司")
    assert c.get(f"/portal/licences/{other.food_licence['id']}/pdf").status_code == 404
