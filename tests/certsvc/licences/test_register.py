"""The department's register (GET /licences): its own licences, filtered, paged by a stable cursor;
each licence's versions and any version's PDF."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest

from tests.support.data import business_licence_body, random_uscc
from tests.support.service import Dept, Service, make_enterprise

TYPE = {
    "code": "RQBG",
    "name": "燃气经营许可证",
    "fields": [{"name": "经营区域", "required": True}],
    "validity_days": 1095,
    "reform_mode": "approval",
}
OTHER_TYPE = {**TYPE, "code": "RQPS", "name": "燃气供应许可证"}


def _body(name: str = "深圳市安泰燃气有限公司", uscc: str | None = None, **over: object) -> dict:
    return {
        "licence_type": TYPE["code"],
        "holder_uscc": uscc or random_uscc(),
        "holder_name": name,
        "fields": {"经营区域": "深圳市南山区"},
        **over,
    }


@pytest.fixture(scope="module")
def gas(service: Service) -> Dept:
    """A department of its own, so that its register holds only what this module issues."""
    dept = service.add_department("深圳市城市管理和综合执法局", "SZCG")
    for t in (TYPE, OTHER_TYPE):
        r = service.client.post("/api/v1/licence-types", headers=dept.auth, json=t)
        assert r.status_code == 201, r.text
    return dept


def _issue(service: Service, dept: Dept, body: dict) -> dict:
    r = service.client.post("/api/v1/licences", headers=dept.auth, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _batch(service: Service, dept: Dept, items: list[dict]) -> list[str]:
    ids = []
    for start in range(0, len(items), 500):
        r = service.client.post("/api/v1/licences:batch", headers=dept.auth, json={"items": items[start : start + 500]})
        assert r.status_code == 200, r.text
        assert r.json()["failed"] == 0, r.text
        ids += [x["id"] for x in r.json()["results"]]
    return ids


def _register(service: Service, dept: Dept, **params: object) -> dict:
    r = service.client.get("/api/v1/licences", headers=dept.auth, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def _walk(service: Service, dept: Dept, limit: int, between=None, **params: object) -> list[str]:
    """Every id of the register, page by page; ``between`` runs after each page."""
    seen: list[str] = []
    cursor = None
    while True:
        page = _register(service, dept, limit=limit, **({"cursor": cursor} if cursor else {}), **params)
        assert len(page["items"]) <= limit
        seen += [x["id"] for x in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
        if between:
            between()


def _pages_every_licence_once(service: Service, gas: Dept, n: int, limit: int) -> None:
    before = set(_walk(service, gas, 200))
    issued = set(_batch(service, gas, [_body(f"深圳市第{i}号燃气有限公司") for i in range(n)]))
    late: list[str] = []

    def issue_two_more() -> None:
        late.extend(_batch(service, gas, [_body("深圳市后来燃气有限公司"), _body("深圳市后来燃气有限公司")]))

    seen = _walk(service, gas, limit, between=issue_two_more)
    assert len(seen) == len(set(seen)), "a licence was listed twice"
    assert issued | before <= set(seen), "a licence was skipped"
    assert not set(late) & set(seen), "licences issued after the first page come before it, newest first"
    assert len(late) >= 2 * ((n - 1) // limit)  # issued between every two pages
    assert set(_walk(service, gas, 200)) == issued | before | set(late)


def test_the_register_pages_through_its_licences_once_each_while_new_ones_are_issued(service, gas) -> None:
    _pages_every_licence_once(service, gas, n=120, limit=50)


@pytest.mark.slow
def test_the_register_pages_through_1000_licences_once_each_while_new_ones_are_issued(service, gas) -> None:
    _pages_every_licence_once(service, gas, n=1000, limit=200)


def test_the_register_is_newest_first_and_holds_only_the_departments_own_licences(service, gas) -> None:
    a, b = _issue(service, gas, _body()), _issue(service, gas, _body())
    items = _register(service, gas, limit=2)["items"]
    assert [x["id"] for x in items] == [b["id"], a["id"]]
    theirs = _register(service, service.health, limit=200)["items"]
    assert not {a["id"], b["id"]} & {x["id"] for x in theirs}


def test_the_register_filters_by_status(service, gas) -> None:
    holder = random_uscc()
    valid = _issue(service, gas, _body(uscc=holder))
    suspended = _issue(service, gas, _body(uscc=holder))
    revoked = _issue(service, gas, _body(uscc=holder))
    expired = _issue(service, gas, _body(uscc=holder, valid_from="2020-01-01", valid_until="2021-01-01"))
    for lic, action in ((suspended, "suspend"), (revoked, "revoke")):
        r = service.client.post(f"/api/v1/licences/{lic['id']}/{action}", headers=gas.auth, json={"reason": "核查"})
        assert r.status_code == 200, r.text
    for status, lic in (("valid", valid), ("suspended", suspended), ("revoked", revoked), ("expired", expired)):
        items = _register(service, gas, status=status, holder_uscc=holder)["items"]
        assert [(x["id"], x["status"]) for x in items] == [(lic["id"], status)]


def test_the_register_filters_by_type_holder_and_number(service, gas) -> None:
    holder = random_uscc()
    first = _issue(service, gas, _body(uscc=holder))
    other_type = _issue(service, gas, _body(uscc=holder, licence_type=OTHER_TYPE["code"]))
    _issue(service, gas, _body())
    by_holder = _register(service, gas, holder_uscc=holder)["items"]
    assert {x["id"] for x in by_holder} == {first["id"], other_type["id"]}
    by_type = _register(service, gas, holder_uscc=holder, type=OTHER_TYPE["code"].lower())["items"]
    assert [x["id"] for x in by_type] == [other_type["id"]]
    assert [x["id"] for x in _register(service, gas, number=first["number"])["items"]] == [first["id"]]
    assert _register(service, gas, number=first["number"] + "9")["items"] == []


def test_q_finds_a_substring_of_the_holder_name_or_number_with_wildcards_taken_literally(service, gas) -> None:
    odd = _issue(service, gas, _body("深圳市百分之百_燃气有限公司"))
    _issue(service, gas, _body("深圳市百分之九十燃气有限公司"))
    assert [x["id"] for x in _register(service, gas, q="百分之百_")["items"]] == [odd["id"]]
    assert [x["id"] for x in _register(service, gas, q=odd["number"][-6:])["items"]] == [odd["id"]]
    assert _register(service, gas, q="%")["items"] == []
    assert _register(service, gas, q="之_燃")["items"] == []


def test_an_amended_licence_is_listed_once_at_its_current_version(service, gas) -> None:
    lic = _issue(service, gas, _body())
    r = service.client.post(
        f"/api/v1/licences/{lic['id']}/amend", headers=gas.auth, json={"fields": {"经营区域": "福田"}}
    )
    assert r.status_code == 200, r.text
    items = _register(service, gas, number=lic["number"])["items"]
    assert [(x["id"], x["version"], x["status"]) for x in items] == [(lic["id"], 2, "valid")]


def _cursor(*values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "values",
    [
        ("licences", "2026-01-01T00:00:00", "x"),  # a moment without its offset
        ("licences", "0001-01-01T00:00:00+08:00", "x"),  # before the calendar's start in UTC
        ("licences", "9999-12-31T23:59:59-08:00", "x"),  # after its end
        ("licences", "2026-01-01T00:00:00+00:00", "\udc80"),  # a lone surrogate
        ("licences", "2026-01-01T00:00:00+00:00", "a\x00b"),  # NUL
    ],
)
def test_a_cursor_no_row_could_have_given_is_422(service, gas, values) -> None:
    r = service.client.get("/api/v1/licences", headers=gas.auth, params={"cursor": _cursor(*values)})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "cursor"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"status": "superseded"}, "status"),
        ({"type": "NOPE"}, "type"),
        ({"type": "SPJY"}, "type"),  # another department's type
        ({"holder_uscc": "91440300MA5XXXXXX1"}, "holder_uscc"),
        ({"q": ""}, "q"),
        ({"q": "深" * 101}, "q"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"cursor": "garbage"}, "cursor"),
        ({"cursor": "WyJncmFudHMiLCIyMDI2LTAxLTAxVDAwOjAwOjAwKzAwOjAwIiwiYSJd"}, "cursor"),  # another list's
        ({"page": 2}, "page"),
        ({"per_page": 10}, "per_page"),
        ({"state": "valid"}, "state"),
    ],
)
def test_a_bad_filter_limit_or_cursor_is_422_naming_it(service, gas, params, field) -> None:
    r = service.client.get("/api/v1/licences", headers=gas.auth, params=params)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field


def test_versions_list_every_version_and_each_pdf_is_that_version(service, gas) -> None:
    lic = _issue(service, gas, _body())
    r = service.client.post(f"/api/v1/licences/{lic['id']}/renew", headers=gas.auth, json={"valid_until": "2031-12-31"})
    assert r.status_code == 200, r.text
    renewed = r.json()
    r = service.client.get(f"/api/v1/licences/{lic['id']}/versions", headers=gas.auth)
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["next_cursor"] is None
    v1, v2 = page["items"]
    assert (v1["version"], v1["status"], v1["sha256"], v1["identifier"]) == (
        1,
        "superseded",
        lic["sha256"],
        lic["identifier"],
    )
    assert v1["superseded_at"] is not None and v2["superseded_at"] is None
    assert (v2["version"], v2["status"], v2["sha256"], v2["valid_until"]) == (
        2,
        "valid",
        renewed["sha256"],
        "2031-12-31",
    )
    assert v1["number"] == v2["number"] == lic["number"]
    for v in (v1, v2):
        pdf = service.client.get(v["pdf_url"], headers=gas.auth)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert hashlib.sha256(pdf.content).hexdigest() == v["sha256"]
        assert f"-v{v['version']}.pdf" in pdf.headers["content-disposition"]
    current = service.client.get(lic["pdf_url"], headers=gas.auth)
    assert hashlib.sha256(current.content).hexdigest() == renewed["sha256"]


def test_versions_page_with_a_cursor(service, gas) -> None:
    lic = _issue(service, gas, _body())
    for area in ("福田", "罗湖"):
        r = service.client.post(
            f"/api/v1/licences/{lic['id']}/amend", headers=gas.auth, json={"fields": {"经营区域": area}}
        )
        assert r.status_code == 200, r.text
    url = f"/api/v1/licences/{lic['id']}/versions"
    first = service.client.get(url, headers=gas.auth, params={"limit": 2}).json()
    rest = service.client.get(url, headers=gas.auth, params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [v["version"] for v in first["items"] + rest["items"]] == [1, 2, 3]
    assert rest["next_cursor"] is None


def test_a_version_that_does_not_exist_is_404_naming_it_and_a_bad_one_422(service, gas) -> None:
    lic = _issue(service, gas, _body())
    r = service.client.get(f"/api/v1/licences/{lic['id']}/pdf", headers=gas.auth, params={"version": 2})
    assert r.status_code == 404, r.text
    assert r.json()["error"]["field"] == "version" and "no version 2" in r.json()["error"]["message"]
    for bad in ("0", "abc", "-1"):
        r = service.client.get(f"/api/v1/licences/{lic['id']}/pdf", headers=gas.auth, params={"version": bad})
        assert r.status_code == 422, r.text
        assert r.json()["error"]["field"] == "version"


def test_another_departments_licence_has_no_versions_for_you(service, gas) -> None:
    theirs = service.issue_food()
    r = service.client.get(f"/api/v1/licences/{theirs['id']}/versions", headers=gas.auth)
    assert r.status_code == 404
    r = service.client.get(f"/api/v1/licences/{theirs['id']}/pdf", headers=gas.auth, params={"version": 1})
    assert r.status_code == 404


# --- the holder's lists: /e/{uscc} (public) and /enterprise/licences, paged the same way -----------


def test_e_pages_a_large_holder_current_licences_first_and_the_page_links_the_next(service, gas) -> None:
    holder = random_uscc()
    ids = _batch(service, gas, [_body("深圳市大户燃气有限公司", uscc=holder) for _ in range(54)])
    r = service.client.post(f"/api/v1/licences/{ids[0]}/revoke", headers=gas.auth, json={"reason": "注销"})
    assert r.status_code == 200, r.text
    business = service.client.post(
        "/api/v1/licences",
        headers=service.market.auth,
        json=business_licence_body(holder, "深圳市大户燃气有限公司"),
    )
    assert business.status_code == 201, business.text
    first = service.client.get(f"/e/{holder}", headers={"Accept": "application/json"}).json()
    assert first["count"] == 55 and len(first["items"]) == 50 and first["next_cursor"]
    assert first["items"][0]["licence_type"] == "YYZZ"
    seen, cursor = [], None
    while True:
        params = {"limit": 20, **({"cursor": cursor} if cursor else {})}
        page = service.client.get(f"/e/{holder}", headers={"Accept": "application/json"}, params=params).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len({v["number"] for v in seen}) == len(seen) == 55
    assert [v["current"] for v in seen] == [True] * 54 + [False]  # the revoked one last
    assert seen[-1]["status"] == "revoked"
    html = service.client.get(f"/e/{holder}")
    assert html.text.count('data-status="') == 50 and 'rel="next"' in html.text
    assert len(html.content) < 100_000
    [link] = re.findall(r'<a href="([^"]+)" rel="next">', html.text)
    rest = service.client.get(link.replace("&amp;", "&"))
    assert rest.status_code == 200 and rest.text.count('data-status="') == 5 and 'rel="next"' not in rest.text


def test_the_enterprise_pages_its_own_licences(service) -> None:
    ent = make_enterprise(service)
    first = service.client.get("/api/v1/enterprise/licences", headers=ent.auth, params={"limit": 1}).json()
    rest = service.client.get(
        "/api/v1/enterprise/licences", headers=ent.auth, params={"limit": 1, "cursor": first["next_cursor"]}
    ).json()
    assert [x["id"] for x in first["items"] + rest["items"]] == [ent.food_licence["id"], ent.business_licence["id"]]
    assert rest["next_cursor"] is None
