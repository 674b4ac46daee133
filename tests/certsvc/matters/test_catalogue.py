"""The catalogue of matters (事项清单): published by departments, public as HTML and JSON, and 免提交."""

from __future__ import annotations

import pytest

from tests.support.data import FOOD_LICENCE_TYPE
from tests.support.service import Ent

JSON = {"Accept": "application/json"}
OTHER_MODE = "filing" if FOOD_LICENCE_TYPE["reform_mode"] != "filing" else "approval"


def _matter(**over: object) -> dict:
    body = {
        "code": "SZWJ-SPJY-001",
        "name": "食品经营许可证核发",
        "legal_basis": "《中华人民共和国食品安全法》第三十五条",
        "reform_mode": FOOD_LICENCE_TYPE["reform_mode"],
        "licence_type": "SPJY",
        "materials": [
            {"name": "营业执照", "licence_type": "SZSJ:YYZZ"},
            {"name": "食品经营许可证（原证）", "licence_type": "SZWJ:SPJY"},
            {"name": "食品安全管理制度"},
        ],
        "supervision": "信用监管、“双随机、一公开”监管",
    }
    body.update(over)
    return body


@pytest.fixture(scope="module")
def published(service) -> dict:
    r = service.client.post("/api/v1/matters", headers=service.health.auth, json=_matter())
    assert r.status_code == 201, r.text
    return r.json()


def test_a_published_matter_shows_its_department_type_and_materials(service, published) -> None:
    assert published["department"] == service.health.name
    assert published["licence_type"] == "SZWJ:SPJY" and published["reform_mode"] == FOOD_LICENCE_TYPE["reform_mode"]
    assert published["materials"][0] == {"name": "营业执照", "licence_type": "SZSJ:YYZZ"}


def test_catalogue_json_lists_the_matter(service, published) -> None:
    r = service.client.get("/catalogue", headers=JSON)
    assert r.status_code == 200
    codes = [m["code"] for m in r.json()["items"]]
    assert published["code"] in codes and r.json()["next_cursor"] is None


def test_catalogue_html_shows_the_matter(service, published) -> None:
    r = service.client.get("/catalogue")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "食品经营许可证核发" in r.text and "《中华人民共和国食品安全法》第三十五条" in r.text
    assert 'name="viewport"' in r.text


def test_catalogue_searches_by_name_and_department(service, published) -> None:
    other = _matter(code="SZZJ-001", name="建筑工程施工许可", licence_type="JZSG", reform_mode="approval", materials=[])
    t = {"code": "JZSG", "name": "建筑工程施工许可证", "fields": [], "reform_mode": "approval"}
    assert service.client.post("/api/v1/licence-types", headers=service.housing.auth, json=t).status_code == 201
    assert service.client.post("/api/v1/matters", headers=service.housing.auth, json=other).status_code == 201
    by_name = service.client.get("/catalogue", params={"q": "食品经营"}, headers=JSON).json()["items"]
    assert [m["code"] for m in by_name] == [published["code"]]
    by_dept = service.client.get("/catalogue", params={"department": "住房和建设"}, headers=JSON).json()["items"]
    assert [m["code"] for m in by_dept] == ["SZZJ-001"]
    by_code = service.client.get("/catalogue", params={"department": "szwj"}, headers=JSON).json()["items"]
    assert [m["code"] for m in by_code] == [published["code"]]


def test_a_code_published_twice_is_409(service, published) -> None:
    r = service.client.post("/api/v1/matters", headers=service.health.auth, json=_matter())
    assert r.status_code == 409 and r.json()["error"]["field"] == "code"


def test_a_matter_for_another_departments_type_is_422_naming_licence_type(service) -> None:
    r = service.client.post("/api/v1/matters", headers=service.housing.auth, json=_matter(code="X-1"))
    assert r.status_code == 422 and r.json()["error"]["field"] == "licence_type"
    r = service.client.post(
        "/api/v1/matters", headers=service.housing.auth, json=_matter(code="X-2", licence_type="SZWJ:SPJY")
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "licence_type"


def test_a_matter_in_another_mode_than_its_type_is_422_naming_reform_mode(service) -> None:
    r = service.client.post(
        "/api/v1/matters", headers=service.health.auth, json=_matter(code="X-3", reform_mode="filing")
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "reform_mode"


def test_an_unknown_material_licence_type_is_422_naming_it(service) -> None:
    body = _matter(code="X-4", materials=[{"name": "许可证", "licence_type": "SZWJ:NOPE"}])
    r = service.client.post("/api/v1/matters", headers=service.health.auth, json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == "materials.0.licence_type"


def _materials(service, code: str, uscc: str, **params: str):
    return service.client.get(
        f"/api/v1/matters/{code}/materials", headers=service.market.auth, params={"uscc": uscc, **params}
    )


def test_materials_the_enterprise_holds_are_held_the_rest_submit(service, published, ent: Ent) -> None:
    r = _materials(service, published["code"], ent.uscc, purpose="食品经营许可延续审查")
    assert r.status_code == 200, r.text
    items = {i["name"]: i for i in r.json()["items"]}
    assert items["营业执照"]["state"] == "held"
    assert items["营业执照"]["licence_id"] == ent.business_licence["id"]
    assert items["营业执照"]["verify_url"] == ent.business_licence["verify_url"]
    assert items["食品经营许可证（原证）"]["licence_id"] == ent.food_licence["id"]
    assert items["食品安全管理制度"] == {"name": "食品安全管理制度", "state": "submit"}


def test_a_suspended_licence_must_be_submitted(service, published, ent: Ent) -> None:
    lic = ent.food_licence["id"]
    r = service.client.post(f"/api/v1/licences/{lic}/suspend", headers=service.health.auth, json={"reason": "整改"})
    assert r.status_code == 200, r.text
    items = {i["name"]: i for i in _materials(service, published["code"], ent.uscc, purpose="审查").json()["items"]}
    assert items["食品经营许可证（原证）"]["state"] == "submit" and items["营业执照"]["state"] == "held"


def test_the_look_up_is_in_the_holders_access_log_with_the_matter_code(service, published, ent: Ent) -> None:
    assert _materials(service, published["code"], ent.uscc, purpose="免提交核验").status_code == 200
    log = service.client.get("/api/v1/enterprise/access-log", headers=ent.auth).json()["items"]
    mine = [e for e in log if e["kind"] == "matter_lookup"]
    assert mine and all(e["matter"] == published["code"] and e["purpose"] == "免提交核验" for e in mine)
    assert {e["licence_id"] for e in mine} >= {ent.business_licence["id"]}
    assert mine[0]["department"] == service.market.name


def test_materials_look_up_needs_a_purpose(service, published, ent: Ent) -> None:
    r = _materials(service, published["code"], ent.uscc)
    assert r.status_code == 422 and r.json()["error"]["field"] == "purpose"


def test_an_unknown_matter_is_404_naming_the_code(service, ent: Ent) -> None:
    r = _materials(service, "NO-SUCH", ent.uscc, purpose="审查")
    assert r.status_code == 404 and r.json()["error"]["field"] == "code"


def test_publishing_needs_a_department_key(service, ent: Ent) -> None:
    assert service.client.post("/api/v1/matters", json=_matter(code="X-5")).status_code == 401
    assert service.client.post("/api/v1/matters", headers=ent.auth, json=_matter(code="X-5")).status_code == 401
