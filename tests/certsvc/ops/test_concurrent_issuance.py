"""Two processes issuing at once never hand out the same serial or status-list index."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os

from sqlmodel import Session, select

from certsvc.db.models import Licence, LicenceVersion

PER_PROCESS = 12


def _issue_many(env: dict[str, str], dept_id: int, out: mp.Queue) -> None:
    os.environ.update(env)
    from certsvc.context import Context
    from certsvc.core.config import load_settings
    from certsvc.db.models import Department
    from certsvc.licences import issuance as svc
    from tests.support.data import food_licence_body

    ctx = Context(load_settings())
    with Session(ctx.engine) as s:
        dept = s.get(Department, dept_id)

    async def run() -> list[str]:
        numbers = []
        for _ in range(PER_PROCESS):
            body = food_licence_body()
            issued = await svc.issue(ctx, dept, svc.IssueRequest(**body))
            numbers.append(issued.licence.number)
        return numbers

    out.put(asyncio.run(run()))


def test_parallel_processes_get_distinct_serials_and_status_indexes(service) -> None:
    env = {k: v for k, v in os.environ.items() if k.startswith("CERTSVC_")}
    q: mp.Queue = mp.get_context("spawn").Queue()
    procs = [mp.get_context("spawn").Process(target=_issue_many, args=(env, service.health.id, q)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [q.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    numbers = results[0] + results[1]
    assert len(numbers) == len(set(numbers)) == 2 * PER_PROCESS
    with Session(service.ctx.engine) as s:
        serials = [(lic.licence_type_id, lic.serial) for lic in s.exec(select(Licence))]
        indexes = list(s.exec(select(LicenceVersion.status_index)))
    assert len(serials) == len(set(serials))
    assert len(indexes) == len(set(indexes))
