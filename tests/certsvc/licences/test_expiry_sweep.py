"""Expiry as an event: `certsvc sweep` records (audits) once that a licence passed its valid_until."""

from __future__ import annotations

from datetime import timedelta

import pytest

from certsvc.core.clock import today
from tests.support.sweep import audit_count, run_sweep


@pytest.fixture(scope="module")
def swept(service) -> dict:
    """Licences ending in two days (one of them revoked) and in thirty, swept before and after the end."""
    end = (today() + timedelta(days=2)).isoformat()
    ending = service.issue_food(valid_until=end)
    revoked = service.issue_food(valid_until=end)
    later = service.issue_food(valid_until=(today() + timedelta(days=30)).isoformat())
    r = service.client.post(
        f"/api/v1/licences/{revoked['id']}/revoke", headers=service.health.auth, json={"reason": "申请注销"}
    )
    assert r.status_code == 200, r.text
    run_sweep((today() + timedelta(days=2)).isoformat() + "T23:00:00")  # its last day: not expired yet
    before = audit_count(service.ctx.engine, "licence.expire", ending["id"])
    for days in (3, 4):
        run_sweep((today() + timedelta(days=days)).isoformat() + "T08:00:00")
    return {"ending": ending, "revoked": revoked, "later": later, "before": before}


def test_expiry_is_not_recorded_on_the_last_day(swept) -> None:
    assert swept["before"] == 0


def test_expiry_is_audited_exactly_once(service, swept) -> None:
    assert audit_count(service.ctx.engine, "licence.expire", swept["ending"]["id"]) == 1


def test_a_licence_still_valid_then_has_no_expiry_event(service, swept) -> None:
    assert audit_count(service.ctx.engine, "licence.expire", swept["later"]["id"]) == 0


def test_a_revoked_licence_has_no_expiry_event(service, swept) -> None:
    assert audit_count(service.ctx.engine, "licence.expire", swept["revoked"]["id"]) == 0


def test_recording_expiry_changes_no_status(service, swept) -> None:
    """Expiry stays derived from valid_until: today the licence is still valid, whatever was swept."""
    r = service.client.get(f"/api/v1/licences/{swept['ending']['id']}", headers=service.health.auth)
    assert r.json()["status"] == "valid"
