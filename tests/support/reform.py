"""证照分离 fixtures' helpers: types in filing and commitment mode, credit departments, signed commitments."""

from __future__ import annotations

from certsvc.db.session import session_scope
from certsvc.departments.registry import add_department
from tests.support.data import random_uscc
from tests.support.service import Dept, Ent, Service

COMMITMENT_TEXT = "本单位承诺：经营场所符合卫生规范，从业人员持有效健康证明，自取得许可之日起30日内达到许可条件。"
FILING_TYPE = {
    "code": "DLYSBA",
    "name": "道路普通货物运输备案",
    "fields": [{"name": "经营地址", "required": True}, {"name": "车辆数", "required": False}],
    "validity_days": None,
    "reform_mode": "filing",
}


def commitment_type(code: str, on_overdue: str = "flag", days: int = 30) -> dict:
    """A licence type in commitment mode (公共场所卫生许可 of the health department)."""
    return {
        "code": code,
        "name": "公共场所卫生许可证",
        "fields": [{"name": "经营场所", "required": True}],
        "validity_days": 1460,
        "reform_mode": "commitment",
        "commitment": {"text": COMMITMENT_TEXT, "conditions_due_days": days, "on_overdue": on_overdue},
    }


def add_type(service: Service, dept: Dept, body: dict) -> dict:
    r = service.client.post("/api/v1/licence-types", headers=dept.auth, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def credit_department(service: Service, name: str = "深圳市发展和改革委员会", code: str = "SZFG") -> Dept:
    """A department created with the credit flag (as ``certsvc department add --credit`` does)."""
    with session_scope(service.ctx.engine) as s:
        new = add_department(s, service.ctx.keyring, name=name, uscc=random_uscc("11440300"), code=code, credit=True)
        d = new.department
        return Dept(d.id or 0, d.name, d.uscc, d.code, new.api_key)


def sign_commitment(service: Service, ent: Ent, dept: Dept, code: str) -> dict:
    r = service.client.post(
        "/api/v1/enterprise/commitments", headers=ent.auth, json={"department": dept.code, "licence_type": code}
    )
    assert r.status_code == 201, r.text
    return r.json()


def issue_with_commitment(service: Service, ent: Ent, dept: Dept, code: str, commitment_id: str) -> dict:
    body = {
        "licence_type": code,
        "holder_uscc": ent.uscc,
        "holder_name": ent.name,
        "fields": {"经营场所": "深圳市福田区深南大道1号"},
        "commitment_id": commitment_id,
    }
    r = service.client.post("/api/v1/licences", headers=dept.auth, json=body)
    assert r.status_code == 201, r.text
    return r.json()
