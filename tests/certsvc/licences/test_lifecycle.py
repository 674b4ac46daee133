"""Amend, renew, suspend, resume, revoke; only the issuer may; expiry needs nobody (SPEC: lifecycle)."""

from __future__ import annotations

from datetime import date, timedelta

from tests.support.data import food_licence_body


def _post(service, path, json, dept=None):
    return service.client.post(path, headers=(dept or service.health).auth, json=json)


def _public(service, url):
    return service.client.get(url, headers={"Accept": "application/json"}).json()


def test_amend_creates_a_new_version_that_supersedes_the_old(service, issue_food) -> None:
    first = issue_food()
    r = _post(service, f"/api/v1/licences/{first['id']}/amend", {"fields": {"经营场所": "深圳市福田区深南大道1号"}})
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["id"] == first["id"]
    assert second["version"] == 2
    assert second["identifier"].split(".")[-2] == "002"
    assert second["identifier"].rsplit(".", 3)[0] == first["identifier"].rsplit(".", 3)[0]
    assert second["fields"]["经营场所"] == "深圳市福田区深南大道1号"
    assert second["sha256"] != first["sha256"]
    assert _public(service, first["verify_url"])["status"] == "superseded"
    assert _public(service, second["verify_url"])["status"] == "valid"


def test_amend_with_an_unknown_field_names_it(service, issue_food) -> None:
    first = issue_food()
    r = _post(service, f"/api/v1/licences/{first['id']}/amend", {"fields": {"不存在": "x"}})
    assert r.status_code == 422
    assert "不存在" in r.json()["error"]["message"]


def test_renew_extends_validity_in_a_new_version(service, issue_food) -> None:
    first = issue_food()
    until = (date.today() + timedelta(days=4000)).isoformat()
    r = _post(service, f"/api/v1/licences/{first['id']}/renew", {"valid_until": until})
    assert r.status_code == 200, r.text
    assert r.json()["valid_until"] == until
    assert r.json()["version"] == 2


def test_renew_to_an_earlier_date_is_refused(service, issue_food) -> None:
    first = issue_food()
    r = _post(service, f"/api/v1/licences/{first['id']}/renew", {"valid_until": date.today().isoformat()})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "valid_until"


def test_suspend_and_resume(service, issue_food) -> None:
    lic = issue_food()
    r = _post(service, f"/api/v1/licences/{lic['id']}/suspend", {"reason": "整改期间暂停"})
    assert r.status_code == 200 and r.json()["status"] == "suspended"
    assert _public(service, lic["verify_url"])["status"] == "suspended"
    r = _post(service, f"/api/v1/licences/{lic['id']}/resume", {"reason": "整改完成"})
    assert r.status_code == 200 and r.json()["status"] == "valid"


def test_resume_of_a_valid_licence_conflicts(service, issue_food) -> None:
    lic = issue_food()
    assert _post(service, f"/api/v1/licences/{lic['id']}/resume", {"reason": "x"}).status_code == 409


def test_revoke_with_kind_and_reason(service, issue_food) -> None:
    lic = issue_food()
    r = _post(service, f"/api/v1/licences/{lic['id']}/revoke", {"reason": "吊销：违法经营"})
    assert r.status_code == 200
    assert r.json()["status"] == "revoked"
    assert r.json()["revoke_kind"] == "吊销"
    view = _public(service, lic["verify_url"])
    assert view["status"] == "revoked" and view["revoke_kind"] == "吊销"


def test_revoked_licence_cannot_be_resumed_amended_or_renewed(service, issue_food) -> None:
    lic = issue_food()
    _post(service, f"/api/v1/licences/{lic['id']}/revoke", {"reason": "注销", "kind": "注销"})
    assert _post(service, f"/api/v1/licences/{lic['id']}/resume", {"reason": "x"}).status_code == 409
    assert _post(service, f"/api/v1/licences/{lic['id']}/amend", {"fields": {}}).status_code == 409
    until = (date.today() + timedelta(days=9000)).isoformat()
    assert _post(service, f"/api/v1/licences/{lic['id']}/renew", {"valid_until": until}).status_code == 409


def test_revoke_without_reason_is_refused(service, issue_food) -> None:
    lic = issue_food()
    r = _post(service, f"/api/v1/licences/{lic['id']}/revoke", {})
    assert r.status_code == 422
    assert "reason" in r.json()["error"]["message"]


def test_expired_licence_shows_expired_without_anyone_acting(service) -> None:
    body = food_licence_body(valid_from="2020-01-01", valid_until="2021-01-01")
    r = _post(service, "/api/v1/licences", body)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "expired"
    assert _public(service, r.json()["verify_url"])["status"] == "expired"


def test_every_change_is_an_audit_event(service, issue_food) -> None:
    from sqlmodel import Session, select

    from certsvc.db.models import AuditEvent

    lic = issue_food()
    _post(service, f"/api/v1/licences/{lic['id']}/suspend", {"reason": "a"})
    _post(service, f"/api/v1/licences/{lic['id']}/resume", {"reason": "b"})
    _post(service, f"/api/v1/licences/{lic['id']}/amend", {"fields": {"经营项目": "预包装食品销售"}})
    _post(service, f"/api/v1/licences/{lic['id']}/revoke", {"reason": "撤销"})
    with Session(service.ctx.engine) as s:
        actions = [
            e.action
            for e in s.exec(select(AuditEvent).where(AuditEvent.subject_id == lic["id"]).order_by(AuditEvent.id))
        ]
    assert actions == ["licence.issue", "licence.suspend", "licence.resume", "licence.amend", "licence.revoke"]
