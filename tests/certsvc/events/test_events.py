"""Events to supervising departments (审管互动), through the app and a real HTTP receiver on a local
port (SPEC: "Events to supervising departments"). The dispatcher is driven by a call, as of a given
moment, so that retries need no waiting."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import os
import subprocess
import sys
import time

import pytest
from sqlmodel import Session, select
from standardwebhooks import Webhook

from certsvc.db.models import AuditEvent, Licence
from certsvc.db.session import session_scope
from certsvc.db.work import Delivery, OutboxEvent, Subscription
from certsvc.events import secrets
from certsvc.events.dispatch import run_dispatcher
from certsvc.licences.lifecycle import apply_state
from certsvc.sealed import Unreadable
from tests.support.events import FOOD, change, deliveries, dispatch, subscribe
from tests.support.receiver import receiving
from tests.support.service import make_enterprise


def test_a_supervising_department_receives_issued_then_revoked_in_order_each_signed(service, receiver) -> None:
    sub = subscribe(service, service.housing, receiver.url, [FOOD])  # another department's type
    lic = service.issue_food()
    change(service, lic["id"], "revoke", "以欺骗手段取得许可")
    dispatch(service)
    got = receiver.about(lic["id"])
    assert [g.json["type"] for g in got] == ["licence.issued", "licence.revoked"]
    for g in got:
        payload = Webhook(sub["secret"]).verify(g.body, g.headers)  # raises if the signature is wrong
        assert payload["id"] == g.headers["webhook-id"]
        assert set(payload) == {"type", "id", "occurred_at", "data"}
        assert not {"authorization", "cookie", "proxy-authorization"} & set(g.headers)  # the signature only
    issued, revoked = (g.json["data"] for g in got)
    assert issued["identifier"] == lic["identifier"]
    assert issued["holder_uscc"] == lic["holder_uscc"] and issued["holder_name"] == lic["holder_name"]
    assert issued["licence_type"] == FOOD and issued["status"] == "valid"
    assert issued["verify_url"] == lic["verify_url"]
    assert "fields" not in issued  # field values may hold personal data
    assert revoked["status"] == "revoked" and revoked["change"] == "revoke"
    assert revoked["reason"] == "以欺骗手段取得许可"
    assert [d["state"] for d in deliveries(service, service.housing, sub)] == ["delivered", "delivered"]


def test_a_signature_made_with_another_secret_does_not_verify(service, receiver) -> None:
    subscribe(service, service.housing, receiver.url, [FOOD], ["licence.issued"])
    lic = service.issue_food()
    dispatch(service)
    (got,) = receiver.about(lic["id"])
    other = subscribe(service, service.market, "http://127.0.0.1:9/unused", [FOOD], ["licence.issued"])
    with pytest.raises(Exception, match="(?i)signature"):
        Webhook(other["secret"]).verify(got.body, got.headers)


def test_a_receiver_answering_500_gets_retries_with_the_same_webhook_id(service) -> None:
    with receiving(500, 500) as rec:
        sub = subscribe(service, service.housing, rec.url, [FOOD], ["licence.issued"])
        lic = service.issue_food()
        dispatch(service)
        (d,) = deliveries(service, service.housing, sub)
        assert (d["state"], d["attempts"], d["last_status"]) == ("pending", 1, 500)
        assert dispatch(service, after_s=5) == {"delivered": 0, "retrying": 0, "failed": 0}  # backing off
        dispatch(service, after_s=11)
        dispatch(service, after_s=11 + 21)
        got = rec.about(lic["id"])
    assert len(got) == 3
    assert len({g.headers["webhook-id"] for g in got}) == 1
    (d,) = deliveries(service, service.housing, sub)
    assert (d["state"], d["attempts"], d["last_status"]) == ("delivered", 3, 204)


def test_after_the_retry_period_a_delivery_is_failed_and_shown_so(service) -> None:
    with receiving(*[503] * 5) as rec:
        sub = subscribe(service, service.housing, rec.url, [FOOD], ["licence.issued"])
        service.issue_food()
        dispatch(service, events_retry_for_s=86400)
        dispatch(service, after_s=86401, events_retry_for_s=86400)
        assert len(rec.got) == 2
    (d,) = deliveries(service, service.housing, sub)
    assert (d["state"], d["attempts"], d["last_error"]) == ("failed", 2, "HTTP 503")
    failed = service.client.get(
        f"/api/v1/subscriptions/{sub['id']}/deliveries?state=failed", headers=service.housing.auth
    )
    assert [x["id"] for x in failed.json()["items"]] == [d["id"]]
    metrics = service.client.get("/metrics").text
    assert 'certsvc_event_deliveries{state="failed"}' in metrics
    assert "certsvc_event_oldest_pending_seconds" in metrics


def test_a_later_event_waits_until_the_earlier_one_for_its_licence_is_delivered(service) -> None:
    with receiving(500) as rec:
        subscribe(service, service.housing, rec.url, [FOOD])
        lic = service.issue_food()
        change(service, lic["id"], "suspend")
        dispatch(service)
        assert [g.json["type"] for g in rec.about(lic["id"])] == ["licence.issued"]  # suspended not sent yet
        dispatch(service, after_s=11)
        types = [g.json["type"] for g in rec.about(lic["id"])]
    assert types == ["licence.issued", "licence.issued", "licence.suspended"]


def test_a_rolled_back_change_sends_nothing(service, receiver) -> None:
    subscribe(service, service.housing, receiver.url, [FOOD], ["licence.suspended"])
    lic = service.issue_food()
    with pytest.raises(RuntimeError), session_scope(service.ctx.engine) as s:
        row = s.get(Licence, lic["id"])
        assert row is not None
        apply_state(s, service.ctx.keyring, row, "suspend", "核查", actor_kind="department")
        raise RuntimeError("the change fails after the event was written")
    with Session(service.ctx.engine) as s:
        assert [e.type for e in s.exec(select(OutboxEvent).where(OutboxEvent.licence_id == lic["id"]))] == [
            "licence.issued"
        ]
    dispatch(service)
    assert receiver.about(lic["id"]) == []


def test_revoking_a_business_licence_tells_each_subscribed_department_that_issued_the_holder_a_licence(
    service,
) -> None:
    ent = make_enterprise(service)  # a business licence (market) and a food licence (health)
    with receiving() as health_rec, receiving() as housing_rec:
        subscribe(service, service.health, health_rec.url, ["*"], ["holder.revoked"])
        subscribe(service, service.housing, housing_rec.url, ["*"], ["holder.revoked"])  # issued it nothing
        change(service, ent.business_licence["id"], "revoke", "吊销营业执照：无证经营", dept=service.market)
        dispatch(service)
        told = [g for g in health_rec.of_type("holder.revoked") if g.json["data"]["holder_uscc"] == ent.uscc]
        assert [g for g in housing_rec.of_type("holder.revoked") if g.json["data"]["holder_uscc"] == ent.uscc] == []
    (event,) = told
    data = event.json["data"]
    assert data["business_licence_id"] == ent.business_licence["id"]
    assert data["revoke_kind"] == "吊销"
    assert [x["licence_id"] for x in data["licences"]] == [ent.food_licence["id"]]


def test_feedback_by_the_receiving_department_shows_on_the_licence(service, receiver) -> None:
    subscribe(service, service.housing, receiver.url, [FOOD], ["licence.issued"])
    lic = service.issue_food()
    dispatch(service)
    (got,) = receiver.about(lic["id"])
    event_id = got.headers["webhook-id"]
    r = service.client.post(
        f"/api/v1/events/{event_id}/feedback",
        headers=service.housing.auth,
        json={"result": "纳入监管", "note": "已列入年度检查计划"},
    )
    assert r.status_code == 201, r.text
    shown = service.client.get(f"/api/v1/licences/{lic['id']}", headers=service.health.auth).json()["feedback"]
    assert [(f["event_id"], f["department"], f["result"], f["note"]) for f in shown] == [
        (event_id, "SZZJ", "纳入监管", "已列入年度检查计划")
    ]


def test_feedback_from_a_department_the_event_was_not_sent_to_is_404(service, receiver) -> None:
    subscribe(service, service.housing, receiver.url, [FOOD], ["licence.issued"])
    lic = service.issue_food()
    dispatch(service)
    (got,) = receiver.about(lic["id"])
    r = service.client.post(
        f"/api/v1/events/{got.headers['webhook-id']}/feedback", headers=service.market.auth, json={"result": "核查通过"}
    )
    assert r.status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "http://testserver/hook",
        "http://TESTSERVER:80/x",
        "ftp://example.org/hook",
        "http://user:pw@example.org/",
        "http://169.254.169.254/latest/meta-data",
        "http://example.org:99999/",
    ],
)
def test_a_url_that_is_not_http_or_points_at_the_service_itself_is_422_naming_url(service, url) -> None:
    r = service.client.post(
        "/api/v1/subscriptions", headers=service.housing.auth, json={"url": url, "licence_types": ["*"]}
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "url"


def test_an_unknown_licence_type_or_event_is_422(service, receiver) -> None:
    for body, field in (
        ({"url": receiver.url, "licence_types": ["SZWJ:NOPE"]}, "licence_types"),
        ({"url": receiver.url, "licence_types": ["*"], "events": ["licence.eaten"]}, "events"),
    ):
        r = service.client.post("/api/v1/subscriptions", headers=service.housing.auth, json=body)
        assert r.status_code == 422, r.text
        assert r.json()["error"]["field"] == field


def test_the_secret_is_shown_once_and_stored_only_encrypted(service, receiver, tmp_path) -> None:
    sub = subscribe(service, service.housing, receiver.url, [FOOD])
    listed = service.client.get("/api/v1/subscriptions", headers=service.housing.auth).json()["items"]
    mine = next(x for x in listed if x["id"] == sub["id"])
    assert "secret" not in mine
    with Session(service.ctx.engine) as s:
        row = s.get(Subscription, sub["id"])
        assert row is not None
    secret_b64 = sub["secret"].removeprefix("whsec_")
    assert secret_b64 not in row.secret_sealed and sub["secret"] not in row.secret_sealed
    assert secrets.unseal(service.ctx.settings, row.id, row.secret_sealed) == sub["secret"]
    assert row.secret_sealed.startswith("v2:")  # under the data directory's sealing key
    other_key = dataclasses.replace(service.ctx.settings, data_dir=tmp_path)  # another sealing key
    with pytest.raises(Unreadable):
        secrets.unseal(other_key, row.id, row.secret_sealed)


def test_another_departments_subscription_and_deliveries_are_404(service, receiver) -> None:
    sub = subscribe(service, service.housing, receiver.url, [FOOD])
    r = service.client.get(f"/api/v1/subscriptions/{sub['id']}/deliveries", headers=service.health.auth)
    assert r.status_code == 404
    assert service.client.delete(f"/api/v1/subscriptions/{sub['id']}", headers=service.health.auth).status_code == 404
    service.ctx.denials.flush(service.ctx.engine)
    with Session(service.ctx.engine) as s:
        made = s.exec(
            select(AuditEvent).where(AuditEvent.action == "subscription.create", AuditEvent.subject_id == sub["id"])
        )
        assert [e.actor_id for e in made] == [str(service.housing.id)]
        refused = s.exec(select(AuditEvent).where(AuditEvent.action == "denied.cross_department")).all()
        assert [e for e in refused if e.subject_id == sub["id"]]  # the other department's attempts are on record


def test_a_deleted_subscription_gets_nothing_more(service, receiver) -> None:
    sub = subscribe(service, service.housing, receiver.url, [FOOD])
    r = service.client.delete(f"/api/v1/subscriptions/{sub['id']}", headers=service.housing.auth)
    assert r.status_code == 204
    lic = service.issue_food()
    dispatch(service)
    assert receiver.about(lic["id"]) == []
    with Session(service.ctx.engine) as s:
        assert s.exec(select(Delivery).where(Delivery.subscription_id == sub["id"])).all() == []


def test_a_receiver_that_hangs_delays_only_its_own_deliveries(service) -> None:
    conf = dataclasses.replace(service.ctx.settings, events_concurrency=4, events_interval_s=0.05, events_timeout_s=10)
    with receiving(delay=8) as slow, receiving() as fast:
        subs = [
            (service.housing, subscribe(service, service.housing, slow.url, [FOOD], ["licence.issued"])),
            (service.market, subscribe(service, service.market, fast.url, [FOOD], ["licence.issued"])),
        ]
        ids = {service.issue_food()["id"] for _ in range(6)}

        async def serve_until_fast_has_all() -> float:
            task = asyncio.create_task(run_dispatcher(service.ctx.engine, conf))
            started = time.monotonic()
            while {g.json["data"]["licence_id"] for g in fast.got} < ids and time.monotonic() - started < 20:
                await asyncio.sleep(0.02)
            task.cancel()
            return time.monotonic() - started

        took = asyncio.run(serve_until_fast_has_all())
        assert {g.json["data"]["licence_id"] for g in fast.got} >= ids
        assert took < 6  # not held up behind the receiver that takes 8 s per answer
        assert len(slow.got) <= 2  # at most half the slots go to one subscription
        for dept, sub in subs:
            service.client.delete(f"/api/v1/subscriptions/{sub['id']}", headers=dept.auth)


def test_the_operator_command_delivers_what_is_due(service, receiver) -> None:
    subscribe(service, service.housing, receiver.url, [FOOD], ["licence.issued"])
    lic = service.issue_food()
    out = subprocess.run(
        [sys.executable, "-m", "certsvc.cli", "events", "dispatch"],
        env=dict(os.environ),  # the service's CERTSVC_* settings
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("delivered ")
    assert [g.json["type"] for g in receiver.about(lic["id"])] == ["licence.issued"]


def test_a_secret_the_sealing_key_cannot_read_fails_the_attempt_and_sends_nothing(service, receiver) -> None:
    sub = subscribe(service, service.market, receiver.url, [FOOD], ["licence.issued"])
    with Session(service.ctx.engine) as s:
        row = s.get(Subscription, sub["id"])
        assert row is not None
        row.secret_sealed = "v1:" + base64.b64encode(bytes(48)).decode()  # sealed under a PIN since changed
        s.add(row)
        s.commit()
    lic = service.issue_food()
    dispatch(service)
    (d,) = deliveries(service, service.market, sub)
    assert (d["state"], d["attempts"], d["last_status"]) == ("pending", 1, None)
    assert "cannot be read" in d["last_error"]
    assert not [g for g in receiver.about(lic["id"]) if g.headers.get("webhook-id") == d["event_id"]]
    assert service.client.delete(f"/api/v1/subscriptions/{sub['id']}", headers=service.market.auth).status_code == 204
