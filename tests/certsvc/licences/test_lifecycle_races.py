"""Lifecycle changes sent at the same time: each transition counts once, and the state, the audit
log and the public page agree on what happened (issue 11, finding 3)."""

from __future__ import annotations

from collections import Counter

from sqlmodel import Session, col, select

from certsvc.db.models import AuditEvent, Licence, LicenceVersion
from tests.support.race import race

TRIALS = 8


def _post(service, lic: dict, action: str, body: dict):
    return lambda: service.client.post(f"/api/v1/licences/{lic['id']}/{action}", headers=service.health.auth, json=body)


def _audited(service, licence_id: str) -> list[AuditEvent]:
    with Session(service.ctx.engine) as s:
        q = select(AuditEvent).where(AuditEvent.subject_id == licence_id).order_by(col(AuditEvent.id))
        return list(s.exec(q))


def _public_status(service, lic: dict) -> str:
    r = service.client.get(lic["verify_url"].removeprefix("http://testserver"), headers={"Accept": "application/json"})
    return r.json()["status"]


def test_of_three_concurrent_revokes_exactly_one_succeeds(service, issue_food) -> None:
    for _ in range(TRIALS):
        lic = issue_food()
        answers = race(*[_post(service, lic, "revoke", {"reason": f"撤销 {k}"}) for k in range(3)])
        assert sorted(r.status_code for r in answers) == [200, 409, 409], [r.text for r in answers]
        revokes = [e for e in _audited(service, lic["id"]) if e.action == "licence.revoke"]
        assert len(revokes) == 1
        winner = next(r for r in answers if r.status_code == 200)
        assert revokes[0].details["reason"] == winner.json()["state_reason"]


def test_revoke_racing_resume_ends_as_the_answers_and_the_audit_say(service, issue_food) -> None:
    for _ in range(TRIALS):
        lic = issue_food()
        assert _post(service, lic, "suspend", {"reason": "整改"})().status_code == 200
        revoke, resume = race(
            _post(service, lic, "revoke", {"reason": "撤销"}), _post(service, lic, "resume", {"reason": "整改完成"})
        )
        assert {revoke.status_code, resume.status_code} <= {200, 409}
        assert 200 in (revoke.status_code, resume.status_code)
        expected = "revoked" if revoke.status_code == 200 else "valid"
        with Session(service.ctx.engine) as s:
            state = s.get(Licence, lic["id"]).state
        assert state == expected, (revoke.text, resume.text)
        changes = [e for e in _audited(service, lic["id"]) if e.action in ("licence.revoke", "licence.resume")]
        assert Counter(e.action for e in changes) == Counter(
            a for a, r in (("licence.revoke", revoke), ("licence.resume", resume)) if r.status_code == 200
        )
        assert [(e.details["from"], e.details["to"]) for e in changes] in (
            [("suspended", "revoked")],
            [("suspended", "valid")],
            [("suspended", "valid"), ("valid", "revoked")],
        )
        assert _public_status(service, lic) == expected


def test_amend_racing_revoke_never_makes_a_version_of_a_revoked_licence(service, issue_food) -> None:
    for _ in range(TRIALS):
        lic = issue_food()
        amend, revoke = race(
            _post(service, lic, "amend", {"fields": {"经营场所": "深圳市福田区深南大道2号"}}),
            _post(service, lic, "revoke", {"reason": "撤销"}),
        )
        assert revoke.status_code == 200, revoke.text
        assert amend.status_code in (200, 409), amend.text
        actions = [e.action for e in _audited(service, lic["id"]) if e.action in ("licence.amend", "licence.revoke")]
        with Session(service.ctx.engine) as s:
            current = s.get(Licence, lic["id"]).current_version
            versions = s.exec(select(LicenceVersion.version).where(LicenceVersion.licence_id == lic["id"])).all()
        if amend.status_code == 200:
            assert actions == ["licence.amend", "licence.revoke"]  # amended first, then revoked
            assert current == 2 and sorted(versions) == [1, 2]
        else:
            assert actions == ["licence.revoke"]
            assert current == 1 and list(versions) == [1]
        assert _public_status(service, amend.json() if amend.status_code == 200 else lic) == "revoked"
