"""实行告知承诺: the enterprise signs the type's commitment, the department issues with it, the licence is
valid at once with its commitment pending, public on /v/ and in every verdict, checked later or overdue."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from certsvc.core import clock
from certsvc.db.models import AuditEvent, Commitment
from certsvc.db.session import session_scope
from certsvc.reform.commitments import sweep_commitments
from signing.payload import parse_signed
from tests.support.cli import answer, run_verify
from tests.support.pdfcheck import signature_status
from tests.support.reform import add_type, commitment_type, issue_with_commitment, sign_commitment
from tests.support.service import make_enterprise
from verify.status_list import status_at

JSON = {"Accept": "application/json"}


@pytest.fixture(scope="module")
def types(service) -> dict:
    return {
        "flag": add_type(service, service.health, commitment_type("GGWSF", "flag")),
        "suspend": add_type(service, service.health, commitment_type("GGWSS", "suspend", days=10)),
    }


@pytest.fixture(scope="module")
def holder(service):
    return make_enterprise(service, "深圳市承诺酒店管理有限公司")


@pytest.fixture(scope="module")
def issued(service, types, holder) -> tuple[dict, dict]:
    """A commitment signed, and a licence issued with it (flag on overdue)."""
    c = sign_commitment(service, holder, service.health, "GGWSF")
    return c, issue_with_commitment(service, holder, service.health, "GGWSF", c["id"])


def _path(url: str) -> str:
    return url.replace("http://testserver", "")


def _verify(service, pdf: bytes) -> dict:
    r = service.client.post("/api/v1/verify", files={"file": ("x.pdf", pdf, "application/pdf")})
    assert r.status_code == 200, r.text
    return r.json()


def test_a_type_in_commitment_mode_requires_its_terms(service) -> None:
    body = commitment_type("GGWSX")
    del body["commitment"]
    r = service.client.post("/api/v1/licence-types", headers=service.health.auth, json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == "commitment"


def test_terms_on_a_type_in_another_mode_are_refused(service) -> None:
    body = {**commitment_type("GGWSY"), "reform_mode": "approval"}
    r = service.client.post("/api/v1/licence-types", headers=service.health.auth, json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == "commitment"


def test_on_overdue_must_be_flag_or_suspend(service) -> None:
    body = commitment_type("GGWSZ", "ignore")
    r = service.client.post("/api/v1/licence-types", headers=service.health.auth, json=body)
    assert r.status_code == 422 and r.json()["error"]["field"].startswith("commitment")


def test_the_commitment_text_is_public(service, types) -> None:
    r = service.client.get(f"/api/v1/commitments/texts/{service.health.code}/GGWSS")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["text"] == types["suspend"]["commitment"]["text"]
    assert (body["conditions_due_days"], body["on_overdue"]) == (10, "suspend")


def test_the_text_of_an_unknown_type_is_refused_naming_it(service, types) -> None:
    r = service.client.get(f"/api/v1/commitments/texts/{service.health.code}/NOSUCH")
    assert r.status_code == 422 and r.json()["error"]["field"] == "licence_type"


def test_the_signed_commitment_verifies_signed_by_enterprise(service, holder, issued) -> None:
    c, _lic = issued
    pdf = service.client.get(_path(c["pdf_url"]), headers=holder.auth)
    assert pdf.status_code == 200
    _sig, status = signature_status(service.ctx, pdf.content)
    assert status.intact and status.trusted
    v = _verify(service, pdf.content)
    assert v["verdict"] == "signed_by_enterprise"
    [signer] = v["signers"]
    assert (signer["name"], signer["uscc"]) == (holder.name, holder.uscc)


def test_a_licence_issued_with_it_is_valid_and_its_commitment_pending(service, issued) -> None:
    _c, lic = issued
    assert lic["status"] == "valid"
    assert lic["commitment"]["status"] == "pending"
    due = (clock.today() + timedelta(days=30)).isoformat()
    assert lic["commitment"]["due"] == due
    again = service.client.get(f"/api/v1/licences/{lic['id']}", headers=service.health.auth).json()
    assert again["commitment"]["status"] == "pending" and again["commitment"]["due"] == due


def test_v_shows_the_commitment_and_links_its_pdf(service, holder, issued) -> None:
    c, lic = issued
    view = service.client.get(_path(lic["verify_url"]), headers=JSON).json()
    assert view["commitment"]["status"] == "pending" and view["commitment"]["text"] == c["text"]
    html = service.client.get(_path(lic["verify_url"])).text
    assert c["text"] in html and view["commitment"]["pdf_url"] in html
    public = service.client.get(_path(view["commitment"]["pdf_url"]))  # no credentials: it is public
    assert public.status_code == 200
    assert _verify(service, public.content)["verdict"] == "signed_by_enterprise"


def test_an_unused_commitment_is_not_public(service, holder, types) -> None:
    c = sign_commitment(service, holder, service.health, "GGWSF")
    assert service.client.get(f"/commitments/{c['id']}.pdf").status_code == 404


def test_every_verdict_carries_the_commitment(service, issued) -> None:
    _c, lic = issued
    pdf = service.client.get(_path(lic["pdf_url"]), headers=service.health.auth).content
    v = _verify(service, pdf)
    assert v["verdict"] == "genuine" and v["licence"]["commitment"]["status"] == "pending"
    q = service.client.post("/api/v1/verify/qr", json={"text": lic["verify_url"]}).json()
    assert q["verdict"] == "genuine" and q["licence"]["commitment"]["due"] == lic["commitment"]["due"]


def test_another_enterprises_commitment_is_refused_naming_it(service, holder, types) -> None:
    c = sign_commitment(service, holder, service.health, "GGWSF")
    other = make_enterprise(service, "深圳市别家有限公司")
    body = {
        "licence_type": "GGWSF",
        "holder_uscc": other.uscc,
        "holder_name": other.name,
        "fields": {"经营场所": "深圳市"},
        "commitment_id": c["id"],
    }
    r = service.client.post("/api/v1/licences", headers=service.health.auth, json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == "commitment_id"


def test_a_commitment_serves_one_licence(service, holder, issued) -> None:
    c, _lic = issued
    body = {
        "licence_type": "GGWSF",
        "holder_uscc": holder.uscc,
        "holder_name": holder.name,
        "fields": {"经营场所": "深圳市"},
        "commitment_id": c["id"],
    }
    r = service.client.post("/api/v1/licences", headers=service.health.auth, json=body)
    assert r.status_code == 409 and r.json()["error"]["field"] == "commitment_id"


def test_a_commitment_for_another_type_is_refused(service, holder, types) -> None:
    c = sign_commitment(service, holder, service.health, "GGWSS")
    body = {
        "licence_type": "GGWSF",
        "holder_uscc": holder.uscc,
        "holder_name": holder.name,
        "fields": {"经营场所": "深圳市"},
        "commitment_id": c["id"],
    }
    r = service.client.post("/api/v1/licences", headers=service.health.auth, json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == "commitment_id"


def test_fulfilled_is_recorded_once(service, holder, types) -> None:
    c = sign_commitment(service, holder, service.health, "GGWSF")
    lic = issue_with_commitment(service, holder, service.health, "GGWSF", c["id"])
    url = f"/api/v1/licences/{lic['id']}/commitment"
    r = service.client.post(url, headers=service.health.auth, json={"result": "fulfilled", "note": "现场核查符合"})
    assert r.status_code == 200 and r.json()["status"] == "fulfilled"
    view = service.client.get(_path(lic["verify_url"]), headers=JSON).json()
    assert view["status"] == "valid" and view["commitment"]["status"] == "fulfilled"
    twice = service.client.post(url, headers=service.health.auth, json={"result": "unfulfilled"})
    assert twice.status_code == 409 and twice.json()["error"]["field"] == "result"


def test_only_the_issuing_department_records_the_result(service, issued) -> None:
    _c, lic = issued
    r = service.client.post(
        f"/api/v1/licences/{lic['id']}/commitment", headers=service.housing.auth, json={"result": "fulfilled"}
    )
    assert r.status_code == 404


def test_unfulfilled_withdraws_the_licence(service, holder, types) -> None:
    c = sign_commitment(service, holder, service.health, "GGWSF")
    lic = issue_with_commitment(service, holder, service.health, "GGWSF", c["id"])
    r = service.client.post(
        f"/api/v1/licences/{lic['id']}/commitment",
        headers=service.health.auth,
        json={"result": "unfulfilled", "note": "场所不符合卫生规范"},
    )
    assert r.status_code == 200, r.text
    view = service.client.get(_path(lic["verify_url"]), headers=JSON).json()
    assert view["status"] == "revoked" and view["revoke_kind"] == "撤销"
    assert "承诺不实" in view["state_reason"]
    assert view["commitment"]["status"] == "unfulfilled"


def test_the_inspectors_note_stays_off_the_public_pages(service, holder, types) -> None:
    c = sign_commitment(service, holder, service.health, "GGWSF")
    lic = issue_with_commitment(service, holder, service.health, "GGWSF", c["id"])
    note = "核查人：王某，身份证号 440305199001011234"
    r = service.client.post(
        f"/api/v1/licences/{lic['id']}/commitment",
        headers=service.health.auth,
        json={"result": "unfulfilled", "note": note},
    )
    assert r.status_code == 200 and r.json()["note"] == note  # the department keeps it
    assert "440305199001011234" not in service.client.get(_path(lic["verify_url"]), headers=JSON).text
    assert "440305199001011234" not in service.client.get(f"/e/{holder.uscc}", headers=JSON).text


def test_another_departments_commitment_is_404_and_the_attempt_recorded(service, holder, types) -> None:
    c = sign_commitment(service, holder, service.health, "GGWSF")
    r = service.client.get(f"/api/v1/commitments/{c['id']}", headers=service.housing.auth)
    assert r.status_code == 404
    service.ctx.denials.flush(service.ctx.engine)
    with Session(service.ctx.engine) as s:
        denied = s.exec(select(AuditEvent).where(AuditEvent.action == "denied.cross_department")).all()
    assert any(e.subject_id == c["id"] for e in denied)


def test_the_departments_download_of_a_commitment_is_audited_and_its_link_works(service, holder, types) -> None:
    c = sign_commitment(service, holder, service.health, "GGWSF")
    view = service.client.get(f"/api/v1/commitments/{c['id']}", headers=service.health.auth).json()
    r = service.client.get(_path(view["pdf_url"]), headers=service.health.auth)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert _audits(service, "commitment.download", c["id"]) == 1


def _audits(service, action: str, subject: str) -> int:
    with Session(service.ctx.engine) as s:
        q = select(AuditEvent).where(AuditEvent.action == action, col(AuditEvent.subject_id) == subject)
        return len(s.exec(q).all())


def test_sweep_marks_overdue_once_and_suspends_where_the_type_says(service, holder, types) -> None:
    c = sign_commitment(service, holder, service.health, "GGWSS")
    lic = issue_with_commitment(service, holder, service.health, "GGWSS", c["id"])
    due = datetime.fromisoformat(lic["commitment"]["due"])
    on_due = datetime(due.year, due.month, due.day, 12, tzinfo=clock.CST)
    with session_scope(service.ctx.engine) as s:
        assert sweep_commitments(s, on_due) == 0  # on its due day it is still pending
    after = on_due + timedelta(days=1)
    with session_scope(service.ctx.engine) as s:
        assert sweep_commitments(s, after) >= 1
    with session_scope(service.ctx.engine) as s:
        assert sweep_commitments(s, after) == 0
    assert _audits(service, "commitment.overdue", c["id"]) == 1
    view = service.client.get(_path(lic["verify_url"]), headers=JSON).json()
    assert view["status"] == "suspended" and view["commitment"]["status"] == "overdue"
    index = parse_signed(lic["verify_url"].rsplit("/", 1)[1]).claims.status_index
    status_list = service.client.get("/api/v1/status-list").json()
    assert status_at(status_list["payload"]["status_list"]["lst"], index) == 2  # suspended (IETF list: 2)


def test_status_at_a_moment_shows_the_commitment_then(service, holder, types) -> None:
    c = sign_commitment(service, holder, service.health, "GGWSF")
    lic = issue_with_commitment(service, holder, service.health, "GGWSF", c["id"])
    due = lic["commitment"]["due"]
    path = _path(lic["verify_url"])
    before = service.client.get(path, params={"at": f"{due}T23:30:00"}, headers=JSON).json()
    assert before["commitment"]["status"] == "pending"
    later = (datetime.fromisoformat(due) + timedelta(days=1)).date().isoformat()
    after = service.client.get(path, params={"at": f"{later}T00:30:00"}, headers=JSON).json()
    assert after["commitment"]["status"] == "overdue"


def test_two_sweeps_at_once_mark_each_commitment_once(service, holder, types) -> None:
    made = [sign_commitment(service, holder, service.health, "GGWSS") for _ in range(3)]
    for c in made:
        issue_with_commitment(service, holder, service.health, "GGWSS", c["id"])
    at = datetime.now(UTC) + timedelta(days=40)
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def sweep() -> None:
        barrier.wait()
        with session_scope(service.ctx.engine) as s:
            counts.append(sweep_commitments(s, at))

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) >= 3
    for c in made:
        assert _audits(service, "commitment.overdue", c["id"]) == 1
        with Session(service.ctx.engine) as s:
            [lic_id] = s.exec(select(Commitment.licence_id).where(Commitment.id == c["id"])).all()
        assert _audits(service, "licence.suspend", lic_id) == 1


def test_overdue_under_flag_only_flags(service, holder, types) -> None:
    c = sign_commitment(service, holder, service.health, "GGWSF")
    lic = issue_with_commitment(service, holder, service.health, "GGWSF", c["id"])
    with session_scope(service.ctx.engine) as s:
        sweep_commitments(s, datetime.now(UTC) + timedelta(days=31))
    view = service.client.get(_path(lic["verify_url"]), headers=JSON).json()
    assert view["status"] == "valid" and view["commitment"]["status"] == "overdue"


def test_fulfilled_after_an_overdue_suspension_resumes_the_licence(service, holder, types) -> None:
    c = sign_commitment(service, holder, service.health, "GGWSS")
    lic = issue_with_commitment(service, holder, service.health, "GGWSS", c["id"])
    with session_scope(service.ctx.engine) as s:
        sweep_commitments(s, datetime.now(UTC) + timedelta(days=11))
    r = service.client.post(
        f"/api/v1/licences/{lic['id']}/commitment", headers=service.health.auth, json={"result": "fulfilled"}
    )
    assert r.status_code == 200, r.text
    view = service.client.get(_path(lic["verify_url"]), headers=JSON).json()
    assert view["status"] == "valid" and view["commitment"]["status"] == "fulfilled"


def test_certsvc_verify_shows_the_commitment(service, holder, types, tmp_path) -> None:
    c = sign_commitment(service, holder, service.health, "GGWSF")
    lic = issue_with_commitment(service, holder, service.health, "GGWSF", c["id"])  # not swept by the tests above
    pdf = tmp_path / "licence.pdf"
    pdf.write_bytes(service.client.get(_path(lic["pdf_url"]), headers=service.health.auth).content)
    as_json = run_verify(str(pdf), "--json", cwd=tmp_path, online=True)
    assert as_json.returncode == 0, as_json.stderr
    assert answer(as_json)["licence"]["commitment"]["status"] == "pending"
    words = run_verify(str(pdf), cwd=tmp_path, online=True)
    assert "commitment: PENDING" in words.stdout and lic["commitment"]["due"] in words.stdout
