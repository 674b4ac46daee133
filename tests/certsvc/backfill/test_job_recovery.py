"""Back-fill jobs recover from what goes wrong around them: a process dying before it finished a
job, jobs whose items others hold, a number taken meanwhile, a failure of the service's own, an
over-long number; and a paper number in the service's own format never breaks later issuance.
The runner is off here: the test plays the processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert
from sqlmodel import Session, col, func, select

from certsvc.backfill import runner
from certsvc.core.clock import now, today
from certsvc.db.models import AuditEvent
from certsvc.db.work import LicenceJob, LicenceJobItem
from tests.support.data import food_licence_body
from tests.support.service import Service, running_service

JOBS = "/api/v1/licence-jobs"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with running_service(tmp_path_factory.mktemp("certsvc"), CERTSVC_JOBS_INTERVAL_S="0") as svc:
        yield svc


def submit(service: Service, items: list[dict]) -> str:
    r = service.client.post(JOBS, headers=service.health.auth, json={"items": items})
    assert r.status_code == 202, r.text
    return r.json()["id"]


def status(service: Service, job_id: str) -> dict:
    return service.client.get(f"{JOBS}/{job_id}", headers=service.health.auth).json()


def results(service: Service, job_id: str) -> list[dict]:
    return service.client.get(f"{JOBS}/{job_id}/results", headers=service.health.auth).json()["items"]


def work(service: Service, job_id: str, at_s: float = 0) -> None:
    """One process claims the job's items (``at_s`` seconds from now) and works them."""
    c = runner.claim(service.ctx.engine, now() + timedelta(seconds=at_s), 30, job_id=job_id)
    assert c is not None
    service.client.portal.call(runner.work, service.ctx, c)  # type: ignore[union-attr]


def run_once(service: Service, job_id: str | None = None) -> int:
    return service.client.portal.call(runner.run_once, service.ctx, job_id)  # type: ignore[union-attr]


