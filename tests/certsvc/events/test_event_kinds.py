"""Every change the SPEC lists becomes its event, in the change's order: amend, renew, suspend,
resume; a filing; a commitment found overdue (and the suspension it causes); a receipt's missing
material overdue, told to the receipt's own department only."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from certsvc.core import clock
from certsvc.core.clock import today
from certsvc.sweeps import run_sweeps
from tests.support.events import FOOD, change, dispatch, subscribe
from tests.support.receiver import receiving
from tests.support.reform import FILING_TYPE, add_type, commitment_type, issue_with_commitment, sign_commitment
from tests.support.service import make_enterprise


def test_each_lifecycle_change_is_an_event_in_order(service, receiver) -> None:
    subscribe(service, service.housing, receiver.url, [FOOD])
    lic = service.issue_food()
    path = f"/api/v1/licences/{lic['id']}"
    amend = {"fields": {"经营场所": "深圳市福田区深南大道1号"}, "reason": "经营场所变更"}
    assert service.client.post(f"{path}/amend", headers=service.health.auth, json=amend).status_code == 200
    renew = {"valid_until": (date.fromisoformat(lic["valid_until"]) + timedelta(days=365)).isoformat()}
    assert service.client.post(f"{path}/renew", headers=service.health.auth, json=renew).status_code == 200
    change(service, lic["id"], "suspend")
    change(service, lic["id"], "resume", "整改完成")
    dispatch(service)
    got = [g.json for g in receiver.about(lic["id"])]
    assert [g["type"] for g in got] == [
        "licence.issued",
        "licence.amended",
        "licence.renewed",
        "licence.suspended",
        "licence.resumed",
    ]
    assert [g["data"]["version"] for g in got] == [1, 2, 3, 3, 3]
    assert got[2]["data"]["valid_until"] == renew["valid_until"]
    assert got[-1]["data"]["reason"] == "整改完成" and got[-1]["data"]["status"] == "valid"


def test_a_subscription_to_some_events_gets_only_those(service, receiver) -> None:
    subscribe(service, service.housing, receiver.url, [FOOD], ["licence.suspended"])
    lic = service.issue_food()
    change(service, lic["id"], "suspend")
    dispatch(service)
    assert [g.json["type"] for g in receiver.about(lic["id"])] == ["licence.suspended"]


def test_a_filing_is_told_as_issued_then_filed(service, receiver) -> None:
    add_type(service, service.housing, FILING_TYPE)
    subscribe(service, service.market, receiver.url, [f"{service.housing.code}:*"])
    filer = make_enterprise(service, "深圳市备案物流有限公司")
    body = {"department": service.housing.code, "licence_type": "DLYSBA", "fields": {"经营地址": "深圳市宝安区1号"}}
    r = service.client.post("/api/v1/enterprise/filings", headers=filer.auth, json=body)
    assert r.status_code == 201, r.text
    dispatch(service)
    got = [g.json for g in receiver.about(r.json()["id"])]
    assert [g["type"] for g in got] == ["licence.issued", "filing.created"]
    assert got[1]["data"]["kind"] == "filing" and got[1]["data"]["filing_id"]


def test_an_overdue_commitment_is_told_then_the_suspension_it_causes(service, receiver) -> None:
    add_type(service, service.health, commitment_type("GGWSE", "suspend", days=10))
    subscribe(service, service.housing, receiver.url, [f"{service.health.code}:GGWSE"])
    holder = make_enterprise(service, "深圳市承诺酒店有限公司")
    c = sign_commitment(service, holder, service.health, "GGWSE")
    lic = issue_with_commitment(service, holder, service.health, "GGWSE", c["id"])
    due = datetime.fromisoformat(lic["commitment"]["due"])
    run_sweeps(service.ctx.engine, datetime(due.year, due.month, due.day, 12, tzinfo=clock.CST) + timedelta(days=1))
    dispatch(service)
    got = [g.json for g in receiver.about(lic["id"])]
    assert [g["type"] for g in got] == ["licence.issued", "commitment.overdue", "licence.suspended"]
    assert got[1]["data"]["commitment_id"] == c["id"] and got[1]["data"]["suspend"] is True


def test_an_overdue_receipt_material_is_told_to_the_receipts_department_only(service) -> None:
    body = {
        "applicant_name": "某旅馆",
        "applicant_uscc": None,
        "matter": "公共场所卫生许可",
        "application_number": "SQ-EVENTS-1",
        "materials_missing": [{"name": "卫生检测报告", "due": (today() + timedelta(days=1)).isoformat()}],
    }
    with receiving() as own, receiving() as other:
        subscribe(service, service.health, own.url, ["*"], ["receipt.overdue"])
        subscribe(service, service.housing, other.url, ["*"], ["receipt.overdue"])
        r = service.client.post("/api/v1/receipts", headers=service.health.auth, json=body)
        assert r.status_code == 201, r.text
        run_sweeps(service.ctx.engine, clock.now() + timedelta(days=3))
        dispatch(service)
        mine = [g.json for g in own.of_type("receipt.overdue") if g.json["data"]["receipt_id"] == r.json()["id"]]
        assert other.of_type("receipt.overdue") == []
    (event,) = mine
    assert event["data"]["application_number"] == "SQ-EVENTS-1"
    assert [m["name"] for m in event["data"]["materials"]] == ["卫生检测报告"]
