"""A listening connection that stops answering does not hold QR scans up: its round trip is given up
after a second, the cache is off, and the scan reads the database (PostgreSQL: the cache exists only
there)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from tests.support.service import Service, running_service

pytestmark = pytest.mark.skipif(
    not os.environ.get("CERTSVC_TEST_DATABASE_URL"),
    reason="the cache and its listening connection exist on PostgreSQL only",
)
JSON = {"Accept": "application/json"}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with running_service(tmp_path_factory.mktemp("certsvc"), CERTSVC_SIGN_WORKERS="0") as svc:
        yield svc


def scan(service: Service, token: str) -> str:
    r = service.client.get(f"/v/{token}", headers=JSON)
    assert r.status_code == 200, r.text
    return r.json()["status"]


def listener_pid(service: Service) -> int:
    engine = create_engine(service.ctx.settings.database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as c:
            pids = c.execute(
                text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE application_name = 'certsvc-view-cache' AND datname = current_database()"
                )
            ).all()
    finally:
        engine.dispose()
    assert len(pids) == 1
    return int(pids[0][0])


def test_a_stopped_listening_backend_does_not_hold_a_scan_up(service: Service) -> None:
    lic = service.issue_food()
    token = lic["verify_url"].rsplit("/v/", 1)[1]
    assert [scan(service, token) for _ in range(3)] == ["valid"] * 3  # read, stored, served from the cache
    pid = listener_pid(service)
    os.kill(pid, signal.SIGSTOP)  # the backend stops answering, its connection stays open
    resume = threading.Timer(8, os.kill, (pid, signal.SIGCONT))  # so that a hung scan fails, not hangs
    resume.start()
    try:
        r = service.client.post(
            f"/api/v1/licences/{lic['id']}/suspend", headers=service.health.auth, json={"reason": "现场检查 (test)"}
        )
        assert r.status_code == 200, r.text
        started = time.monotonic()
        assert scan(service, token) == "suspended"
        assert time.monotonic() - started < 2
        started = time.monotonic()
        assert scan(service, token) == "suspended"  # the cache is off: no waiting at all
        assert time.monotonic() - started < 1
    finally:
        resume.cancel()
        os.kill(pid, signal.SIGCONT)
