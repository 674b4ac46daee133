"""Registration under concurrency: two server processes issuing a business licence for one new
USCC at the same moment give one business licence, one enterprise and one activation code; the
other request is a 409 (issue 11, finding 3)."""

from __future__ import annotations

import subprocess

import httpx

from tests.support.data import business_licence_body, random_uscc
from tests.support.live import CLI, add_department_cli, free_port, server_env, wait_ready
from tests.support.race import race

TRIALS = 3


def test_simultaneous_business_licences_for_one_uscc_register_it_once(tmp_path) -> None:
    ports = [free_port(), free_port()]
    env = server_env(tmp_path, ports[0])
    market = add_department_cli(env, "深圳市市场监督管理局", "SZSJ", registrar=True)
    # two server processes on one database, each pausing between "no business licence yet" and
    # registering: the window in which a read-check-write lets both register
    env = {**env, "CERTSVC_SIGN_WORKERS": "0", "CERTSVC_FAULT_DELAY": "business_licence_checked:0.5"}
    servers = [
        subprocess.Popen(
            [*CLI, "serve", "--port", str(p)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for p in ports
    ]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        for base, server in zip(bases, servers, strict=True):
            wait_ready(base, server)
        with httpx.Client(timeout=120) as http:
            for _ in range(TRIALS):
                uscc = random_uscc()
                body = business_licence_body(uscc)
                answers = race(
                    *[lambda b=b, j=body: http.post(f"{b}/api/v1/licences", headers=market, json=j) for b in bases]
                )
                codes = sorted(r.status_code for r in answers)
                assert codes == [201, 409], [(r.status_code, r.text[:200]) for r in answers]
                winner = next(r.json() for r in answers if r.status_code == 201)
                act = http.post(
                    f"{bases[0]}/api/v1/enterprise/activate",
                    json={"uscc": uscc, "activation_code": winner["activation_code"]},
                )
                assert act.status_code == 200, act.text
                mine = http.get(
                    f"{bases[1]}/api/v1/enterprises/{uscc}/licences", headers=market, params={"purpose": "登记核查"}
                )
                assert mine.status_code == 200, mine.text
                assert [x["id"] for x in mine.json()["items"]] == [winner["id"]], mine.json()
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=60)
