"""审批改为备案: the enterprise files, its filing form signed with its business-licence signature, and
the 备案凭证 is sealed at once by the department: a licence of kind ``filing`` like any other."""

from __future__ import annotations

import pytest

from tests.support.pdfcheck import signature_status
from tests.support.reform import FILING_TYPE, add_type
from tests.support.service import make_enterprise

JSON = {"Accept": "application/json"}


@pytest.fixture(scope="module")
def filer(service):
    add_type(service, service.housing, FILING_TYPE)
    return make_enterprise(service, "深圳市备案物流有限公司")


@pytest.fixture(scope="module")
def filed(service, filer) -> dict:
    body = {
        "department": service.housing.code,
        "licence_type": "DLYSBA",
        "fields": {"经营地址": "深圳市宝安区航城街道1号"},
    }
    r = service.client.post("/api/v1/enterprise/filings", headers=filer.auth, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _path(url: str) -> str:
    return url.replace("http://testserver", "")


def _verify(service, pdf: bytes) -> dict:
    return service.client.post("/api/v1/verify", files={"file": ("x.pdf", pdf, "application/pdf")}).json()


def test_a_filing_is_sealed_at_once_as_a_licence_of_kind_filing(service, filer, filed) -> None:
    assert filed["kind"] == "filing" and filed["status"] == "valid"
    assert filed["holder_uscc"] == filer.uscc and filed["issuer_code"] == service.housing.code
    pdf = service.client.get(_path(filed["pdf_url"]), headers=filer.auth)
    assert pdf.status_code == 200
    _sig, status = signature_status(service.ctx, pdf.content)
    assert status.intact and status.trusted
    v = _verify(service, pdf.content)
    assert v["verdict"] == "genuine" and v["licence"]["kind"] == "filing" and v["licence"]["status"] == "valid"


def test_the_filing_form_is_signed_by_the_enterprise(service, filer, filed) -> None:
    form = service.client.get(_path(filed["filing_form_url"]), headers=filer.auth)
    assert form.status_code == 200
    v = _verify(service, form.content)
    assert v["verdict"] == "signed_by_enterprise"
    [signer] = v["signers"]
    assert signer["uscc"] == filer.uscc
    by_department = service.client.get(f"/api/v1/licences/{filed['id']}/filing-form", headers=service.housing.auth)
    assert by_department.status_code == 200 and by_department.content == form.content


def test_a_filing_shows_on_the_holders_page_and_in_its_licences(service, filer, filed) -> None:
    page = service.client.get(f"/e/{filer.uscc}", headers=JSON).json()
    current = [item for item in page["items"] if item["current"]]
    assert any(item["number"] == filed["number"] and item["kind"] == "filing" for item in current)
    mine = service.client.get("/api/v1/enterprise/licences", headers=filer.auth).json()["items"]
    assert any(item["id"] == filed["id"] and item["kind"] == "filing" for item in mine)


def test_the_department_may_withdraw_a_filing(service, filer) -> None:
    body = {"department": service.housing.code, "licence_type": "DLYSBA", "fields": {"经营地址": "深圳市"}}
    r = service.client.post("/api/v1/enterprise/filings", headers=filer.auth, json=body)
    assert r.status_code == 201, r.text
    lic = r.json()
    revoke = service.client.post(
        f"/api/v1/licences/{lic['id']}/revoke", headers=service.housing.auth, json={"reason": "备案信息不实，撤销"}
    )
    assert revoke.status_code == 200, revoke.text
    view = service.client.get(_path(lic["verify_url"]), headers=JSON).json()
    assert view["status"] == "revoked" and view["revoke_kind"] == "撤销"


def test_a_type_not_in_filing_mode_is_refused_naming_it(service, filer) -> None:
    body = {"department": service.health.code, "licence_type": "SPJY", "fields": {"经营场所": "深圳市"}}
    r = service.client.post("/api/v1/enterprise/filings", headers=filer.auth, json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == "licence_type"


def test_an_unknown_department_is_refused_naming_it(service, filer) -> None:
    body = {"department": "NOSUCH", "licence_type": "DLYSBA", "fields": {}}
    r = service.client.post("/api/v1/enterprise/filings", headers=filer.auth, json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == "department"


def test_a_missing_required_field_is_refused_naming_it(service, filer) -> None:
    body = {"department": service.housing.code, "licence_type": "DLYSBA", "fields": {}}
    r = service.client.post("/api/v1/enterprise/filings", headers=filer.auth, json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == "fields.经营地址"


def test_filing_needs_an_enterprise_token(service) -> None:
    body = {"department": service.housing.code, "licence_type": "DLYSBA", "fields": {"经营地址": "x"}}
    r = service.client.post("/api/v1/enterprise/filings", headers=service.housing.auth, json=body)
    assert r.status_code == 401
