"""Refused attempts leave a trace: each kind of refusal is an audit event with the client address
(one per kind, client and subject per minute, with a count), and refused downloads through a
holder's grants show in its access log."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from certsvc.db.models import AuditEvent, Grant, utcnow
from tests.support.data import food_licence_body
from tests.support.service import Ent, Service

JSON = {"Accept": "application/json"}
_hosts = itertools.count(10)


@pytest.fixture
def caller(service: Service) -> Iterator[TestClient]:
    """A client from an address of its own (no lifespan: the test flushes the counts itself)."""
    host = f"203.0.113.{next(_hosts)}"
    yield TestClient(service.client.app, client=(host, 40000))


def _host(c: TestClient) -> str:
    return c._transport.client[0]  # type: ignore[attr-defined]


def traces(service: Service, c: TestClient, kind: str) -> list[AuditEvent]:
    """The audit events of refusals of ``kind`` to ``c``'s address, after writing what is counted."""
    service.ctx.denials.flush(service.ctx.engine)
    with Session(service.ctx.engine) as s:
        rows = s.exec(select(AuditEvent).where(AuditEvent.action == f"denied.{kind}").order_by(col(AuditEvent.id)))
        return [e for e in rows if e.details.get("client") == _host(c)]


def _path(url: str) -> str:
    return url.removeprefix("http://testserver")


def access_items(service: Service, ent: Ent) -> list[dict[str, Any]]:
    r = service.client.get("/api/v1/enterprise/access-log", headers=ent.auth)
    assert r.status_code == 200, r.text
    return r.json()["items"]


# --- bad keys -----------------------------------------------------------------------------


def test_unknown_department_key_is_recorded_with_the_client_address(service, caller) -> None:
    r = caller.get("/api/v1/licence-types", headers={"Authorization": "Bearer csd_nosuchkey_abcdefabcdef"})
    assert r.status_code == 401
    [ev] = traces(service, caller, "bad_key")
    assert ev.actor_kind == "public" and ev.details["count"] == 1
    assert ev.details["client"] == _host(caller)


