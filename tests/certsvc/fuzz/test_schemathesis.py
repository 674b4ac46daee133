"""Schemathesis against a real server (`certsvc serve`): every operation of the OpenAPI document,
in its coverage, fuzzing and stateful phases, anonymous, as a department and as an enterprise —
no answer is a 5xx.

The path parameters are drawn, most of the time, from real identifiers (licences, grants, share
and QR tokens, receipts) so that the fuzzer reaches the logic behind the 404s. The run is seeded
(``CERTSVC_FUZZ_SEED``, default fixed so CI is repeatable; ``random`` for a fresh one) and short
(``CERTSVC_FUZZ_EXAMPLES`` per operation); bench/README.md shows the long campaign.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.data import FOOD_LICENCE_TYPE, business_licence_body, food_licence_body, random_uscc
from tests.support.live import add_department_cli, free_port, serve, server_env
from tests.support.paths import REPO

pytestmark = pytest.mark.fuzz

SEED = os.environ.get("CERTSVC_FUZZ_SEED", "20261201")
MAX_EXAMPLES = os.environ.get("CERTSVC_FUZZ_EXAMPLES", "15")  # CI; a campaign sets more


@dataclass
class Target:
    base: str
    market: str
    health: str
    enterprise: str
    config: Path


def _department(env: dict[str, str], name: str, code: str, *, registrar: bool = False) -> str:
    """The new department's API key (the CLI prints it last)."""
    header = add_department_cli(env, name, code, registrar=registrar)["Authorization"]
    return header.removeprefix("Bearer ")


def _token(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1]


def _seed_data(base: str, market: str, health: str) -> tuple[str, dict[str, list[str]]]:
    """Real things to point the fuzzer at; returns the enterprise's token and the dictionaries."""
    m = {"Authorization": f"Bearer {market}"}
    h = {"Authorization": f"Bearer {health}"}
    with httpx.Client(base_url=base, timeout=60) as c:
        assert c.post("/api/v1/licence-types", headers=h, json=FOOD_LICENCE_TYPE).status_code == 201
        uscc = random_uscc()
        bl = c.post("/api/v1/licences", headers=m, json=business_licence_body(uscc)).json()
        food = c.post("/api/v1/licences", headers=h, json=food_licence_body(uscc)).json()
        spare = c.post("/api/v1/licences", headers=h, json=food_licence_body()).json()
        act = c.post("/api/v1/enterprise/activate", json={"uscc": uscc, "activation_code": bl["activation_code"]})
        ent = act.json()["token"]
        e = {"Authorization": f"Bearer {ent}"}
        grant = c.post(
            "/api/v1/enterprise/grants",
            headers=e,
            json={"all_current": True, "grantee_name": "中国银行深圳分行", "purpose": "贷款审查", "max_downloads": 50},
        ).json()
        receipt = c.post(
            "/api/v1/receipts",
            headers=h,
            json={
                "applicant_name": "深圳市鹏城科技有限公司",
                "applicant_uscc": uscc,
                "matter": "食品经营许可",
                "application_number": "SL2026-0001",
                "materials_received": ["申请书"],
                "materials_missing": [],
            },
        ).json()
    tokens = [_token(bl["verify_url"]), _token(food["verify_url"]), _token(grant["share_url"])]
    if "verify_url" in receipt:
        tokens.append(_token(receipt["verify_url"]))
    dictionaries = {
        "licence_id": [bl["id"], food["id"], spare["id"]],
        "grant_id": [grant["id"]],
        "receipt_id": [receipt["id"]] if "id" in receipt else ["0"],
        "token": tokens,
        "uscc": [uscc],
    }
    return ent, dictionaries


def _write_config(path: Path, dictionaries: dict[str, list[str]]) -> None:
    lines = []
    for name, values in dictionaries.items():
        lines.append(f"[dictionaries.{name}]\nvalues = {json.dumps(values)}\n")
    lines.append("[parameters]")
    for name in dictionaries:
        lines.append(f'"path.{name}" = {{ dictionary = "{name}", probability = 0.7 }}')
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    data = tmp_path_factory.mktemp("fuzz")
    port = free_port()
    env = server_env(data, port)
    market = _department(env, "深圳市市场监督管理局", "SZSJ", registrar=True)
    health = _department(env, "深圳市卫生健康委员会", "SZWJ")
    proc = serve(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        ent, dictionaries = _seed_data(base, market, health)
        config = data / "schemathesis.toml"
        _write_config(config, dictionaries)
        yield Target(base, market, health, ent, config)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _fuzz(t: Target, token: str | None, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(t.config),
        "run",
        f"{t.base}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        MAX_EXAMPLES,
        "--workers",
        "1",  # hypothesis describes filters with ast.parse, which CPython 3.11 cannot run in two threads at once
        "--continue-on-failure",
        "--request-timeout",
        "30",
        "--no-color",
    ]
    if SEED != "random":
        cmd += ["--seed", SEED]
    if token:
        cmd += ["--header", f"Authorization: Bearer {token}"]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.certsvc.fuzz.hooks",
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "HOME": str(tmp_path),
    }
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)


def _assert_no_server_error(run: subprocess.CompletedProcess[str]) -> None:
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-8000:]
    assert "Stateful" in out and "Fuzzing" in out, out[-3000:]


def test_anonymous_callers_never_get_a_server_error(target: Target, tmp_path: Path) -> None:
    _assert_no_server_error(_fuzz(target, None, tmp_path))


def test_a_department_never_gets_a_server_error(target: Target, tmp_path: Path) -> None:
    _assert_no_server_error(_fuzz(target, target.health, tmp_path))


def test_an_enterprise_never_gets_a_server_error(target: Target, tmp_path: Path) -> None:
    """Before the registrar's run, which may revoke the enterprise's business licence (and its token)."""
    _assert_no_server_error(_fuzz(target, target.enterprise, tmp_path))


def test_the_registrar_never_gets_a_server_error(target: Target, tmp_path: Path) -> None:
    _assert_no_server_error(_fuzz(target, target.market, tmp_path))
