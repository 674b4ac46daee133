"""Every list the OpenAPI document describes answers ``{"items": [...], "next_cursor"}``, takes ``limit``
and ``cursor``, and refuses a page number or a limit out of range with 422 naming it."""

from __future__ import annotations

from typing import Any

import pytest

from certsvc.db.session import session_scope
from certsvc.departments.registry import add_department
from tests.support.data import food_licence_body, random_uscc
from tests.support.service import Dept, Ent, Service, make_enterprise

REF = "#/components/schemas/"
# Lists that are not paged, and why.
NOT_PAGED = {
    # the materials of one matter: as many as the matter names, a handful
    "/api/v1/matters/{code}/materials",
}


def _schema(spec: dict[str, Any], op: dict[str, Any]) -> dict[str, Any] | None:
    content = op.get("responses", {}).get("200", {}).get("content", {})
    ref = content.get("application/json", {}).get("schema", {}).get("$ref")
    return spec["components"]["schemas"][ref.removeprefix(REF)] if ref else None


def _lists(spec: dict[str, Any]) -> list[str]:
    """The GET operations whose answer has an array ``items``: the lists."""
    found = []
    for path, ops in spec["paths"].items():
        schema = _schema(spec, ops["get"]) if "get" in ops else None
        items = (schema or {}).get("properties", {}).get("items", {})
        if items.get("type") == "array" and path not in NOT_PAGED:
            found.append(path)
    return sorted(found)


class World:
    """Something in every list: a licence, an enterprise with a grant, a subscription, a credit department."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.ent: Ent = make_enterprise(service)
        with session_scope(service.ctx.engine) as s:
            new = add_department(
                s,
                service.ctx.keyring,
                name="深圳市发展和改革委员会",
                uscc=random_uscc("11440300"),
                code="SZFG",
                credit=True,
            )
            self.credit = Dept(new.department.id or 0, new.department.name, new.department.uscc, "SZFG", new.api_key)
        c = service.client
        r = c.post(
            "/api/v1/enterprise/grants",
            headers=self.ent.auth,
            json={"all_current": True, "grantee_name": "中国银行深圳分行", "purpose": "开立对公账户"},
        )
        assert r.status_code == 201, r.text
        r = c.post(
            "/api/v1/subscriptions",
            headers=service.health.auth,
            json={"url": "https://supervision.example.gov.cn/hook", "licence_types": ["*"]},
        )
        assert r.status_code == 201, r.text
        self.subscription = r.json()["id"]
        item = food_licence_body(self.ent.uscc, self.ent.name)
        r = c.post("/api/v1/licence-jobs", headers=service.health.auth, json={"items": [item]})
        assert r.status_code == 202, r.text
        self.job = r.json()["id"]

    def request(self, path: str) -> tuple[str, dict[str, str], dict[str, str]]:
        """The URL, headers and required query parameters that reach the list at ``path``."""
        ids = {"licence_id": self.ent.food_licence["id"], "subscription_id": self.subscription, "job_id": self.job}
        url = path.format(uscc=self.ent.uscc, **ids)
        params = {"purpose": "核查"} if path == "/api/v1/enterprises/{uscc}/licences" else {}
        if path.startswith("/api/v1/enterprise/"):
            headers = self.ent.auth
        elif path.startswith("/api/v1/credit-restrictions"):
            headers = self.credit.auth
        elif path.startswith("/api/v1/"):
            headers = self.service.health.auth
        else:
            headers = {}
        return url, {**headers, "Accept": "application/json"}, params


@pytest.fixture(scope="module")
def spec(service: Service) -> dict[str, Any]:
    return service.client.get("/openapi.json").json()


@pytest.fixture(scope="module")
def world(service: Service) -> World:
    return World(service)


def test_the_lists_include_every_kind_the_spec_names(spec) -> None:
    lists = set(_lists(spec))
    for path in (
        "/api/v1/licences",
        "/api/v1/licence-types",
        "/api/v1/licences/{licence_id}/versions",
        "/api/v1/enterprise/licences",
        "/api/v1/enterprise/grants",
        "/api/v1/enterprise/access-log",
        "/api/v1/enterprise/receipts",
        "/api/v1/receipts",
        "/api/v1/enterprise/commitments",
        "/api/v1/subscriptions",
        "/api/v1/subscriptions/{subscription_id}/deliveries",
        "/api/v1/credit-restrictions",
        "/api/v1/matters",
        "/api/v1/enterprises/{uscc}/licences",
        "/e/{uscc}",
    ):
        assert path in lists, path


def test_every_list_documents_next_cursor_limit_and_cursor(spec) -> None:
    for path in _lists(spec):
        op = spec["paths"][path]["get"]
        assert "next_cursor" in _schema(spec, op)["properties"], path
        names = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
        assert {"limit", "cursor"} <= names, path


def test_every_list_answers_items_and_next_cursor(spec, world) -> None:
    for path in _lists(spec):
        url, headers, params = world.request(path)
        r = world.service.client.get(url, headers=headers, params={**params, "limit": 1})
        assert r.status_code == 200, (path, r.text)
        body = r.json()
        assert isinstance(body["items"], list) and len(body["items"]) <= 1, path
        assert "next_cursor" in body, path
        if body["next_cursor"]:
            more = world.service.client.get(
                url, headers=headers, params={**params, "limit": 1, "cursor": body["next_cursor"]}
            )
            assert more.status_code == 200, (path, more.text)
            assert more.json()["items"] != body["items"], path


@pytest.mark.parametrize(
    ("query", "field"), [({"limit": 0}, "limit"), ({"limit": 201}, "limit"), ({"page": 2}, "page")]
)
def test_every_list_refuses_a_bad_limit_or_a_page_number(spec, world, query, field) -> None:
    for path in _lists(spec):
        url, headers, params = world.request(path)
        r = world.service.client.get(url, headers=headers, params={**params, **query})
        assert r.status_code == 422, (path, r.text)
        assert r.json()["error"]["field"] == field, path


def test_a_cursor_of_one_list_is_refused_by_another(world) -> None:
    c, svc = world.service.client, world.service
    svc.issue_food()
    svc.issue_food()
    cursor = c.get("/api/v1/licences", headers=svc.health.auth, params={"limit": 1}).json()["next_cursor"]
    assert cursor
    r = c.get("/api/v1/enterprise/grants", headers=world.ent.auth, params={"cursor": cursor})
    assert r.status_code == 422 and r.json()["error"]["field"] == "cursor"
