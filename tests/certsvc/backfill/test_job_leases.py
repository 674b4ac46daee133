"""Back-fill items are claimed with leases: processes share a job, and an item is issued once even
when a process's lease runs out and another takes its items over (the runner is off here; the test
plays the processes)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session, col, func, select

from certsvc.backfill import runner
from certsvc.core.clock import now
from certsvc.db.models import Licence
from certsvc.db.work import LicenceJobItem
from tests.support.data import food_licence_body
from tests.support.service import Service, running_service

JOBS = "/api/v1/licence-jobs"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with running_service(tmp_path_factory.mktemp("certsvc"), CERTSVC_JOBS_INTERVAL_S="0") as svc:
        yield svc


def submit(service: Service, numbers: list[str]) -> str:
    items = [food_licence_body(number=n) for n in numbers]
    r = service.client.post(JOBS, headers=service.health.auth, json={"items": items})
    assert r.status_code == 202, r.text
    return r.json()["id"]


def licences_numbered(service: Service, numbers: list[str]) -> int:
    with Session(service.ctx.engine) as s:
        return s.exec(select(func.count()).where(col(Licence.number).in_(numbers))).one()


def test_two_claims_at_once_get_different_items(service: Service) -> None:
    job_id = submit(service, [f"LEASE-A-{k}" for k in range(10)])
    at = now()
    first = runner.claim(service.ctx.engine, at, 30, limit=4, job_id=job_id)
    second = runner.claim(service.ctx.engine, at, 30, limit=4, job_id=job_id)
    assert first is not None and second is not None
    assert len(first.items) == len(second.items) == 4
    assert not {seq for _, seq, _ in first.items} & {seq for _, seq, _ in second.items}
    assert service.client.get(f"{JOBS}/{job_id}", headers=service.health.auth).json()["state"] == "running"


def test_an_item_whose_lease_was_taken_over_is_issued_once_by_the_new_holder(service: Service) -> None:
    numbers = [f"LEASE-B-{k}" for k in range(3)]
    job_id = submit(service, numbers)
    slow = runner.claim(service.ctx.engine, now(), 1, job_id=job_id)
    later = runner.claim(service.ctx.engine, now() + timedelta(seconds=2), 30, job_id=job_id)  # the lease ran out
    assert slow is not None and later is not None
    assert [seq for _, seq, _ in later.items] == [seq for _, seq, _ in slow.items] == [0, 1, 2]

    service.client.portal.call(runner.work, service.ctx, slow)  # type: ignore[union-attr]
    assert licences_numbered(service, numbers) == 0  # its transactions found the items no longer its own
    with Session(service.ctx.engine) as s:
        states = s.exec(select(LicenceJobItem.state).where(LicenceJobItem.job_id == job_id)).all()
    assert states == ["pending"] * 3

    service.client.portal.call(runner.work, service.ctx, later)  # type: ignore[union-attr]
    assert licences_numbered(service, numbers) == 3
    job = service.client.get(f"{JOBS}/{job_id}", headers=service.health.auth).json()
    assert (job["state"], job["done"], job["failed"]) == ("done", 3, 0)


def test_a_finished_item_is_not_claimed_again(service: Service) -> None:
    job_id = submit(service, ["LEASE-C-0"])
    c = runner.claim(service.ctx.engine, now(), 30, job_id=job_id)
    assert c is not None
    service.client.portal.call(runner.work, service.ctx, c)  # type: ignore[union-attr]
    assert runner.claim(service.ctx.engine, now() + timedelta(hours=1), 30, job_id=job_id) is None