def test_malformed_enterprise_token_is_recorded(service, caller) -> None:
    r = caller.get("/api/v1/enterprise/licences", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401
    [ev] = traces(service, caller, "bad_key")
    assert "malformed" in ev.details["reason"]


def test_wrong_secret_for_a_real_key_names_the_credential(service, caller, ent) -> None:
    r = caller.get("/api/v1/enterprise/licences", headers={"Authorization": f"Bearer {ent.token[:-4]}AAAA"})
    assert r.status_code == 401
    [ev] = traces(service, caller, "bad_key")
    assert ev.subject_kind == "credential" and ev.subject_id is not None


def test_flood_of_bad_keys_is_a_few_counted_events(service, caller) -> None:
    for i in range(200):
        r = caller.get("/api/v1/licences/x", headers={"Authorization": f"Bearer csd_guess{i:04d}_{'a' * 24}"})
        assert r.status_code == 401
    events = traces(service, caller, "bad_key")
    assert 1 <= len(events) <= 3  # one per minute the flood spanned
    assert sum(e.details["count"] for e in events) == 200


# --- another department's licence or receipt ----------------------------------------------


def test_department_asking_for_anothers_licence_is_recorded(service, caller) -> None:
    lic = service.issue_food()
    r = caller.get(f"/api/v1/licences/{lic['id']}", headers=service.housing.auth)
    assert r.status_code == 404
    [ev] = traces(service, caller, "cross_department")
    assert (ev.actor_kind, ev.actor_id) == ("department", str(service.housing.id))
    assert (ev.subject_kind, ev.subject_id) == ("licence", lic["id"])


def test_department_revoking_anothers_licence_is_recorded(service, caller) -> None:
    lic = service.issue_food()
    r = caller.post(f"/api/v1/licences/{lic['id']}/revoke", headers=service.market.auth, json={"reason": "吊销"})
    assert r.status_code == 404
    [ev] = traces(service, caller, "cross_department")
    assert ev.actor_id == str(service.market.id) and ev.subject_id == lic["id"]


def _receipt(service: Service) -> dict:
    body = {
        "applicant_name": "深圳市鹏城贸易有限公司",
        "matter": "食品经营许可",
        "application_number": "SL-2026-0001",
        "materials_received": ["申请书"],
    }
    r = service.client.post("/api/v1/receipts", headers=service.health.auth, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_department_asking_for_anothers_receipt_is_recorded(service, caller) -> None:
    rec = _receipt(service)
    assert caller.get(f"/api/v1/receipts/{rec['id']}/pdf", headers=service.housing.auth).status_code == 404
    [ev] = traces(service, caller, "cross_department")
    assert (ev.subject_kind, ev.subject_id) == ("receipt", rec["id"])


def test_receipt_pdf_download_is_audited(service) -> None:
    rec = _receipt(service)
    r = service.client.get(f"/api/v1/receipts/{rec['id']}/pdf", headers=service.health.auth)
    assert r.status_code == 200
    with Session(service.ctx.engine) as s:
        ev = s.exec(
            select(AuditEvent).where(AuditEvent.action == "receipt.download", AuditEvent.subject_id == rec["id"])
        ).one()
    assert (ev.actor_kind, ev.actor_id) == ("department", str(service.health.id))


# --- share links --------------------------------------------------------------------------


def _download_url(service: Service, g: dict) -> str:
    view = service.client.get(_path(g["share_url"]), headers=JSON).json()
    return _path(view["licences"][0]["download_url"])


def _grant_refusal(service: Service, caller: TestClient, ent: Ent, g: dict, kind: str) -> None:
    [ev] = traces(service, caller, f"grant_{kind}")
    assert (ev.subject_kind, ev.subject_id) == ("grant", g["id"])
    assert ev.details["holder_uscc"] == ent.uscc
    mine = [i for i in access_items(service, ent) if i["grant_id"] == g["id"] and i["kind"] == f"refused_{kind}"]
    assert len(mine) == 1 and mine[0]["attempts"] == 1
    assert mine[0]["licence_id"] == ent.food_licence["id"]


def test_download_through_a_revoked_grant_is_recorded_for_the_holder(service, caller, ent, grant) -> None:
    g = grant()
    url = _download_url(service, g)
    assert service.client.delete(f"/api/v1/enterprise/grants/{g['id']}", headers=ent.auth).status_code == 200
    assert caller.get(url).status_code == 410
    _grant_refusal(service, caller, ent, g, "revoked")


def test_download_through_an_expired_grant_is_recorded_for_the_holder(service, caller, ent, grant) -> None:
    g = grant()
    url = _download_url(service, g)
    with Session(service.ctx.engine) as s:
        row = s.get(Grant, g["id"])
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
        s.add(row)
        s.commit()
    assert caller.get(url).status_code == 410
    _grant_refusal(service, caller, ent, g, "expired")


def test_download_through_a_used_up_grant_is_recorded_for_the_holder(service, caller, ent, grant) -> None:
    g = grant(max_downloads=1)
    url = _download_url(service, g)
    assert service.client.get(url).status_code == 200
    assert caller.get(url).status_code == 410
    _grant_refusal(service, caller, ent, g, "exhausted")


def test_holder_portal_shows_refused_downloads(service, caller, ent, grant) -> None:
    g = grant()
    url = _download_url(service, g)
    service.client.delete(f"/api/v1/enterprise/grants/{g['id']}", headers=ent.auth)
    for _ in range(3):
        assert caller.get(url).status_code == 410
    with TestClient(service.client.app) as c:
        csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', c.get("/portal").text)
        assert csrf is not None
        assert c.post("/portal/signin", data={"token": ent.token, "csrf": csrf.group(1)}).status_code == 200
        page = c.get("/portal/access-log").text
    assert "授权已撤销" in page and "× 3" in page


def test_download_of_a_licence_outside_the_grant_is_recorded(service, caller, ent, grant) -> None:
    g = grant()
    token = g["share_url"].rsplit("/", 1)[1]
    assert caller.get(f"/s/{token}/licences/{ent.business_licence['id']}.pdf").status_code == 404
    [ev] = traces(service, caller, "grant_outside")
    assert ev.subject_id == g["id"] and ev.details["holder_uscc"] == ent.uscc


def test_unknown_share_token_is_recorded(service, caller) -> None:
    assert caller.get("/s/no-such-share-token-abcdefghijkl/licences/x.pdf").status_code == 404
    [ev] = traces(service, caller, "grant_unknown")
    assert ev.subject_id is None and ev.details["count"] == 1


# --- the portal ---------------------------------------------------------------------------


def test_portal_csrf_refusal_is_recorded(service, caller) -> None:
    caller.get("/portal")
    r = caller.post("/portal/signin", data={"token": "x", "csrf": "f" * 64})
    assert r.status_code == 403
    r = caller.post("/portal/signin", data={"token": "x"}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    events = traces(service, caller, "csrf")
    assert {e.details["reason"] for e in events} == {"missing or wrong token", "other origin"}
    assert {e.subject_id for e in events} == {"/portal/signin"}


def test_portal_sign_in_with_a_bad_token_is_recorded(service, caller, ent) -> None:
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', caller.get("/portal").text)
    assert csrf is not None
    r = caller.post("/portal/signin", data={"token": ent.token + "x", "csrf": csrf.group(1)})
    assert r.status_code == 401
    [ev] = traces(service, caller, "bad_key")
    assert ev.subject_kind == "credential"


# --- the chain ----------------------------------------------------------------------------


def test_recorded_refusals_keep_the_audit_chain_intact(service, caller, issue_food: Callable[..., dict]) -> None:
    from certsvc.audit import verify_chain

    lic = issue_food()
    caller.get(f"/api/v1/licences/{lic['id']}", headers=service.market.auth)
    caller.get("/api/v1/licence-types", headers={"Authorization": "Bearer nope"})
    assert traces(service, caller, "cross_department")
    assert service.client.post("/api/v1/licences", headers=service.health.auth, json=food_licence_body()).is_success
    with Session(service.ctx.engine) as s:
        assert verify_chain(s).ok


def test_refusals_from_more_addresses_than_kept_share_one_count(service) -> None:
    from certsvc.denials import OVERFLOW_CLIENT, DenialLog
    from certsvc.errors import Denial

    log = DenialLog(max_buckets=3)
    for i in range(10):
        log.add(Denial("bad_key", reason="unknown department key"), f"198.51.100.{i}")
    assert log.pending() == 10
    log.flush(service.ctx.engine)
    with Session(service.ctx.engine) as s:
        rows = s.exec(select(AuditEvent).where(AuditEvent.action == "denied.bad_key")).all()
    overflow = [e for e in rows if e.details["client"] == OVERFLOW_CLIENT]
    kept = [e for e in rows if e.details["client"].startswith("198.51.100.")]
    assert len(kept) == 3 and sum(e.details["count"] for e in overflow) == 7