def test_a_job_whose_finisher_died_after_its_last_item_is_finished_by_the_next_run(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = submit(service, [food_licence_body(number="RECOVER-A-1")])
    finish = runner._finish

    def dies(*args: Any) -> int:  # the process dies between the last item and the job's end
        monkeypatch.setattr(runner, "_finish", finish)
        raise RuntimeError("killed")

    monkeypatch.setattr(runner, "_finish", dies)
    with pytest.raises(RuntimeError):
        work(service, job_id)
    seen = status(service, job_id)
    assert (seen["state"], seen["done"], seen["pending"]) == ("running", 1, 0)

    assert run_once(service, job_id) == 0
    assert status(service, job_id)["state"] == "done"
    assert run_once(service) == 0  # once only
    with Session(service.ctx.engine) as s:
        q = select(func.count()).where(AuditEvent.action == "licence_job.done", AuditEvent.subject_id == job_id)
        assert s.exec(q).one() == 1


def test_jobs_whose_items_others_hold_do_not_starve_a_new_job(service: Service) -> None:
    held = now() + timedelta(hours=1)
    busy = [f"{k:032d}" for k in range(150)]  # older than any other job, every item leased elsewhere
    with Session(service.ctx.engine) as s:
        s.execute(
            insert(LicenceJob),
            [
                {"id": j, "department_id": service.health.id, "state": "running", "total": 1, "created_at": now()}
                for j in busy
            ],
        )
        s.execute(
            insert(LicenceJobItem),
            [
                {"job_id": j, "seq": 0, "body": "{}", "state": "pending", "lease_until": held, "lease_token": "x" * 32}
                for j in busy
            ],
        )
        s.commit()
    try:
        job_id = submit(service, [food_licence_body(number="RECOVER-B-1")])
        c = runner.claim(service.ctx.engine, now(), 30)
        assert c is not None and c.job_id == job_id
    finally:
        with Session(service.ctx.engine) as s:
            s.execute(delete(LicenceJobItem).where(col(LicenceJobItem.job_id).in_(busy)))
            s.execute(delete(LicenceJob).where(col(LicenceJob.id).in_(busy)))
            s.commit()


def test_a_number_taken_while_a_chunk_was_worked_fails_its_item_as_409(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = submit(service, [food_licence_body(number="RECOVER-C-1"), food_licence_body(number="RECOVER-C-2")])
    rival = submit(service, [food_licence_body(number="RECOVER-C-1")])
    checked = runner._numbers_taken

    def then_the_rival_issues(*args: Any) -> None:  # another process records the number right after the check
        monkeypatch.setattr(runner, "_numbers_taken", checked)
        checked(*args)
        c = runner.claim(service.ctx.engine, now(), 30, job_id=rival)
        assert c is not None
        service.client.portal.call(runner.work, service.ctx, c)  # type: ignore[union-attr]

    monkeypatch.setattr(runner, "_numbers_taken", then_the_rival_issues)
    work(service, job_id)
    assert status(service, rival)["done"] == 1
    first, second = results(service, job_id)
    assert (first["state"], first["status_code"], first["error"]["field"]) == ("failed", 409, "number")
    assert "RECOVER-C-1 is already the number of a licence" in first["error"]["message"]
    assert (second["state"], second["number"]) == ("done", "RECOVER-C-2")
    assert status(service, job_id)["state"] == "done"


def failing_sealer(service: Service, monkeypatch: pytest.MonkeyPatch, times: int) -> None:
    """The sealing workers fail ``times`` times (a worker or the database away for a moment)."""
    sealer = service.ctx.sealer
    seal_chunk: Callable[..., Any] = sealer.seal_chunk
    left = [times]

    async def flaky(*args: Any) -> Any:
        if left[0] > 0:
            left[0] -= 1
            raise OSError("worker lost")
        return await seal_chunk(*args)

    monkeypatch.setattr(sealer, "seal_chunk", flaky)


def test_an_item_failing_for_the_service_s_own_reason_is_tried_again(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = submit(service, [food_licence_body(number="RECOVER-D-1")])
    failing_sealer(service, monkeypatch, times=2)  # the chunk, then the item on its own
    work(service, job_id)
    seen = status(service, job_id)
    assert (seen["state"], seen["pending"], seen["failed"]) == ("running", 1, 0)
    assert runner.claim(service.ctx.engine, now(), 30, job_id=job_id) is None  # it waits a moment first
    work(service, job_id, at_s=runner.RETRY_AFTER_S + 1)
    (item,) = results(service, job_id)
    assert (item["state"], item["number"]) == ("done", "RECOVER-D-1")
    assert status(service, job_id)["state"] == "done"


def test_an_item_failing_for_the_service_s_own_reason_three_times_fails_as_500(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = submit(service, [food_licence_body(number="RECOVER-E-1")])
    failing_sealer(service, monkeypatch, times=2 * runner.MAX_ATTEMPTS)
    for attempt in range(runner.MAX_ATTEMPTS):
        work(service, job_id, at_s=attempt * 10 * runner.RETRY_AFTER_S)
    (item,) = results(service, job_id)
    assert (item["state"], item["status_code"]) == ("failed", 500)
    assert status(service, job_id)["state"] == "done"


def test_an_over_long_number_fails_its_item_alone_as_422(service: Service) -> None:
    job_id = submit(service, [food_licence_body(number="N" * 65), food_licence_body(number="RECOVER-F-1")])
    work(service, job_id)
    long, fine = results(service, job_id)
    assert (long["state"], long["status_code"], long["error"]["field"]) == ("failed", 422, "number")
    assert "64 characters" in long["error"]["message"]
    assert fine["state"] == "done"


def test_a_paper_number_in_the_service_s_own_format_is_skipped_by_later_issuance(service: Service) -> None:
    first = service.issue_food()["number"]
    serial = int(first[-8:])
    prefix = f"SPJYSZWJ{today().year}"
    assert first == f"{prefix}{serial:08d}"
    # the back-filled item draws serial + 1 for its identifier; ordinary issuance would next make + 2, + 3
    job_id = submit(service, [food_licence_body(number=f"{prefix}{serial + 3:08d}")])
    work(service, job_id)
    assert results(service, job_id)[0]["state"] == "done"
    numbers = [service.issue_food()["number"] for _ in range(2)]  # each 201
    assert numbers == [f"{prefix}{serial + 2:08d}", f"{prefix}{serial + 4:08d}"]
