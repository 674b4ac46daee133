"""Grants under concurrency: downloads through one share link count exactly once each, also across server
processes: with ``max_downloads=k``, exactly k of N simultaneous downloads succeed (issue 11,
finding 3)."""

from __future__ import annotations

import subprocess

import httpx

from tests.support.data import business_licence_body, random_uscc
from tests.support.live import CLI, add_department_cli, free_port, server_env, wait_ready
from tests.support.race import race

TRIALS = 4
RACERS = 8
LIMIT = 3


def test_n_simultaneous_downloads_of_a_k_download_grant_give_exactly_k_copies(tmp_path) -> None:
    port = free_port()
    env = server_env(tmp_path, port)
    market = add_department_cli(env, "深圳市市场监督管理局", "SZSJ", registrar=True)
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--workers", "2"],
        env={**env, "CERTSVC_SIGN_WORKERS": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, server)
        uscc = random_uscc()
        bl = httpx.post(f"{base}/api/v1/licences", headers=market, json=business_licence_body(uscc), timeout=120)
        assert bl.status_code == 201, bl.text
        act = httpx.post(
            f"{base}/api/v1/enterprise/activate", json={"uscc": uscc, "activation_code": bl.json()["activation_code"]}
        )
        ent = {"Authorization": f"Bearer {act.json()['token']}"}
        for _ in range(TRIALS):
            body = {
                "licence_ids": [bl.json()["id"]],
                "grantee_name": "中国银行深圳分行",
                "purpose": "开立对公账户",
                "max_downloads": LIMIT,
            }
            g = httpx.post(f"{base}/api/v1/enterprise/grants", headers=ent, json=body)
            assert g.status_code == 201, g.text
            url = f"{g.json()['share_url']}/licences/{bl.json()['id']}.pdf"
            with httpx.Client(timeout=120) as http:
                answers = race(*[lambda u=url: http.get(u) for _ in range(RACERS)])
            codes = sorted(r.status_code for r in answers)
            assert codes == [200] * LIMIT + [410] * (RACERS - LIMIT), codes
            listed = httpx.get(f"{base}/api/v1/enterprise/grants", headers=ent).json()["items"]
            mine = next(x for x in listed if x["id"] == g.json()["id"])
            assert mine["downloads"] == LIMIT and mine["state"] == "exhausted"
    finally:
        server.terminate()
        server.wait(timeout=60)


def test_simultaneous_revocations_of_a_grant_are_one_revocation(service, ent, grant) -> None:
    from sqlmodel import Session, select

    from certsvc.db.models import AuditEvent

    for _ in range(5):
        g = grant()
        answers = race(
            *[
                lambda: service.client.delete(f"/api/v1/enterprise/grants/{g['id']}", headers=ent.auth)  # noqa: B023
                for _ in range(4)
            ]
        )
        assert {r.status_code for r in answers} == {200}
        assert {r.json()["state"] for r in answers} == {"revoked"}
        with Session(service.ctx.engine) as s:
            events = s.exec(
                select(AuditEvent).where(AuditEvent.action == "grant.revoke", AuditEvent.subject_id == g["id"])
            ).all()
        assert len(events) == 1
