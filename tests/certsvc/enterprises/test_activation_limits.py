"""Activation under attack (issue 11, finding 4): failures are limited per client address, a
stranger never locks out the holder, and a code gives exactly one token however many requests
race with it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from certsvc.db.models import ApiCredential, AuditEvent, Enterprise
from tests.support.data import business_licence_body, random_uscc
from tests.support.race import race

WRONG = "AAAA-BBBB-CCCC-DDDD"
PER_CLIENT = 10  # CERTSVC_ACTIVATION_FAILURES_PER_CLIENT
PER_USCC = 20  # CERTSVC_ACTIVATION_FAILURES_PER_USCC


def _bl(service) -> tuple[str, str]:
    uscc = random_uscc()
    r = service.client.post("/api/v1/licences", headers=service.market.auth, json=business_licence_body(uscc))
    assert r.status_code == 201, r.text
    return uscc, r.json()["activation_code"]


def _from(service, address: str) -> TestClient:
    """A client whose requests come from ``address``."""
    return TestClient(service.client.app, client=(address, 50000))


def _activate(client: TestClient, uscc: str, code: str):
    return client.post("/api/v1/enterprise/activate", json={"uscc": uscc, "activation_code": code})


def test_failures_from_one_address_get_429_with_retry_after(service) -> None:
    uscc, code = _bl(service)
    guesser = _from(service, "203.0.113.10")
    for _ in range(PER_CLIENT):
        assert _activate(guesser, uscc, WRONG).status_code == 401
    r = _activate(guesser, uscc, code)
    assert r.status_code == 429
    assert 0 < int(r.headers["retry-after"]) <= 900
    other_uscc, _ = _bl(service)  # the limit is the address's, whatever USCC it tries next
    assert _activate(guesser, other_uscc, WRONG).status_code == 429


def test_a_strangers_failures_never_lock_out_the_holder(service) -> None:
    uscc, code = _bl(service)
    stranger = _from(service, "198.51.100.7")
    for _ in range(PER_CLIENT + 2):
        assert _activate(stranger, uscc, WRONG).status_code in (401, 429)
    r = _activate(_from(service, "192.0.2.1"), uscc, code)
    assert r.status_code == 200, r.text


def test_guessing_from_many_addresses_gets_one_try_each_and_the_holder_still_gets_in(service) -> None:
    uscc, code = _bl(service)
    for k in range(PER_USCC):
        assert _activate(_from(service, f"198.51.100.{100 + k}"), uscc, WRONG).status_code == 401
    again = _activate(_from(service, "198.51.100.100"), uscc, WRONG)  # failed once already
    assert again.status_code == 429 and int(again.headers["retry-after"]) > 0
    assert _activate(_from(service, "192.0.2.2"), uscc, code).status_code == 200


def test_a_failed_attempt_is_audited_with_the_client_address(service) -> None:
    uscc, _code = _bl(service)
    assert _activate(_from(service, "203.0.113.77"), uscc, WRONG).status_code == 401
    with Session(service.ctx.engine) as s:
        events = s.exec(
            select(AuditEvent).where(AuditEvent.action == "enterprise.activate_failed", AuditEvent.subject_id == uscc)
        ).all()
    assert [e.details.get("client") for e in events] == ["203.0.113.77"]


def test_the_portal_form_is_limited_by_the_same_address(service) -> None:
    uscc, code = _bl(service)
    address = "203.0.113.20"
    for _ in range(PER_CLIENT):
        assert _activate(_from(service, address), uscc, WRONG).status_code == 401
    with TestClient(service.client.app, client=(address, 50000), follow_redirects=False) as c:
        csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/portal").text).group(1)
        r = c.post("/portal/activate", data={"uscc": uscc, "activation_code": code, "csrf": csrf})
    assert r.status_code == 429 and "失败次数过多" in r.text and int(r.headers["retry-after"]) > 0
    with TestClient(service.client.app, client=("192.0.2.3", 50000), follow_redirects=False) as c:
        csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/portal").text).group(1)
        r = c.post("/portal/activate", data={"uscc": uscc, "activation_code": code, "csrf": csrf})
    assert r.status_code == 200 and "只显示这一次" in r.text


def test_simultaneous_activations_with_one_code_give_exactly_one_token(service) -> None:
    for trial in range(5):
        client = _from(service, f"192.0.2.{50 + trial}")  # the 7 losers count as failures of the address
        uscc, code = _bl(service)
        answers = race(*[lambda: _activate(client, uscc, code) for _ in range(8)])  # noqa: B023
        assert sorted(r.status_code for r in answers) == [200] + [401] * 7
        with Session(service.ctx.engine) as s:
            ent = s.exec(select(Enterprise).where(Enterprise.uscc == uscc)).one()
            creds = s.exec(select(ApiCredential).where(col(ApiCredential.owner_id) == ent.id)).all()
        assert len(creds) == 1
