"""信用约束: a credit department keeps the list of restricted USCCs; commitment and filing for them are
refused with 409 ``credit_restricted`` until the restriction ends or is lifted; every change is audited."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from certsvc.core import clock
from certsvc.db.models import AuditEvent
from certsvc.errors import CreditRestricted
from certsvc.reform.credit import refuse_if_credit_restricted
from tests.support.live import add_department_cli
from tests.support.reform import FILING_TYPE, add_type, commitment_type, credit_department
from tests.support.service import Dept, make_enterprise


@pytest.fixture(scope="module")
def credit(service) -> dict[str, str]:
    """A credit department made with ``certsvc department add --credit``: its auth header."""
    return add_department_cli(dict(os.environ), "深圳市发展和改革委员会", "SZFG", credit=True)


@pytest.fixture(scope="module")
def types(service) -> None:
    add_type(service, service.housing, FILING_TYPE)
    add_type(service, service.health, commitment_type("GGWSC"))


def _restrict(service, credit: dict[str, str], uscc: str, until: str | None = None) -> dict:
    until = until or (clock.today() + timedelta(days=365)).isoformat()
    r = service.client.post(
        "/api/v1/credit-restrictions",
        headers=credit,
        json={"uscc": uscc, "reason": "列入严重失信主体名单", "until": until},
    )
    assert r.status_code == 201, r.text
    return r.json()


def _file(service, ent) -> object:
    body = {"department": service.housing.code, "licence_type": "DLYSBA", "fields": {"经营地址": "深圳市"}}
    return service.client.post("/api/v1/enterprise/filings", headers=ent.auth, json=body)


def _commit(service, ent) -> object:
    body = {"department": service.health.code, "licence_type": "GGWSC"}
    return service.client.post("/api/v1/enterprise/commitments", headers=ent.auth, json=body)


def _audits(service, action: str, subject: str) -> int:
    with Session(service.ctx.engine) as s:
        q = select(AuditEvent).where(AuditEvent.action == action, col(AuditEvent.subject_id) == subject)
        return len(s.exec(q).all())


def test_a_credit_department_adds_and_lists_a_restriction(service, credit) -> None:
    ent = make_enterprise(service, "深圳市失信样例有限公司")
    r = _restrict(service, credit, ent.uscc)
    assert r["active"] is True and r["uscc"] == ent.uscc
    listed = service.client.get("/api/v1/credit-restrictions", headers=credit, params={"uscc": ent.uscc}).json()
    assert [i["id"] for i in listed["items"]] == [r["id"]] and listed["next_cursor"] is None
    assert _audits(service, "credit.restrict", r["id"]) == 1


def test_a_restricted_uscc_may_not_file(service, credit, types) -> None:
    ent = make_enterprise(service, "深圳市失信物流有限公司")
    _restrict(service, credit, ent.uscc)
    r = _file(service, ent)
    assert r.status_code == 409 and r.json()["error"]["code"] == "credit_restricted"


def test_a_restricted_uscc_may_not_sign_a_commitment(service, credit, types) -> None:
    ent = make_enterprise(service, "深圳市失信酒店有限公司")
    _restrict(service, credit, ent.uscc)
    r = _commit(service, ent)
    assert r.status_code == 409 and r.json()["error"]["code"] == "credit_restricted"


def test_a_commitment_signed_before_the_restriction_cannot_be_used_after(service, credit, types) -> None:
    ent = make_enterprise(service, "深圳市先签后限有限公司")
    c = _commit(service, ent)
    assert c.status_code == 201, c.text
    _restrict(service, credit, ent.uscc)
    body = {
        "licence_type": "GGWSC",
        "holder_uscc": ent.uscc,
        "holder_name": ent.name,
        "fields": {"经营场所": "深圳市"},
        "commitment_id": c.json()["id"],
    }
    r = service.client.post("/api/v1/licences", headers=service.health.auth, json=body)
    assert r.status_code == 409 and r.json()["error"]["code"] == "credit_restricted"


def test_allowed_again_once_the_restriction_is_lifted(service, credit, types) -> None:
    ent = make_enterprise(service, "深圳市信用修复有限公司")
    restriction = _restrict(service, credit, ent.uscc)
    assert _file(service, ent).status_code == 409
    lifted = service.client.delete(f"/api/v1/credit-restrictions/{restriction['id']}", headers=credit)
    assert lifted.status_code == 200 and lifted.json()["active"] is False and lifted.json()["lifted_at"]
    assert _file(service, ent).status_code == 201
    assert _audits(service, "credit.lift", restriction["id"]) == 1


def test_allowed_again_after_its_last_day(service, credit, types) -> None:
    ent = make_enterprise(service, "深圳市到期解除有限公司")
    until = clock.today() + timedelta(days=2)
    _restrict(service, credit, ent.uscc, until.isoformat())
    assert _commit(service, ent).status_code == 409
    last_day = datetime(until.year, until.month, until.day, 23, 0, tzinfo=clock.CST)
    with clock.frozen(last_day.astimezone(UTC)):
        assert _commit(service, ent).status_code == 409
    with clock.frozen((last_day + timedelta(hours=2)).astimezone(UTC)):
        assert _commit(service, ent).status_code == 201


def test_refuse_if_credit_restricted_answers_for_a_moment(service, credit) -> None:
    ent = make_enterprise(service, "深圳市时刻查询有限公司")
    until = clock.today() + timedelta(days=5)
    _restrict(service, credit, ent.uscc, until.isoformat())
    with Session(service.ctx.engine) as s:
        with pytest.raises(CreditRestricted) as refused:
            refuse_if_credit_restricted(s, ent.uscc, datetime.now(UTC))
        assert refused.value.code == "credit_restricted"
        refuse_if_credit_restricted(s, ent.uscc, datetime.now(UTC) + timedelta(days=7))  # ended: no error


def test_only_a_credit_department_keeps_the_list(service) -> None:
    ent = make_enterprise(service, "深圳市越权样例有限公司")
    body = {"uscc": ent.uscc, "reason": "x", "until": "2099-01-01"}
    r = service.client.post("/api/v1/credit-restrictions", headers=service.health.auth, json=body)
    assert r.status_code == 403
    assert service.client.get("/api/v1/credit-restrictions", headers=service.health.auth).status_code == 403
    service.ctx.denials.flush(service.ctx.engine)
    with Session(service.ctx.engine) as s:
        denied = s.exec(
            select(AuditEvent).where(
                AuditEvent.action == "denied.credit_list_refused", AuditEvent.actor_id == str(service.health.id)
            )
        ).all()
    assert denied


def test_only_the_adding_department_lifts_a_restriction(service, credit) -> None:
    other: Dept = credit_department(service, "广东省发展和改革委员会", "GDFG")
    ent = make_enterprise(service, "深圳市他人限制有限公司")
    restriction = _restrict(service, credit, ent.uscc)
    r = service.client.delete(f"/api/v1/credit-restrictions/{restriction['id']}", headers=other.auth)
    assert r.status_code == 403


def test_a_last_day_in_the_past_is_refused_naming_it(service, credit) -> None:
    ent = make_enterprise(service, "深圳市过去日期有限公司")
    yesterday = (clock.today() - timedelta(days=1)).isoformat()
    r = service.client.post(
        "/api/v1/credit-restrictions", headers=credit, json={"uscc": ent.uscc, "reason": "x", "until": yesterday}
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "until"


def test_a_bad_uscc_is_refused_naming_it(service, credit) -> None:
    r = service.client.post(
        "/api/v1/credit-restrictions",
        headers=credit,
        json={"uscc": "91440300MA5G0A1B40", "reason": "x", "until": "2099-01-01"},
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "uscc"


def _receipt(service, uscc: str, missing: list[dict]) -> object:
    body = {
        "applicant_name": "深圳市失信餐饮有限公司",
        "applicant_uscc": uscc,
        "matter": "公共场所卫生许可",
        "application_number": "SQ-CREDIT-1",
        "materials_received": ["申请书"],
        "materials_missing": missing,
    }
    return service.client.post("/api/v1/receipts", headers=service.health.auth, json=body)


def test_a_restricted_uscc_gets_no_acceptance_with_materials_missing(service, credit) -> None:
    ent = make_enterprise(service, "深圳市失信餐饮有限公司")
    _restrict(service, credit, ent.uscc)
    due = (clock.today() + timedelta(days=10)).isoformat()
    r = _receipt(service, ent.uscc, [{"name": "卫生检测报告", "due": due}])
    assert r.status_code == 409 and r.json()["error"]["code"] == "credit_restricted"
    assert _receipt(service, ent.uscc, []).status_code == 201  # a complete application is still accepted
