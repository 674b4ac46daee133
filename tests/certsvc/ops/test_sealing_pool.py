"""Sealing in a pool of worker processes gives the same, fully verifiable licences."""

from __future__ import annotations

import time

import pytest

from tests.support.data import food_licence_body
from tests.support.standalone import standalone_service


def test_batch_sealed_in_worker_processes_verifies(tmp_path) -> None:
    with standalone_service(tmp_path, CERTSVC_SIGN_WORKERS="2") as svc:
        assert svc.ctx.sealer.workers == 2
        r = svc.client.post(
            "/api/v1/licences:batch", headers=svc.auth, json={"items": [food_licence_body() for _ in range(6)]}
        )
        assert r.status_code == 200, r.text
        results = r.json()["results"]
        assert all(x["ok"] for x in results)
        assert len({x["number"] for x in results}) == 6
        for lic in results[:3]:
            pdf = svc.pdf(lic)
            svc.assert_valid_seal(pdf)
            v = svc.client.post("/api/v1/verify", files={"file": ("x.pdf", pdf, "application/pdf")}).json()
            assert v["verdict"] == "genuine"


def test_a_licence_too_long_for_its_page_fails_alone_in_worker_processes(tmp_path) -> None:
    from tests.support.data import oversize_food_licence_body

    with standalone_service(tmp_path, CERTSVC_SIGN_WORKERS="2") as svc:
        items = [food_licence_body(), oversize_food_licence_body(), food_licence_body()]
        r = svc.client.post("/api/v1/licences:batch", headers=svc.auth, json={"items": items})
        assert [x["status_code"] for x in r.json()["results"]] == [201, 422, 201]
        single = svc.client.post("/api/v1/licences", headers=svc.auth, json=oversize_food_licence_body())
        assert single.status_code == 422
        assert single.json()["error"]["field"] == "fields"


def _children(pid: int) -> set[int]:
    from pathlib import Path

    kids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.add(int(stat.parent.name))
    return kids


def _alive(pid: int) -> bool:
    from pathlib import Path

    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.once  # worker processes; the database plays no part
def test_sealing_workers_exit_when_the_service_is_killed(tmp_path) -> None:
    import os
    import signal
    import time

    from tests.support.live import free_port, serve, server_env

    port = free_port()
    env = server_env(tmp_path, port)
    env["CERTSVC_SIGN_WORKERS"] = "2"
    server = serve(env, port)
    try:
        workers = _children(server.pid)
        assert len(workers) >= 2  # started (warmed) with the service
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
        deadline = time.monotonic() + 10
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [w for w in workers if _alive(w)]
    finally:
        if server.poll() is None:
            server.kill()


@pytest.mark.once  # worker processes; the database plays no part
def test_sealing_workers_run_at_a_lower_cpu_priority_than_the_web_process(tmp_path) -> None:
    from pathlib import Path

    from certsvc.sealing.pool import WORKER_NICENESS
    from tests.support.live import free_port, serve, server_env

    def nice(pid: int) -> int:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])

    port = free_port()
    env = server_env(tmp_path, port)
    env["CERTSVC_SIGN_WORKERS"] = "2"
    server = serve(env, port)
    try:
        workers = [w for w in _children(server.pid) if "spawn_main" in Path(f"/proc/{w}/cmdline").read_text()]
        assert len(workers) == 2
        deadline = time.monotonic() + 30  # a worker lowers its own priority as it starts: on a busy machine, later
        while not all(nice(w) == nice(server.pid) + WORKER_NICENESS for w in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert all(nice(w) == nice(server.pid) + WORKER_NICENESS for w in workers)
    finally:
        server.kill()
        server.wait(timeout=30)
