"""`certsvc serve --workers 2`: several processes behind one port share nothing in memory."""

from __future__ import annotations

import concurrent.futures
import subprocess

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.data import FOOD_LICENCE_TYPE, food_licence_body
from tests.support.live import CLI, add_department_cli, free_port, server_env, wait_ready


def test_two_server_processes_issue_and_count_together(tmp_path) -> None:
    port = free_port()
    env = server_env(tmp_path, port)
    auth = add_department_cli(env)
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--workers", "2"],
        env={**env, "CERTSVC_SIGN_WORKERS": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, server)
        assert httpx.post(f"{base}/api/v1/licence-types", headers=auth, json=FOOD_LICENCE_TYPE).status_code == 201

        def issue(_i: int) -> dict:
            r = httpx.post(f"{base}/api/v1/licences", headers=auth, json=food_licence_body(), timeout=120)
            assert r.status_code == 201, r.text
            return r.json()

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            issued = list(pool.map(issue, range(16)))
        assert len({x["number"] for x in issued}) == 16
        for lic in issued[:4]:  # any process answers for any licence
            assert httpx.get(lic["verify_url"], headers={"Accept": "application/json"}).json()["status"] == "valid"
        text = httpx.get(f"{base}/metrics").text
        total = sum(
            s.value
            for fam in text_string_to_metric_families(text)
            for s in fam.samples
            if s.name == "certsvc_issuances_total" and s.labels.get("kind") == "licence"
        )
        assert total == 16  # summed over both processes
    finally:
        server.terminate()
        server.wait(timeout=60)
