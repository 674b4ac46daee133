"""POST /licences:batch: every item issued as if alone, in chunks that share their bookkeeping."""

from __future__ import annotations

from sqlmodel import Session, select

from certsvc import audit
from certsvc.db.models import AuditEvent, Licence, LicenceVersion
from certsvc.licences.issuance import CHUNK_MAX, chunk_size
from tests.support.data import food_licence_body, oversize_food_licence_body


def _batch(service, items: list[dict]) -> list[dict]:
    r = service.client.post("/api/v1/licences:batch", headers=service.health.auth, json={"items": items})
    assert r.status_code == 200, r.text
    return r.json()["results"]


def test_a_licence_too_long_for_one_page_is_refused_with_422_naming_the_fields(service) -> None:
    r = service.client.post("/api/v1/licences", headers=service.health.auth, json=oversize_food_licence_body())
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "fields"
    assert "one A4 page" in r.json()["error"]["message"]


def test_in_a_batch_the_item_too_long_for_a_page_fails_alone(service) -> None:
    results = _batch(service, [food_licence_body(), oversize_food_licence_body(), food_licence_body()])
    assert [x["status_code"] for x in results] == [201, 422, 201]
    assert "one A4 page" in results[1]["error"]["message"]


def test_a_batch_larger_than_a_chunk_issues_every_item_with_its_own_numbers(service) -> None:
    n = 2 * CHUNK_MAX + 3
    results = _batch(service, [food_licence_body() for _ in range(n)])
    assert all(x["ok"] for x in results)
    assert len({x["number"] for x in results}) == n
    assert len({x["identifier"] for x in results}) == n
    with Session(service.ctx.engine) as s:
        ids = [x["id"] for x in results]
        versions = s.exec(select(LicenceVersion).where(LicenceVersion.licence_id.in_(ids))).all()  # type: ignore[attr-defined]
        serials = sorted(lic.serial for lic in s.exec(select(Licence).where(Licence.id.in_(ids))))  # type: ignore[attr-defined]
    assert len({v.status_index for v in versions}) == n
    assert serials == list(range(serials[0], serials[0] + n))  # one reservation for the whole batch


def test_results_come_back_in_the_order_of_the_items(service) -> None:
    names = [f"深圳市第{i}食品商行" for i in range(12)]
    results = _batch(service, [food_licence_body(name=name) for name in names])
    with Session(service.ctx.engine) as s:
        assert [s.get(Licence, x["id"]).holder_name for x in results] == names


def test_each_batch_licence_has_one_issue_event_and_the_audit_chain_holds(service) -> None:
    results = _batch(service, [food_licence_body() for _ in range(CHUNK_MAX + 2)])
    with Session(service.ctx.engine) as s:
        for x in results:
            events = s.exec(select(AuditEvent).where(AuditEvent.subject_id == x["id"])).all()
            assert [e.action for e in events] == ["licence.issue"]
            assert events[0].details["sha256"] == x["sha256"]
        assert audit.verify_chain(s).ok


def test_a_chunk_that_fails_inside_reports_500_for_its_items_only_and_records_nothing(service, monkeypatch) -> None:
    sealer = service.ctx.sealer
    real = sealer.seal_chunk
    calls = []

    async def second_chunk_fails(jobs):
        calls.append(len(jobs))
        if len(calls) == 2:
            raise OSError("disk full")
        return await real(jobs)

    monkeypatch.setattr(sealer, "seal_chunk", second_chunk_fails)
    n = 3 * chunk_size(3 * CHUNK_MAX, sealer.workers)
    bodies = [food_licence_body() for _ in range(n)]
    results = _batch(service, bodies)
    failed = [i for i, x in enumerate(results) if not x["ok"]]
    assert len(failed) == calls[1]
    assert all(results[i]["status_code"] == 500 and results[i]["error"]["code"] == "internal" for i in failed)
    assert "disk full" not in str(results)
    with Session(service.ctx.engine) as s:
        for i in failed:
            held = s.exec(select(Licence).where(Licence.holder_uscc == bodies[i]["holder_uscc"])).all()
            assert held == []


def test_chunks_keep_every_worker_busy_and_stay_small() -> None:
    assert chunk_size(100, 2) == CHUNK_MAX
    assert chunk_size(6, 2) == 2
    assert chunk_size(1, 2) == 1
    assert chunk_size(7, 0) == 4
