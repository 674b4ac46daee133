"""Event delivery by `certsvc serve` itself: a server killed (SIGKILL) with deliveries pending and in
flight loses none after a restart, and two server processes on one database send each event once
(PostgreSQL: FOR UPDATE SKIP LOCKED and leases; SQLite: leases by compare-and-set)."""

from __future__ import annotations

import os
import signal
import time

import httpx
from sqlmodel import Session, select

from certsvc.db.session import make_engine
from certsvc.db.work import OutboxEvent
from tests.support.data import random_uscc
from tests.support.live import add_department_cli, free_port, serve, server_env
from tests.support.receiver import Receiver, receiving

TYPE = {"code": "GGWS", "name": "公共场所卫生许可证", "fields": [], "validity_days": 1460, "reform_mode": "approval"}


def _issue(base: str, auth: dict[str, str], receiver: Receiver, count: int) -> None:
    with httpx.Client(base_url=base, headers=auth, timeout=120) as c:
        assert c.post("/api/v1/licence-types", json=TYPE).status_code == 201
        sub = c.post("/api/v1/subscriptions", json={"url": receiver.url, "licence_types": ["*"]})
        assert sub.status_code == 201, sub.text
        items = [
            {"licence_type": "GGWS", "holder_uscc": random_uscc(), "holder_name": f"第{i}旅馆"} for i in range(count)
        ]
        r = c.post("/api/v1/licences:batch", json={"items": items})
        assert r.json()["issued"] == count, r.text


def _event_ids(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            return set(s.exec(select(OutboxEvent.id)).all())
    finally:
        engine.dispose()


def _wait_for(receiver: Receiver, wanted: set[str], seconds: float) -> set[str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with receiver.lock:
            got = {r.headers["webhook-id"] for r in receiver.got}
        if got >= wanted:
            return got
        time.sleep(0.2)
    return got


def test_a_server_killed_with_deliveries_pending_delivers_every_event_after_a_restart(tmp_path) -> None:
    port = free_port()
    env = {
        **server_env(tmp_path, port),
        "CERTSVC_EVENTS_INTERVAL_S": "0.1",
        "CERTSVC_EVENTS_TIMEOUT_S": "1",  # a lease (of a killed process) runs out after 12 s
        "CERTSVC_EVENTS_CONCURRENCY": "2",
    }
    auth = add_department_cli(env)
    with receiving(delay=0.4) as receiver:
        proc = serve(env, port)
        try:
            _issue(f"http://127.0.0.1:{port}", auth, receiver, 12)
            deadline = time.monotonic() + 30
            while not receiver.got and time.monotonic() < deadline:  # the first arrives: others are in flight
                time.sleep(0.05)
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        wanted = _event_ids(env["CERTSVC_DATABASE_URL"])
        assert len(wanted) == 12
        before = {r.headers["webhook-id"] for r in receiver.got}
        assert before < wanted  # the kill came before everything was delivered
        proc = serve(env, port)
        try:
            got = _wait_for(receiver, wanted, 45)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    assert got == wanted  # none lost (an event in flight at the kill may arrive twice: at least once)


def test_two_server_processes_deliver_each_event_once(tmp_path) -> None:
    port_a, port_b = free_port(), free_port()
    env = {**server_env(tmp_path, port_a), "CERTSVC_EVENTS_INTERVAL_S": "0.05", "CERTSVC_SIGN_WORKERS": "0"}
    auth = add_department_cli(env)
    with receiving(delay=0.05) as receiver:
        servers = [serve(env, port_a)]
        servers.append(serve({**env, "CERTSVC_PUBLIC_BASE_URL": f"http://127.0.0.1:{port_b}"}, port_b))
        try:
            _issue(f"http://127.0.0.1:{port_a}", auth, receiver, 20)
            wanted = _event_ids(env["CERTSVC_DATABASE_URL"])
            _wait_for(receiver, wanted, 60)
            time.sleep(1.0)  # both dispatchers keep looking: nothing may be sent again
        finally:
            for proc in servers:
                proc.terminate()
                proc.wait(timeout=60)
    ids = [r.headers["webhook-id"] for r in receiver.got]
    assert sorted(ids) == sorted(wanted)  # each once
