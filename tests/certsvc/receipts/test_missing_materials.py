"""容缺受理: missing materials of a receipt tracked to received, or overdue after their due date."""

from __future__ import annotations

from datetime import timedelta

from certsvc.core.clock import today
from tests.support.service import Ent
from tests.support.sweep import audit_count, run_sweep


def _receipt(service, *missing: tuple[str, int], uscc: str | None = None) -> dict:
    """A receipt of the health department with ``missing`` materials due in so many days."""
    body = {
        "applicant_name": "深圳市鹏城餐饮管理有限公司",
        "applicant_uscc": uscc,
        "matter": "公共场所卫生许可",
        "application_number": f"SQ{len(missing)}{today():%Y%m%d}",
        "materials_received": ["申请书"],
        "materials_missing": [{"name": n, "due": (today() + timedelta(days=d)).isoformat()} for n, d in missing],
    }
    r = service.client.post("/api/v1/receipts", headers=service.health.auth, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _received(service, receipt_id: str, name: str):
    return service.client.post(
        f"/api/v1/receipts/{receipt_id}/materials", headers=service.health.auth, json={"name": name}
    )


def test_receipt_with_missing_materials_is_pending_with_due_dates(service) -> None:
    rec = _receipt(service, ("卫生检测报告", 10))
    assert rec["materials_state"] == "pending"
    due = (today() + timedelta(days=10)).isoformat()
    assert rec["outstanding"] == [{"name": "卫生检测报告", "due": due, "state": "outstanding", "received_at": None}]


def test_receipt_without_missing_materials_is_complete(service) -> None:
    assert _receipt(service)["materials_state"] == "complete"


def test_recording_every_material_completes_the_receipt(service) -> None:
    rec = _receipt(service, ("卫生检测报告", 10), ("从业人员健康证明", 20))
    first = _received(service, rec["id"], "卫生检测报告")
    assert first.status_code == 200, first.text
    assert first.json()["materials_state"] == "pending"
    assert [m["name"] for m in first.json()["outstanding"]] == ["从业人员健康证明"]
    done = _received(service, rec["id"], "从业人员健康证明").json()
    assert done["materials_state"] == "complete" and done["outstanding"] == []
    assert all(m["state"] == "received" and m["received_at"] for m in done["materials_missing"])
    again = service.client.get(f"/api/v1/receipts/{rec['id']}", headers=service.health.auth).json()
    assert again["materials_state"] == "complete"


def test_recording_a_material_twice_is_409(service) -> None:
    rec = _receipt(service, ("卫生检测报告", 10))
    assert _received(service, rec["id"], "卫生检测报告").status_code == 200
    r = _received(service, rec["id"], "卫生检测报告")
    assert r.status_code == 409 and r.json()["error"]["field"] == "name"


def test_recording_a_material_the_receipt_does_not_list_is_422_naming_name(service) -> None:
    rec = _receipt(service, ("卫生检测报告", 10))
    r = _received(service, rec["id"], "申请书")  # received already at acceptance: not a missing one
    assert r.status_code == 422 and r.json()["error"]["field"] == "name"


def test_another_department_cannot_record_materials(service) -> None:
    rec = _receipt(service, ("卫生检测报告", 10))
    r = service.client.post(
        f"/api/v1/receipts/{rec['id']}/materials", headers=service.housing.auth, json={"name": "卫生检测报告"}
    )
    assert r.status_code == 404


def test_a_due_date_in_the_past_is_422_naming_it(service) -> None:
    r = service.client.post(
        "/api/v1/receipts",
        headers=service.health.auth,
        json={
            "applicant_name": "某公司",
            "matter": "公共场所卫生许可",
            "application_number": "SQ-PAST",
            "materials_missing": [{"name": "卫生检测报告", "due": (today() - timedelta(days=1)).isoformat()}],
        },
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "materials_missing.0.due"


def test_a_material_listed_twice_is_422_naming_it(service) -> None:
    due = (today() + timedelta(days=5)).isoformat()
    r = service.client.post(
        "/api/v1/receipts",
        headers=service.health.auth,
        json={
            "applicant_name": "某公司",
            "matter": "公共场所卫生许可",
            "application_number": "SQ-TWICE",
            "materials_missing": [{"name": "检测报告", "due": due}, {"name": "检测报告", "due": due}],
        },
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "materials_missing.1.name"


def test_sweep_past_the_due_date_makes_the_receipt_overdue_once_then_received_completes_it(service) -> None:
    rec = _receipt(service, ("卫生检测报告", 3))
    run_sweep((today() + timedelta(days=2)).isoformat() + "T12:00:00")  # not yet due
    assert _receipt_state(service, rec["id"]) == "pending"
    out = run_sweep((today() + timedelta(days=4)).isoformat() + "T09:00:00")
    assert "receipt_materials:" in out.stdout
    view = service.client.get(f"/api/v1/receipts/{rec['id']}", headers=service.health.auth).json()
    assert view["materials_state"] == "overdue" and view["outstanding"][0]["state"] == "overdue"
    run_sweep((today() + timedelta(days=5)).isoformat() + "T09:00:00")  # again: nothing changes twice
    assert audit_count(service.ctx.engine, "receipt.overdue", rec["id"]) == 1
    done = _received(service, rec["id"], "卫生检测报告").json()
    assert done["materials_state"] == "complete"


def _receipt_state(service, receipt_id: str) -> str:
    return service.client.get(f"/api/v1/receipts/{receipt_id}", headers=service.health.auth).json()["materials_state"]


def test_enterprise_lists_its_receipts_with_what_is_outstanding(service, ent: Ent, other_ent: Ent) -> None:
    mine = _receipt(service, ("卫生检测报告", 7), ("平面布局图", 14), uscc=ent.uscc)
    _receipt(service, ("卫生检测报告", 7), uscc=other_ent.uscc)
    _received(service, mine["id"], "平面布局图")
    r = service.client.get("/api/v1/enterprise/receipts", headers=ent.auth)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["id"] for i in items] == [mine["id"]]
    item = items[0]
    assert item["department"] == service.health.name and item["materials_state"] == "pending"
    due = (today() + timedelta(days=7)).isoformat()
    assert [(m["name"], m["due"], m["state"]) for m in item["outstanding"]] == [("卫生检测报告", due, "outstanding")]
    assert r.json()["next_cursor"] is None


def test_enterprise_receipts_need_an_enterprise_token(service) -> None:
    assert service.client.get("/api/v1/enterprise/receipts").status_code == 401
    assert service.client.get("/api/v1/enterprise/receipts", headers=service.health.auth).status_code == 401


def test_the_department_lists_its_own_receipts_newest_first_by_state(service) -> None:
    pending = _receipt(service, ("卫生检测报告", 7))
    complete = _receipt(service)
    r = service.client.get("/api/v1/receipts", headers=service.health.auth, params={"limit": 1})
    assert r.status_code == 200, r.text
    assert [i["id"] for i in r.json()["items"]] == [complete["id"]] and r.json()["next_cursor"]
    r = service.client.get("/api/v1/receipts", headers=service.health.auth, params={"state": "pending", "limit": 200})
    ids = [i["id"] for i in r.json()["items"]]
    assert pending["id"] in ids and complete["id"] not in ids
    assert all(i["materials_state"] == "pending" for i in r.json()["items"])
    theirs = service.client.get("/api/v1/receipts", headers=service.housing.auth, params={"limit": 200}).json()
    assert not {pending["id"], complete["id"]} & {i["id"] for i in theirs["items"]}
    r = service.client.get("/api/v1/receipts", headers=service.health.auth, params={"state": "lost"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "state"
