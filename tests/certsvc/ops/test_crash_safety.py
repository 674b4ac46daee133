"""kill -9 during a batch of issuances: every licence is either fully issued or not at all, and
`certsvc repair` removes what a killed process left behind."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from certsvc.db.models import AuditEvent, Licence, LicenceVersion
from certsvc.db.session import make_engine
from tests.support.data import FOOD_LICENCE_TYPE, food_licence_body
from tests.support.live import CLI, add_department_cli, free_port, serve, server_env


def _issue_batches(base: str, auth: dict, stop: threading.Event, sent: list[int]) -> None:
    with httpx.Client(base_url=base, headers=auth, timeout=60) as c:
        while not stop.is_set():
            try:
                c.post("/api/v1/licences:batch", json={"items": [food_licence_body() for _ in range(10)]})
                sent.append(10)
            except httpx.HTTPError:
                return


@pytest.mark.parametrize("kill_after_s", [0.7, 1.6, 2.9])
def test_kill_9_during_batch_issuance_leaves_nothing_half_issued(tmp_path: Path, kill_after_s: float) -> None:
    port = free_port()
    env = server_env(tmp_path, port)
    auth = add_department_cli(env)
    server = serve(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        assert httpx.post(f"{base}/api/v1/licence-types", headers=auth, json=FOOD_LICENCE_TYPE).status_code == 201
        stop, sent = threading.Event(), []
        worker = threading.Thread(target=_issue_batches, args=(base, auth, stop, sent))
        worker.start()
        time.sleep(kill_after_s)
        os.kill(server.pid, signal.SIGKILL)  # kill -9, wherever issuance is
        server.wait(timeout=30)
        stop.set()
        worker.join(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()

    repair = subprocess.run([*CLI, "repair", "--grace", "0"], env=env, capture_output=True, text=True, timeout=120)
    assert repair.returncode == 0, repair.stdout + repair.stderr
    engine = make_engine(env["CERTSVC_DATABASE_URL"])
    blobs = tmp_path / "blobs"
    with Session(engine) as s:
        licences = s.exec(select(Licence)).all()
        versions = {v.licence_id: v for v in s.exec(select(LicenceVersion))}
        issued_events = {e.subject_id for e in s.exec(select(AuditEvent).where(AuditEvent.action == "licence.issue"))}
    engine.dispose()
    stored = {p.name for p in blobs.glob("*/*/*") if not p.name.startswith(".")}
    assert not list(blobs.glob("*/*/.*.tmp"))
    for lic in licences:  # every record is complete: version, blob with the right hash, audit event
        ver = versions[lic.id]
        data = (blobs / ver.pdf_sha256[:2] / ver.pdf_sha256[2:4] / ver.pdf_sha256).read_bytes()
        assert hashlib.sha256(data).hexdigest() == ver.pdf_sha256
        assert lic.id in issued_events
    assert stored == {v.pdf_sha256 for v in versions.values()}  # no blob without a record
    chain = subprocess.run([*CLI, "audit", "verify"], env=env, capture_output=True, text=True, timeout=120)
    assert chain.returncode == 0, chain.stderr

    server = serve(env, port)  # restarted: QR pages of what survived work
    try:
        for lic in licences[:5]:
            r = httpx.get(f"{base}/v/{versions[lic.id].qr_payload}", headers={"Accept": "application/json"})
            assert r.status_code == 200 and r.json()["number"] == lic.number
    finally:
        server.kill()
        server.wait(timeout=30)
    print(
        json.dumps(
            {
                "kill_after_s": kill_after_s,
                "batches_answered": len(sent),
                "licences": len(licences),
                "repair": repair.stdout,
            },
            ensure_ascii=False,
        )
    )


@pytest.mark.parametrize(("fault", "orphans"), [("after_reserve", 0), ("after_blob", 1)])
def test_crash_at_the_worst_points_is_repaired(tmp_path: Path, fault: str, orphans: int) -> None:
    port = free_port()
    env = server_env(tmp_path, port)
    auth = add_department_cli(env)
    base = f"http://127.0.0.1:{port}"
    server = serve({**env, "CERTSVC_FAULT": fault}, port)
    try:
        assert httpx.post(f"{base}/api/v1/licence-types", headers=auth, json=FOOD_LICENCE_TYPE).status_code == 201
        with pytest.raises(httpx.HTTPError):
            httpx.post(f"{base}/api/v1/licences", headers=auth, json=food_licence_body(), timeout=60)
        assert server.wait(timeout=30) == -signal.SIGKILL
    finally:
        if server.poll() is None:
            server.kill()
    repair = subprocess.run([*CLI, "repair", "--grace", "0"], env=env, capture_output=True, text=True, timeout=120)
    assert repair.returncode == 0
    assert f"orphan blobs removed: {orphans}" in repair.stdout
    engine = make_engine(env["CERTSVC_DATABASE_URL"])
    with Session(engine) as s:
        assert s.exec(select(Licence)).all() == []
    engine.dispose()
    assert not [p for p in (tmp_path / "blobs").glob("*/*/*")]
    server = serve(env, port)  # after the restart the next issuance is complete and unique
    try:
        r = httpx.post(f"{base}/api/v1/licences", headers=auth, json=food_licence_body(), timeout=60)
        assert r.status_code == 201 and r.json()["number"].endswith("2")  # serial 1 was used up
    finally:
        server.kill()
        server.wait(timeout=30)
    print(json.dumps({"fault": fault, "repair": repair.stdout}, ensure_ascii=False))
