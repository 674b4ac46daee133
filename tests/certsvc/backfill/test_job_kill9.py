"""A back-fill job survives kill -9 of the server: restarted, it completes, and each item is issued
exactly once with its paper number and issue date."""

from __future__ import annotations

import os
import signal
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, col, func, select

from certsvc.db.models import Licence
from certsvc.db.session import make_engine
from tests.support.data import FOOD_LICENCE_TYPE, food_licence_body
from tests.support.live import add_department_cli, free_port, serve, server_env

FIRST_DAY = date(2015, 1, 1)


def _job(base: str, auth: dict, job_id: str) -> dict:
    r = httpx.get(f"{base}/api/v1/licence-jobs/{job_id}", headers=auth, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def _run(tmp_path: Path, n: int) -> None:
    port = free_port()
    env = {**server_env(tmp_path, port), "CERTSVC_JOB_LEASE_S": "4", "CERTSVC_JOBS_INTERVAL_S": "0.2"}
    auth = add_department_cli(env)
    base = f"http://127.0.0.1:{port}"
    numbers = [f"KILL9-{k:06d}" for k in range(n)]
    days = {numbers[k]: FIRST_DAY + timedelta(days=k % 3000) for k in range(n)}
    items = [food_licence_body(number=m, issued_on=days[m].isoformat(), valid_until="2035-12-31") for m in numbers]
    server = serve(env, port)
    try:
        assert httpx.post(f"{base}/api/v1/licence-types", headers=auth, json=FOOD_LICENCE_TYPE).status_code == 201
        r = httpx.post(f"{base}/api/v1/licence-jobs", headers=auth, json={"items": items}, timeout=120)
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]
        deadline = time.monotonic() + 600
        while _job(base, auth, job_id)["done"] < n // 4:  # well into the run
            assert time.monotonic() < deadline, "the job made no progress"
            time.sleep(0.2)
        os.kill(server.pid, signal.SIGKILL)  # kill -9, wherever the runner is
        server.wait(timeout=30)
        killed_at = _count(env, numbers)
        assert 0 < killed_at < n

        server = serve(env, port)  # restarted: the runner takes the job up again
        while (job := _job(base, auth, job_id))["state"] not in ("done", "failed"):
            assert time.monotonic() < deadline, f"the job did not finish: {job}"
            time.sleep(0.5)
        assert (job["state"], job["done"], job["failed"], job["pending"]) == ("done", n, 0, 0)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=30)

    engine = make_engine(env["CERTSVC_DATABASE_URL"])
    with Session(engine) as s:
        rows = s.exec(select(Licence.number, Licence.issued_on).where(col(Licence.number).in_(numbers))).all()
        repeated = s.exec(select(Licence.number).group_by(col(Licence.number)).having(func.count() > 1)).all()
    engine.dispose()
    assert not repeated
    assert len(rows) == n  # each item issued exactly once
    assert {m: d for m, d in rows} == days  # numbers and dates kept


def _count(env: dict[str, str], numbers: list[str]) -> int:
    engine = make_engine(env["CERTSVC_DATABASE_URL"])
    with Session(engine) as s:
        count = s.exec(select(func.count()).where(col(Licence.number).in_(numbers))).one()
    engine.dispose()
    return count


def test_a_job_survives_kill_9_of_the_server_and_issues_each_item_once(tmp_path: Path) -> None:
    _run(tmp_path, 300)


@pytest.mark.slow
def test_a_5000_item_job_survives_kill_9_of_the_server_and_issues_each_item_once(tmp_path: Path) -> None:
    _run(tmp_path, 5000)
